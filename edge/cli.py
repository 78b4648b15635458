"""The ``ar-translate`` command line (also ``python -m edge``).

Exit codes: 0 ok, 2 usage error (bad arguments, unknown language pair), 1 runtime error with a
one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from edge.errors import ArTranslateError


def _run_options(args: argparse.Namespace, input: str, realtime: bool, progress: bool):
    """``ReplayOptions`` from the flags ``replay`` and ``live`` share (``_add_run_flags``)."""
    from edge.replay import ReplayOptions

    return ReplayOptions(input=input, source=args.source, target=args.target, events=args.events,
                         output=args.output, ocr_only=args.ocr_only, max_frames=args.max_frames, realtime=realtime,
                         profile=args.profile, cores=args.cores, memory_budget_mb=args.memory_budget_mb,
                         translation_cache=args.translation_cache, offline=args.offline, cloud_url=args.cloud_url,
                         cloud_budget_ms=args.cloud_budget_ms, cloud_ca=args.cloud_ca, progress=progress,
                         sequence=getattr(args, "sequence", False), telemetry=args.telemetry,
                         telemetry_budget_kb=args.telemetry_budget_kb, blocks=not args.no_blocks,
                         pace=args.pace)


def _replay(args: argparse.Namespace) -> int:
    from edge.replay import print_summary, replay

    options = _run_options(args, args.input, realtime=args.realtime, progress=not args.quiet)
    print_summary(replay(options), options)
    return 0


def _live(args: argparse.Namespace) -> int:
    from edge.live import run_live
    from edge.replay import print_summary

    options = _run_options(args, args.camera, realtime=True, progress=False)
    print_summary(run_live(options, port=args.preview_port, window=False if args.no_window else None), options)
    return 0


def _service(args: argparse.Namespace) -> int:
    from edge.service import UNIT_DIR, ServiceOptions, install, unit_text

    extra = [f for f in args.live_flags if f != "--"]
    options = ServiceOptions(user=args.user, camera=args.camera, profile=args.profile,
                             preview_port=args.preview_port, extra=extra)
    if args.print:
        print(unit_text(options), end="")
        return 0
    path = install(options, args.unit_dir or UNIT_DIR, start=not args.no_start)
    print(f"wrote {path}" + ("" if args.no_start else "; enabled and started: journalctl -u ar-translate -f"))
    return 0


def _read_lines(fd: int):
    """Complete stdin lines, in chunks of whatever has arrived: each chunk is one batch, and no
    line waits for input that has not been typed yet (a driving program gets an answer per line)."""
    pending = b""
    while True:
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            if pending:
                yield [pending.decode("utf-8", "replace")]
            return
        pending += chunk
        *lines, pending = pending.split(b"\n")
        if lines:
            yield [line.decode("utf-8", "replace").rstrip("\r") for line in lines]


def _translate(args: argparse.Namespace) -> int:
    from edge.translate import TranslatorOptions, load_translator

    translator = load_translator(TranslatorOptions(source=args.source, target=args.target, beam_size=args.beam_size))
    batches = [args.texts] if args.texts else _read_lines(sys.stdin.fileno())
    untranslated = 0
    for batch in batches:
        nonempty = [t for t in batch if t.strip()]
        results = iter(translator.translate(nonempty)) if nonempty else iter(())
        out = []
        for text in batch:
            result = next(results) if text.strip() else None
            untranslated += result is not None and result.text is None
            # a line already in the target language, without a pair (--source auto) or under the model's gate
            # (unsure) is written as it is
            out.append("" if result is None else text if result.text is None else result.text)
        sys.stdout.write("".join(line + "\n" for line in out))
        sys.stdout.flush()
    if untranslated:
        print(f"{untranslated} line(s) written as they are: in {args.target} already, in a language with no "
              "installed pair, or translated by a model unsure of them (under its gate)", file=sys.stderr)
    return 0


def _cpu_share(text: str) -> float:
    """A share of one core, or a board's: its published score over this machine's, measured now (3 s of
    ``sysbench``; the reference machine's share where sysbench is missing)."""
    from benchmarks.cpulimit import SHARES, machine_shares, parse_share

    try:
        share = parse_share(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if text in SHARES:
        shares, score = machine_shares(seconds=3)
        share = shares[text]
        print(f"--cpu-share {text}: {share:.3f} of one core of this machine "
              + (f"(sysbench {score:,.0f} events/s)" if score else "(sysbench missing: the reference machine's share)"),
              file=sys.stderr)
    return share


def _pace(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.01 <= value <= 1000:
        raise argparse.ArgumentTypeError(f"--pace wants a number from 0.01 to 1000, not '{text}'")
    return value


def _bench(args: argparse.Namespace) -> int:
    from benchmarks.harness import BenchOptions, bench, print_results

    options = BenchOptions(video=Path(args.video), gt=args.gt, out=args.out, source=args.source, target=args.target,
                           compare=args.compare, realtime=args.realtime, pace=args.pace, max_frames=args.max_frames,
                           profile=args.profile, cores=args.cores, memory_budget_mb=args.memory_budget_mb,
                           cpu_share=args.cpu_share, progress=not args.quiet, report=not args.no_report)
    results = bench(options)
    print_results(results, args.out)
    for reason in results.get("failed", []):
        print(f"FAILED: {reason}", file=sys.stderr)
    return 1 if results.get("failed") else 0


def _serve(args: argparse.Namespace) -> int:
    from cloud_fallback.guard import resolve_token
    from cloud_fallback.server import ServerConfig, serve
    from models.catalog import installed_pairs, user_home

    token, generated = resolve_token(args.token, os.environ, args.token_file, args.host)
    pairs = installed_pairs(args.model)
    if not pairs:
        print("error: no translation model installed; see 'ar-translate models list'", file=sys.stderr)
        return 1
    if generated:
        print(f"no --token or AR_TRANSLATE_SERVER_TOKEN given; this run's token: {token}", file=sys.stderr)
    config = ServerConfig(token=token, model=args.model, beam_size=args.beam_size, max_batch=args.max_batch,
                          pairs=pairs, protect_docs=args.protect_docs, max_inflight=args.max_inflight,
                          max_queued_texts=args.max_queued_texts, request_deadline_ms=args.request_deadline_ms,
                          releases=args.releases, store=args.store or str(user_home() / "server" / "store.sqlite"))
    if bool(args.tls_cert) != bool(args.tls_key):
        print("error: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    scheme = "https" if args.tls_cert else "http"
    print(f"serving {', '.join('-'.join(p) for p in pairs)} on {scheme}://{args.host}:{args.port} (docs: /docs)",
          file=sys.stderr)
    serve(config, args.host, args.port, args.tls_cert, args.tls_key)
    return 0


def _telemetry(args: argparse.Namespace) -> int:
    from edge.telemetry import Spool, upload

    spool = Spool()
    if args.telemetry_command == "show":
        for path in spool.pending():
            print(path.read_text(encoding="utf-8"))
        print(f"{len(spool.pending())} batches waiting in {spool.folder}", file=sys.stderr)
        return 0
    report = upload(args.cloud_url, os.environ.get("AR_TRANSLATE_CLOUD_TOKEN"), spool, int(args.budget_kb * 1000),
                    args.cloud_ca)
    print(f"uploaded {report.sent} batches ({report.bytes} bytes); {report.left} waiting")
    if report.error:
        print(f"error: upload stopped: {report.error}", file=sys.stderr)
        return 1
    return 0


def _models(args: argparse.Namespace) -> int:
    from models import commands

    return commands.run(args)


def _add_profile_flags(parser: argparse.ArgumentParser) -> None:
    from edge.profiles import PROFILES

    parser.add_argument("--profile", choices=list(PROFILES),
                        help="device profile: cores, threads, detector size, keyframe cadence, memory budget")
    parser.add_argument("--cores", type=int, help="run on at most this many CPU cores (overrides the profile)")
    parser.add_argument("--memory-budget-mb", type=float, help="peak RSS allowed (overrides the profile's budget)")


def _add_run_flags(parser: argparse.ArgumentParser, output_help: str, frames: str) -> None:
    """The flags ``replay`` and ``live`` share."""
    parser.add_argument("--source", default="de", help="language of the signs (ISO 639-1), default de; auto: "
                        "guessed per line among de, fr, es, it, en, each translated with its own pair")
    parser.add_argument("--target", default="en", help="language to translate to, default en")
    parser.add_argument("--pace", type=_pace, default=1.0, metavar="N",
                        help="stretch every deadline N times (the cloud's budget, the client's timeouts) and play a "
                        "video N times slower in real time: a machine N times slower than the device shows the "
                        "device's timing (default 1)")
    parser.add_argument("--offline", action="store_true", help="never open a network socket (no cloud, even with --cloud-url)")
    parser.add_argument("--cloud-url", help="cloud fallback service, e.g. http://host:8080 (token: $AR_TRANSLATE_CLOUD_TOKEN)")
    parser.add_argument("--cloud-ca", metavar="PEM", help="CA certificate(s) to trust for an https --cloud-url "
                        "(default: the system's store)")
    parser.add_argument("--cloud-budget-ms", type=float, default=1500.0,
                        help="how long after a keyframe a cloud answer may still replace the local one (default 1500)")
    parser.add_argument("--events", type=Path, help="write JSONL frame and summary records here")
    parser.add_argument("--output", type=Path, help=output_help)
    parser.add_argument("--ocr-only", action="store_true", help="read text only; no translation model needed")
    parser.add_argument("--no-blocks", action="store_true",
                        help="translate and draw every text line alone, not the lines of one notice together")
    parser.add_argument("--max-frames", type=int, help=f"stop after this many {frames}")
    _add_profile_flags(parser)
    parser.add_argument("--translation-cache", type=Path, metavar="FILE",
                        help="keep translations across runs in this SQLite file")
    parser.add_argument("--telemetry", action="store_true",
                        help="opt in: count this run (no image, texts of hard cases only; docs/deployment.md) and "
                        "upload waiting counts to --cloud-url when online")
    parser.add_argument("--telemetry-budget-kb", type=float, default=64.0, metavar="KB",
                        help="telemetry bytes sent per run at most (default 64)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ar-translate", description="On-device AR translation of signs in video.")
    sub = parser.add_subparsers(dest="command", required=True)

    replay = sub.add_parser("replay", help="run the pipeline over a video file, an image or a folder of images")
    replay.add_argument("input", help="video file, image file, folder of images, or camera index")
    _add_run_flags(replay, output_help="write the annotated input here: a video (.mp4), an image (.png, .jpg) for "
                   "one picture, or a folder (one image per picture)", frames="input frames")
    replay.add_argument("--realtime", action="store_true",
                        help="offer frames at the video's own fps, like a camera; frames that arrive while busy are dropped")
    replay.add_argument("--quiet", action="store_true", help="no progress bar")
    replay.add_argument("--sequence", action="store_true",
                        help="a folder of images holds one video's frames: track across them (default: each image "
                        "is its own scene, nothing carried from one photo to the next)")
    replay.set_defaults(func=_replay)

    live = sub.add_parser("live", help="the pipeline on a camera, with a preview window or a browser preview")
    live.add_argument("--camera", default="0",
                      help="camera index (default 0; a Raspberry Pi Camera Module is used when no USB camera has the "
                           "index and Picamera2 is installed), picamera2[:N] for the Pi camera, or a video file "
                           "standing in for a camera")
    _add_run_flags(live, output_help="also record the annotated video here (.mp4)", frames="camera frames")
    live.add_argument("--preview-port", type=int, default=8090,
                      help="port of the browser preview on 127.0.0.1 when there is no display (0: any free port)")
    live.add_argument("--no-window", action="store_true", help="browser preview even when a display exists")
    live.set_defaults(func=_live)

    translate = sub.add_parser("translate", help="translate texts given as arguments, or one per stdin line")
    translate.add_argument("texts", nargs="*")
    translate.add_argument("--source", default="de", help="ISO 639-1, or auto: each text's language guessed")
    translate.add_argument("--target", default="en")
    translate.add_argument("--beam-size", type=int, default=2)
    translate.set_defaults(func=_translate)

    bench = sub.add_parser("bench", help="replay a scenario with ground truth, score it, write results.json and report.html")
    bench.add_argument("video", help="scenario video (from python -m benchmarks.scenes)")
    bench.add_argument("--gt", type=Path, required=True, help="its ground truth, NAME.gt.json")
    bench.add_argument("--source", default="de")
    bench.add_argument("--target", default="en")
    bench.add_argument("--compare", action="append", default=[], metavar="naive|rapidocr",
                       help="also run and score this baseline, repeatable (naive: full-frame Tesseract on every frame; "
                            "rapidocr: RapidOCR's detector and neural reader on every frame)")
    bench.add_argument("--realtime", action="store_true", help="replay at the video's own fps, dropping frames while busy")
    bench.add_argument("--pace", type=_pace, default=1.0, metavar="N", help="N times slower (see replay --pace)")
    bench.add_argument("--max-frames", type=int, help="only the first N frames")
    _add_profile_flags(bench)
    bench.add_argument("--cpu-share", type=_cpu_share, metavar="pi4|pi-zero-2|S",
                       help="run every side limited to a share of one core, as slow as that device's core (a cgroup "
                            "CPU quota: needs root; calibration in benchmarks/cpulimit.py)")
    bench.add_argument("--out", type=Path, required=True, help="folder for events, results.json and report.html")
    bench.add_argument("--no-report", action="store_true", help="skip report.html (results.json only)")
    bench.add_argument("--quiet", action="store_true", help="no progress output")
    bench.set_defaults(func=_bench)

    serve = sub.add_parser("serve", help="the cloud fallback translation service (HTTP)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--token", help="bearer token clients must send (default: $AR_TRANSLATE_SERVER_TOKEN, "
                       "else a random one, printed)")
    serve.add_argument("--model", help="catalog name of the translator to serve (default: every installed one)")
    serve.add_argument("--beam-size", type=int, default=4, help="beam width (the device uses 2)")
    serve.add_argument("--max-batch", type=int, default=32, help="texts per model call across concurrent requests")
    serve.add_argument("--token-file", help="read the token from this file (e.g. a Docker secret)")
    serve.add_argument("--max-inflight", type=int, default=64, help="requests answered at once; more get 503 + Retry-After")
    serve.add_argument("--max-queued-texts", type=int, default=512,
                       help="texts waiting for the model; more get 429 + Retry-After")
    serve.add_argument("--request-deadline-ms", type=float, default=10_000.0,
                       help="a request not answered by then gets 503 (a client's X-Deadline-Ms shortens it)")
    serve.add_argument("--protect-docs", action="store_true",
                       help="/metrics, /docs and /openapi.json need the token too (default: open)")
    serve.add_argument("--releases", type=Path, metavar="DIR",
                       help="publish the release packages in this folder at /v1/models (python -m models.release)")
    serve.add_argument("--store", metavar="FILE", help="SQLite file of the answers given (cache bundles) and the fleet's "
                       "telemetry (default: $AR_TRANSLATE_HOME/server/store.sqlite; :memory: keeps nothing)")
    serve.add_argument("--tls-cert", help="serve https with this PEM certificate (chain) ...")
    serve.add_argument("--tls-key", help="... and this PEM private key")
    serve.set_defaults(func=_serve)

    telemetry = sub.add_parser("telemetry", help="what --telemetry collected: show it, upload it")
    tsub = telemetry.add_subparsers(dest="telemetry_command", required=True)
    tsub.add_parser("show", help="print the batches waiting for an upload, exactly as they would be sent")
    tup = tsub.add_parser("upload", help="send the waiting batches to the service")
    tup.add_argument("--cloud-url", required=True)
    tup.add_argument("--cloud-ca", metavar="PEM")
    tup.add_argument("--budget-kb", type=float, default=64.0, help="bytes sent at most (default 64 KB)")
    telemetry.set_defaults(func=_telemetry)

    models = sub.add_parser("models", help="the model catalog: list, verify, card, pull, update, install, rollback")
    msub = models.add_subparsers(dest="models_command", required=True)
    msub.add_parser("list", help="every model, installed or pullable")
    verify = msub.add_parser("verify", help="re-hash installed models")
    verify.add_argument("names", nargs="*")
    card = msub.add_parser("card", help="print a model card")
    card.add_argument("name")
    pull = msub.add_parser("pull", help="download and install a model (needs the network)")
    pull.add_argument("name", help="catalog name, or argos-SRC-TGT to look up the Argos package index")
    pull.add_argument("--url", help="download from this address instead of the catalog's")
    pull.add_argument("--sha256", help="expected sha256 of the download")
    pull.add_argument("--index", help="Argos package index URL (default: $AR_TRANSLATE_ARGOS_INDEX or Argos')")
    pull.add_argument("--quiet", action="store_true", help="no progress bar")
    pull.add_argument("--max-size", type=float, default=2000.0, metavar="MB",
                      help="refuse downloads larger than this (default 2000 MB)")
    pull.add_argument("--insecure", action="store_true",
                      help="accept plain http:// addresses that are not on this machine (the sha256, if any, still checks)")
    update = msub.add_parser("update", help="install newer models the service publishes (after a self-test) and "
                             "its cache bundles")
    update.add_argument("names", nargs="*", help="only these models (installs them if they are not installed)")
    update.add_argument("--cloud-url", default=os.environ.get("AR_TRANSLATE_CLOUD_URL"),
                        help="the service (default: $AR_TRANSLATE_CLOUD_URL; token: $AR_TRANSLATE_CLOUD_TOKEN)")
    update.add_argument("--cloud-ca", metavar="PEM", help="CA certificate(s) to trust for an https service")
    update.add_argument("--max-size", type=float, default=500.0, metavar="MB", help="refuse larger downloads (default 500)")
    update.add_argument("--max-rss-mb", type=float, help="the self-test's peak memory limit on this device "
                        "(besides the release's own)")
    update.add_argument("--no-bundles", action="store_true", help="do not fetch cache bundles")
    update.add_argument("--during-run", action="store_true",
                        help="switch even while a replay or live run is using the models")
    update.add_argument("--quiet", action="store_true", help="no progress bar")
    install = msub.add_parser("install", help="install a release package from a file (after its self-test), offline")
    install.add_argument("file", type=Path, help="a release package (python -m models.release NAME --version V --out DIR)")
    install.add_argument("--max-rss-mb", type=float, help="the self-test's peak memory limit on this device "
                         "(besides the release's own)")
    install.add_argument("--during-run", action="store_true",
                         help="switch even while a replay or live run is using the models")
    rollback = msub.add_parser("rollback", help="switch a model back to the version installed before")
    rollback.add_argument("name")
    rollback.add_argument("--during-run", action="store_true")
    models.set_defaults(func=_models)

    from edge.profiles import PROFILES

    service = sub.add_parser("service", help="the headless device service: ar-translate live on boot (systemd)")
    ssub = service.add_subparsers(dest="action", required=True)
    install = ssub.add_parser("install", help="write the systemd unit, then enable and start it (run with sudo)")
    install.add_argument("--user", help="the account the service runs as (it joins the video group); default root")
    install.add_argument("--camera", default="0", help="as for live: an index, picamera2[:N], or a video file")
    install.add_argument("--profile", default="pi4", choices=sorted(PROFILES), help="device profile (default pi4)")
    install.add_argument("--preview-port", type=int, default=8090, help="MJPEG preview on 127.0.0.1 (default 8090)")
    install.add_argument("--unit-dir", type=Path, default=None, help="where the unit goes (default /etc/systemd/system)")
    install.add_argument("--no-start", action="store_true", help="only write the unit")
    install.add_argument("--print", action="store_true", help="print the unit, write nothing")
    install.add_argument("live_flags", nargs=argparse.REMAINDER,
                         help="after --, more live flags for the service (e.g. -- --cloud-url URL --telemetry)")
    service.set_defaults(func=_service)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for flag in ("max_frames", "cores"):
        if getattr(args, flag, None) is not None and getattr(args, flag) < 1:
            print(f"error: --{flag.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    try:
        return args.func(args)
    except ArTranslateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
