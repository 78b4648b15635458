"""``ar-translate live``: the real-time pipeline on a camera, with a preview.

A camera index opens the camera; a video file stands in for one (played at its own fps, frames
dropped when the pipeline is busy, exactly like a camera). ``q`` in the window, the page's stop
link, Ctrl-C or SIGTERM end the run cleanly: the current frame finishes, the outputs are closed
and the summary is written and printed.
"""

from __future__ import annotations

import signal
import sys

from edge.preview import open_preview
from edge.replay import ReplayOptions, replay


def run_live(options: ReplayOptions, port: int = 8090, window: bool | None = None) -> dict:
    preview = open_preview(port, window)
    print(preview.describe(), file=sys.stderr, flush=True)

    def stop(signum, frame) -> None:
        preview.stop.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return replay(options, preview=preview)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        preview.close()
