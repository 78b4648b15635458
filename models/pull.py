"""``ar-translate models pull``: fetch production models for users who are online.

Formats: Argos Translate packages (``.argosmodel`` zips holding a CTranslate2 model directory, a
SentencePiece model and ``metadata.json``, found in the Argos package index), OPUS-MT release
zips (converted with CTranslate2's OPUS-MT converter, int8), and Tesseract ``.traineddata``.

Downloads resume (HTTP Range) from ``$AR_TRANSLATE_HOME/downloads``, are checked against a
pinned sha256 when one is known, and are installed atomically: unpacked into a temporary folder
beside the target, then renamed into ``$AR_TRANSLATE_HOME/models/NAME``. Archives with absolute
paths, ``..`` or links are refused (zip-slip), and so are downloads over ``--max-size`` (default
2 GB), archives that unpack to more than ``MAX_UNPACKED_BYTES`` or hold more than
``MAX_MEMBERS`` files (zip bombs), and model names that are not one plain path segment. Plain
``http://`` is accepted only for loopback addresses unless ``insecure`` is set (``--insecure``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import asdict
from pathlib import Path, PurePosixPath

from cloud_fallback.client import is_loopback
from edge.errors import PullError
from models.catalog import ModelEntry, load_catalog, sha256_of, user_home

ARGOS_INDEX_URL = "https://raw.githubusercontent.com/argosopentech/argospm-index/main/index.json"
TIMEOUT_S = 30.0  # per socket operation
MAX_DOWNLOAD_BYTES = 2 * 10**9  # default --max-size
MAX_UNPACKED_BYTES = 8 * 10**9  # an archive unpacking to more than this is refused
MAX_MEMBERS = 20_000  # ... and one holding more files than this
NAME = re.compile(r"^[a-z0-9][a-z0-9._]*(-[a-z0-9][a-z0-9._]*)*$")  # one plain path segment: no '/', '\', '..'


def check_name(name: str) -> str:
    """A model name is one lower-case path segment of letters, digits, '.', '_' and '-' (no '..')."""
    if not NAME.match(name) or ".." in name or len(name) > 100:
        raise PullError(f"invalid model name '{name}': use letters, digits, '.', '_' and '-' (e.g. argos-de-en)")
    return name


def check_url(url: str, insecure: bool = False) -> str:
    """``https`` (or ``http`` to a loopback address, or anything ``http`` with ``insecure``); a one-line
    error for every other address."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise PullError(f"unsupported download address '{url}': use https://")
    if parsed.scheme == "http" and not insecure:
        if not is_loopback(parsed.hostname):
            raise PullError(f"refusing plain http for {url}: use https://, or --insecure to accept it")
    return url


def _open(url: str, headers: dict | None = None, context=None):
    try:
        return urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=TIMEOUT_S,
                                      context=context)
    except urllib.error.HTTPError as exc:
        raise PullError(f"download failed: {url} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PullError(f"cannot reach {url} ({reason}); are you offline?") from None
    except ValueError as exc:  # urllib's "unknown url type" and the like
        raise PullError(f"unsupported download address '{url}': {exc}") from None


def resolve(name: str, url: str | None = None, sha256: str | None = None, index: str | None = None,
            insecure: bool = False) -> ModelEntry:
    """The catalog entry to pull, or one built from the Argos index for ``argos-SRC-TGT``."""
    check_name(name)
    for entry in load_catalog():
        if entry.name == name:
            if entry.shipped:
                raise PullError(f"'{name}' ships with the package; nothing to pull")
            entry.url = url or entry.url
            entry.sha256 = sha256 or entry.sha256
            return entry
    parts = name.split("-")
    if len(parts) == 3 and parts[0] == "argos":
        src, tgt = parts[1], parts[2]
        if not url:
            url = _argos_link(src, tgt, index or os.environ.get("AR_TRANSLATE_ARGOS_INDEX") or ARGOS_INDEX_URL, insecure)
        return ModelEntry(name=name, kind="translator", format="argos", languages=[src, tgt], url=url,
                          sha256=sha256 or "", source=f"Argos Translate package {url}", licence="see the package's README")
    if url and name.startswith("tesseract-"):
        code = name.split("-", 1)[1]
        return ModelEntry(name=name, kind="ocr-language", format="traineddata", languages=[code], url=url, sha256=sha256 or "")
    known = ", ".join(e.name for e in load_catalog() if not e.shipped)
    raise PullError(f"no pullable model named '{name}'; catalog: {known}; or argos-SRC-TGT")


def _argos_link(src: str, tgt: str, index_url: str, insecure: bool = False) -> str:
    with _open(check_url(index_url, insecure)) as response:
        try:
            packages = json.loads(response.read(64 * 2**20))
        except (ValueError, RecursionError):
            raise PullError(f"the Argos index at {index_url} is not JSON") from None
    if not isinstance(packages, list):
        raise PullError(f"the Argos index at {index_url} is not a list of packages")
    for package in packages:
        if not isinstance(package, dict):
            continue
        links = package.get("links")
        if package.get("from_code") == src and package.get("to_code") == tgt and isinstance(links, list) and links \
                and isinstance(links[0], str):
            return links[0]
    raise PullError(f"the Argos index has no {src}→{tgt} package")


def _resume_offset(response, have: int) -> int:
    """Where the body of ``response`` starts in the file: ``have`` when the server resumed exactly
    there (206 with a matching Content-Range), else 0 (it sent the whole file)."""
    if not have or response.status != 206:
        return 0
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range") or "")
    return have if match and int(match.group(1)) == have else -1


def download(url: str, target: Path, progress: bool = True, max_bytes: int = MAX_DOWNLOAD_BYTES,
             headers: dict | None = None, context=None) -> Path:
    """Download ``url`` to ``target``, resuming a ``.part`` left by an interrupted run; at most
    ``max_bytes``; ``headers`` (a token) go with every request, ``context`` is the TLS context. A
    ``.part`` the server cannot resume (as large as the file or larger: HTTP 416, or a
    Content-Range that starts elsewhere) is discarded and the download starts again."""
    from tqdm import tqdm

    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    try:
        response = _open(url, {**(headers or {}), **({"Range": f"bytes={have}-"} if have else {})}, context)
    except PullError as exc:
        if not have or "HTTP 416" not in str(exc):
            raise
        part.unlink()  # the .part is at least as long as the file: it cannot be resumed
        have, response = 0, _open(url, headers, context)
    with response:
        offset = _resume_offset(response, have)
        if offset < 0:
            part.unlink()
            raise PullError(f"download of {url} could not resume (the server's range does not match); "
                            "the partial file was removed: run the same command again")
        have = offset
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else None
        if total is not None and total > max_bytes:
            raise PullError(f"{url} is {total / 1e6:.0f} MB, over the limit of {max_bytes / 1e6:.0f} MB (--max-size)")
        with part.open("ab" if have else "wb") as fh, tqdm(total=total, initial=have, unit="B", unit_scale=True,
                                                          desc=target.name, disable=not progress or None) as bar:
            written = have
            try:
                while block := response.read(1 << 16):
                    written += len(block)
                    if written > max_bytes:
                        raise PullError(f"{url} is over the limit of {max_bytes / 1e6:.0f} MB (--max-size)")
                    fh.write(block)
                    bar.update(len(block))
            except OSError as exc:
                raise PullError(f"download of {url} broke off ({exc}); run the same command again to resume") from None
    if total is not None and part.stat().st_size != total:
        raise PullError(f"download of {url} is incomplete; run the same command again to resume")
    part.replace(target)
    return target


def safe_extract(archive: Path, dest: Path) -> None:
    """Unzip, refusing members that are absolute, climb out with ``..``, or are links."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = zf.infolist()
            if len(members) > MAX_MEMBERS:
                raise PullError(f"unsafe archive {archive.name}: {len(members)} members (limit {MAX_MEMBERS})")
            unpacked = sum(info.file_size for info in members)
            if unpacked > MAX_UNPACKED_BYTES:
                raise PullError(f"unsafe archive {archive.name}: unpacks to {unpacked / 1e9:.1f} GB "
                                f"(limit {MAX_UNPACKED_BYTES / 1e9:.0f} GB)")
            for info in members:
                path = PurePosixPath(info.filename.replace("\\", "/"))
                if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
                    raise PullError(f"unsafe archive {archive.name}: member '{info.filename}' escapes the install folder")
                if stat.S_ISLNK(info.external_attr >> 16):
                    raise PullError(f"unsafe archive {archive.name}: member '{info.filename}' is a link")
            zf.extractall(dest)
    except zipfile.BadZipFile:
        raise PullError(f"corrupt archive {archive.name}: not a readable zip") from None
    except OSError as exc:  # members that clash ("C" a file and "C/" a folder), or a full disk
        raise PullError(f"cannot unpack {archive.name}: {exc.strerror or exc} ({Path(exc.filename or '').name})") from None


def _single_top(folder: Path) -> Path:
    children = [c for c in folder.iterdir() if not c.name.startswith("__MACOSX")]
    return children[0] if len(children) == 1 and children[0].is_dir() else folder


def _install_argos(archive: Path, staging: Path, entry: ModelEntry) -> None:
    safe_extract(archive, staging)
    top = _single_top(staging)
    metadata = top / "metadata.json"
    if not metadata.is_file() or not (top / "model").is_dir() or not (top / "sentencepiece.model").is_file():
        raise PullError(f"{archive.name} is not an Argos package (needs metadata.json, model/, sentencepiece.model)")
    meta = json.loads(metadata.read_text())
    entry.languages = [meta.get("from_code", entry.languages[0]), meta.get("to_code", entry.languages[1])]
    rel = top.relative_to(staging)
    entry.layout = {"ct2": str(rel / "model"), "source_spm": str(rel / "sentencepiece.model"),
                    "target_spm": str(rel / "sentencepiece.model")}
    entry.format = "ctranslate2"


def _install_opus(archive: Path, staging: Path, entry: ModelEntry) -> None:
    import ctranslate2

    raw = staging / "opus"
    safe_extract(archive, raw)
    top = _single_top(raw)
    if not (top / "source.spm").is_file():
        raise PullError(f"{archive.name} is not an OPUS-MT release (no source.spm)")
    ctranslate2.converters.OpusMTConverter(str(top)).convert(str(staging / "ct2"), quantization="int8")
    for name in ("source.spm", "target.spm"):
        shutil.copyfile(top / name, staging / name)
    shutil.rmtree(raw)
    entry.layout = {"ct2": "ct2", "source_spm": "source.spm", "target_spm": "target.spm"}
    entry.format = "ctranslate2"


def _install_traineddata(download_path: Path, staging: Path, entry: ModelEntry) -> None:
    head = download_path.read_bytes()[:64]
    if len(head) < 16 or head.lstrip().startswith((b"<", b"{")):
        raise PullError(f"{download_path.name} is not a Tesseract traineddata file")
    shutil.copyfile(download_path, staging / f"{entry.languages[0]}.traineddata")


INSTALLERS = {"argos": _install_argos, "opus-mt": _install_opus, "traineddata": _install_traineddata}


def pull(name: str, url: str | None = None, sha256: str | None = None, index: str | None = None,
         progress: bool = True, max_bytes: int = MAX_DOWNLOAD_BYTES, insecure: bool = False) -> ModelEntry:
    if url:
        check_url(url, insecure)
    entry = resolve(name, url, sha256, index, insecure)
    if not entry.url:
        raise PullError(f"'{name}' has no download address; give one with --url")
    check_url(entry.url, insecure)
    home = user_home()
    suffix = ".traineddata" if entry.format == "traineddata" else ".zip"
    archive = download(entry.url, home / "downloads" / f"{entry.name}{suffix}", progress, max_bytes)
    digest = sha256_of(archive)
    if entry.sha256 and digest != entry.sha256.lower():
        archive.unlink()
        raise PullError(f"checksum mismatch for {entry.name}: expected {entry.sha256}, got {digest}; download removed")
    final = home / "models" / entry.name
    if final.resolve().parent != (home / "models").resolve():  # never outside the models folder
        raise PullError(f"invalid model name '{entry.name}'")
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", dir=final.parent))
    try:
        INSTALLERS[entry.format](archive, staging, entry)
        entry.shipped, entry.path = False, ""
        entry.files = [{"path": str(f.relative_to(staging)), "sha256": sha256_of(f), "size": f.stat().st_size}
                       for f in sorted(staging.rglob("*")) if f.is_file()]
        entry.size_mb = round(sum(f["size"] for f in entry.files) / 1e6, 2)
        manifest = {"name": entry.name, "download_sha256": digest, "url": entry.url, "entry": asdict(entry)}
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2))
        if final.exists():
            old = final.with_name(f".{entry.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            final.replace(old)
            shutil.rmtree(old)
        staging.replace(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    archive.unlink()
    return entry
