"""``ar-translate models list | verify | card | pull | update | install | rollback``."""

from __future__ import annotations

import argparse
import sys

from edge.errors import ModelNotFound, PullError
from models.catalog import PACKAGE_DIR, find, load_catalog, verify


def run(args: argparse.Namespace) -> int:
    command = args.models_command
    if command == "list":
        for entry in load_catalog():
            state = "shipped" if entry.shipped else ("installed" if entry.installed() else "pullable")
            langs = "→".join(entry.languages) if entry.kind == "translator" else ",".join(entry.languages)
            print(f"{entry.name:30} {entry.kind:12} {langs:8} {entry.format:11} {state:9} {entry.version or '-':11} "
                  f"{entry.size_mb:6.1f} MB  {entry.licence}")
        return 0
    if command == "verify":
        entries = [find(n) for n in args.names] if args.names else [e for e in load_catalog() if e.installed()]
        failed = False
        for entry in entries:
            problems = verify(entry)
            print(f"{entry.name}: {'FAILED' if problems else 'ok'}")
            for problem in problems:
                print(f"error: {problem}", file=sys.stderr)
            failed = failed or bool(problems)
        return 1 if failed else 0
    if command == "card":
        entry = find(args.name)
        if not entry.card or not (PACKAGE_DIR / entry.card).is_file():
            raise ModelNotFound(f"model '{entry.name}' has no model card")
        print((PACKAGE_DIR / entry.card).read_text(encoding="utf-8"))
        return 0
    if command == "pull":
        from models.pull import pull

        entry = pull(args.name, args.url, args.sha256, args.index, progress=not args.quiet,
                     max_bytes=int(args.max_size * 1e6), insecure=args.insecure)
        print(f"installed {entry.name} ({entry.kind}, {'→'.join(entry.languages)}) in {entry.folder()}")
        return 0
    if command == "update":
        return _update(args)
    if command == "install":
        from models.update import install_file

        result = install_file(args.file, args.max_rss_mb, args.during_run)
        _print_result(result, "installed")
        return 0 if result.ok else 1
    if command == "rollback":
        from models.update import rollback

        print(f"{args.name}: now {rollback(args.name, args.during_run)}")
        return 0
    raise AssertionError(command)


def _update(args: argparse.Namespace) -> int:
    import os

    from models.update import UpdateOptions, update

    if not args.cloud_url:
        raise PullError("give the service with --cloud-url (or $AR_TRANSLATE_CLOUD_URL)")
    options = UpdateOptions(args.cloud_url, token=os.environ.get("AR_TRANSLATE_CLOUD_TOKEN"), ca_bundle=args.cloud_ca,
                            max_bytes=int(args.max_size * 1e6), max_rss_mb=args.max_rss_mb, names=args.names,
                            bundles=not args.no_bundles, during_run=args.during_run, progress=not args.quiet)
    results, bundles = update(options)
    for result in results:
        _print_result(result, "updated")
    if not results:
        print("models: up to date")
    for line in bundles:
        print(line)
    return 0 if all(r.ok for r in results) else 1


def _print_result(result, done: str) -> None:
    """One line per model an update or an install handled: on stdout when it went through, else stderr."""
    print(f"{result.name}: {done if result.ok else 'FAILED'} {result.old or '-'} -> {result.new}: {result.detail}",
          file=sys.stdout if result.ok else sys.stderr)
