"""``ar-translate live``: the real-time pipeline on a camera, with a preview.

A camera index opens the camera; a video file stands in for one (played at its own fps, frames
dropped when the pipeline is busy, exactly like a camera). ``q`` in the window, the page's stop
link, Ctrl-C or SIGTERM end the run cleanly: the current frame finishes, the outputs are closed
and the summary is written and printed. With ``--cloud-url``, ``o`` in the window, the page's
offline link or SIGUSR1 switch offline mode on and off at run time (no cloud call while on).
"""

from __future__ import annotations

import signal
import sys

from edge.preview import open_preview, toggle
from edge.replay import ReplayOptions, replay


def run_live(options: ReplayOptions, port: int = 8090, window: bool | None = None) -> dict:
    preview = open_preview(port, window)
    print(preview.describe(), file=sys.stderr, flush=True)

    def stop(signum, frame) -> None:
        preview.stop.set()

    def switch_offline(signum, frame) -> None:
        print("offline" if toggle(preview.offline) else "online", file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, switch_offline)
    options.offline_switch = preview.offline
    try:
        return replay(options, preview=preview)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        preview.close()
