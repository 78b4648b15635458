"""Live preview sinks: an OpenCV window when a display exists, else MJPEG over HTTP on 127.0.0.1.

Both show the newest annotated frame and report the user's wish to stop (``q`` or Esc in the
window; the page's stop link in the browser). The HTTP preview only ever binds to loopback: to see
it from another machine, forward the port (``ssh -L 8090:127.0.0.1:8090 pi``).
"""

from __future__ import annotations

import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import numpy as np

PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>ar-translate live</title>
<style>body{background:#111;color:#ddd;font-family:sans-serif;text-align:center}img{max-width:100%}</style></head>
<body><img src="/stream"><p><a href="/stop" style="color:#f88">stop</a>
<a href="/offline" style="color:#8cf">offline on/off</a></p></body></html>"""


def toggle(event: threading.Event) -> bool:
    """Flip an on/off switch; returns the new state."""
    if event.is_set():
        event.clear()
        return False
    event.set()
    return True


class WindowPreview:
    name = "ar-translate (q: quit, o: offline on/off)"

    def __init__(self) -> None:
        cv2.namedWindow(self.name, cv2.WINDOW_NORMAL)
        self.stop = threading.Event()
        self.offline = threading.Event()  # the runtime offline switch: set, the cloud is not used

    def show(self, image: np.ndarray) -> None:
        cv2.imshow(self.name, image)
        key = cv2.waitKey(1) & 0xFF
        if key in (ord("q"), 27):
            self.stop.set()
        elif key == ord("o"):
            toggle(self.offline)

    def close(self) -> None:
        cv2.destroyWindow(self.name)

    def describe(self) -> str:
        return "preview window (q to quit)"


class MjpegPreview:
    """Serves ``/`` (a page), ``/stream`` (multipart JPEG, the newest frame), ``/stop`` and
    ``/offline`` (flips the runtime offline switch)."""

    def __init__(self, port: int = 8090, quality: int = 75):
        self.stop = threading.Event()
        self.offline = threading.Event()  # the runtime offline switch: set, the cloud is not used
        self._frame: bytes | None = None
        self._fresh = threading.Condition()
        self._quality = quality
        self._clients = 0
        preview = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # no access log on the console
                pass

            def do_GET(self) -> None:
                if self.path == "/":
                    self._send(200, "text/html; charset=utf-8", PAGE)
                elif self.path == "/stop":
                    preview.stop.set()
                    self._send(200, "text/plain", b"stopping\n")
                elif self.path == "/offline":
                    state = toggle(preview.offline)
                    self._send(200, "text/plain", b"offline\n" if state else b"online\n")
                elif self.path == "/stream":
                    preview._stream(self)
                else:
                    self._send(404, "text/plain", b"not found\n")

            def _send(self, code: int, kind: str, body: bytes) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="mjpeg-preview", daemon=True)
        self._thread.start()

    def show(self, image: np.ndarray) -> None:
        if not self._clients:  # nobody watching: no JPEG encoding
            return
        ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self._quality])
        if ok:
            with self._fresh:
                self._frame = jpeg.tobytes()
                self._fresh.notify_all()

    def _stream(self, handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        self._clients += 1
        try:
            while not self.stop.is_set():
                with self._fresh:
                    self._fresh.wait(timeout=1.0)
                    frame = self._frame
                if frame is None:
                    continue
                handler.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                    + str(len(frame)).encode() + b"\r\n\r\n" + frame + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            self._clients -= 1

    def close(self) -> None:
        with self._fresh:
            self._fresh.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def describe(self) -> str:
        return f"preview: http://127.0.0.1:{self.port}/"


def open_preview(port: int, window: bool | None = None):
    """A window when a display exists and OpenCV can open one (``window`` forces the choice), else MJPEG."""
    has_display = bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if window is not False and (window or has_display):
        try:
            return WindowPreview()
        except cv2.error as exc:
            print(f"warning: no preview window ({str(exc).strip().splitlines()[-1]}); using the browser preview",
                  file=sys.stderr)
    return MjpegPreview(port)
