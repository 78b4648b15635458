"""``ar-translate models list | verify | card | pull``."""

from __future__ import annotations

import argparse
import sys

from edge.errors import ModelNotFound
from models.catalog import PACKAGE_DIR, find, load_catalog, verify


def run(args: argparse.Namespace) -> int:
    command = args.models_command
    if command == "list":
        for entry in load_catalog():
            state = "shipped" if entry.shipped else ("installed" if entry.installed() else "pullable")
            langs = "→".join(entry.languages) if entry.kind == "translator" else ",".join(entry.languages)
            print(f"{entry.name:30} {entry.kind:12} {langs:8} {entry.format:11} {state:9} "
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
    raise AssertionError(command)
