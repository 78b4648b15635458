"""The service's door: the bearer token, the body size and the image a request brings, checked
before any handler runs, and the token the service requires (``resolve_token``)."""

from __future__ import annotations

import hmac
import io
import secrets
from pathlib import Path

import cv2
import numpy as np
from fastapi import Request
from fastapi.responses import JSONResponse
from PIL import Image

from cloud_fallback.client import is_loopback


def error(status: int, detail: str, **extra) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


def check_token(request: Request, token: str) -> JSONResponse | None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        detail = "missing bearer token"
    elif not hmac.compare_digest(given.strip().encode(), token.encode()):
        detail = "wrong token"
    else:
        return None
    return JSONResponse({"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"})


async def check_size(request: Request, limit: int) -> JSONResponse | None:
    """413 when the declared or the actual body is over ``limit`` bytes (the body is read here, once,
    and kept for the handler)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return error(413, f"body of {declared} bytes; at most {limit}")
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return error(413, f"body over {limit} bytes")
        chunks.append(chunk)
    request._body = b"".join(chunks)  # Starlette's cache of the body: the handler reads it from here
    return None


def decode_image(data: bytes, max_pixels: int) -> np.ndarray | JSONResponse:
    """The crop as a BGR array, or the 413/422 answer. The size is read from the header before
    decoding: a small file may declare a giant image."""
    if not data:
        return error(422, "empty body: send the crop as image/jpeg or image/png")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind, (width, height) = probe.format, probe.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return error(422, "the body is not a readable JPEG or PNG image")
    if kind not in ("JPEG", "PNG"):
        return error(422, f"a {kind} image; send image/jpeg or image/png")
    if width * height > max_pixels:
        return error(413, f"image of {width}×{height} px; at most {max_pixels} pixels "
                      "(send the crop of one line, not the frame)")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return error(422, "the image could not be decoded")
    return image


def resolve_token(given: str | None, env: dict, token_file: str | None = None, host: str = "127.0.0.1") -> tuple[str, bool]:
    """The token to require: ``--token``, else ``--token-file`` (a Docker secret), else
    ``AR_TRANSLATE_SERVER_TOKEN``, else, on a loopback address only, a new random one (returned with True
    so the caller prints it). Off loopback a service with no token given refuses to start: a printed
    token ends up in container logs. Raises ``InputError``."""
    from edge.errors import InputError

    token = given
    if token is None and token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read --token-file {token_file}: {exc}") from None
        if not token:
            raise InputError(f"--token-file {token_file} is empty")
    token = token or env.get("AR_TRANSLATE_SERVER_TOKEN")
    if token:
        if not token.isprintable() or token != token.strip():
            raise InputError("the token holds a line break, a control character or surrounding spaces")
        return token, False
    if not is_loopback(host):
        raise InputError(f"refusing to serve on {host} without a token: give --token, --token-file or "
                         "AR_TRANSLATE_SERVER_TOKEN (a generated one is only printed on a loopback address)")
    return secrets.token_urlsafe(24), True
