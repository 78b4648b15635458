"""Reading and cleaning the translated texts Debian packages hold: gettext catalogs (``.mo``) and
Mallard help pages, one string or block at a time, and the rules a pair must pass to be trained on
(``models/translator/corpus.py`` finds, fetches and assembles them).
"""

from __future__ import annotations

import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html import unescape

MAX_CHARS = 200
MAX_RATIO = 3.0


# -- cleaning -------------------------------------------------------------------------------------
_PLACEHOLDER = re.compile(r"%[-+#0-9.*$]*(?:l{0,2}|h{0,2}|[jztLqI]|I64)[diouxXeEfgGcsSpn@]|%\(\w+\)[a-z]|%\d|"
                          r"\{[^{}]*\}|\$\{[^}]*\}|\$\w+|<\w+/>|&\w+;(?=\S)")
_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
_QT_ACCEL = re.compile(r"\s*\(&\w\)")
_ACCEL = re.compile(r"(?<![\w&])[_&~](?=\w)")
_SPACES = re.compile(r"\s+")
_KEYLIKE = re.compile(r"^[\w.-]+$")


def clean_text(text: str) -> str:
    """One UI or help string as plain text: no markup, entities, accelerators or line breaks."""
    text = _TAG.sub("", text)
    text = unescape(text)
    text = _QT_ACCEL.sub("", text).replace("&&", "\x00")
    text = _ACCEL.sub("", text).replace("\x00", "&")
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"').replace("„", '"')
    text = text.replace("…", "...")
    return _SPACES.sub(" ", text).strip()


def keep_pair(de: str, en: str) -> bool:
    """Whether a cleaned pair is a real translation worth training on."""
    if not de or not en or de == en or len(de) > MAX_CHARS or len(en) > MAX_CHARS:
        return False
    if not any(c.isalpha() for c in en) or not any(c.isalpha() for c in de):
        return False
    if "translator" in en.lower() and "credit" in en.lower():
        return False
    if " " not in en and _KEYLIKE.match(en) and ("." in en or "_" in en[1:]):
        return False  # a key like ui.button.ok, not English
    if "/" in en and " " not in en:
        return False  # paths, MIME types, menu paths
    if en.startswith("-") or de.startswith("-"):
        return False  # command-line option help
    ratio = (len(de) + 5) / (len(en) + 5)
    return 1 / MAX_RATIO <= ratio <= MAX_RATIO


def has_placeholder(text: str) -> bool:
    return bool(_PLACEHOLDER.search(text))


# -- gettext ---------------------------------------------------------------------------------------
def read_mo(data: bytes) -> Iterator[tuple[str, str]]:
    """(English msgid, German msgstr) pairs of one ``.mo`` catalog: context dropped, plural forms
    paired (singular → ``msgstr[0]``, plural → ``msgstr[1]``), the header skipped. A catalog whose
    header says "CHARSET" is read as UTF-8."""
    if len(data) < 28:
        return
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">" if magic == 0xDE120495 else None
    if order is None:
        return
    _, count, ids_at, strs_at = struct.unpack(order + "4I", data[4:20])
    charset = "utf-8"
    entries = []
    for i in range(count):
        id_len, id_off = struct.unpack(order + "2I", data[ids_at + 8 * i: ids_at + 8 * i + 8])
        str_len, str_off = struct.unpack(order + "2I", data[strs_at + 8 * i: strs_at + 8 * i + 8])
        entries.append((data[id_off: id_off + id_len], data[str_off: str_off + str_len]))
    for msgid, msgstr in entries:
        if not msgid:
            match = re.search(rb"charset=([\w-]+)", msgstr)
            if match and match.group(1).upper() != b"CHARSET":
                charset = match.group(1).decode("ascii")
    for msgid, msgstr in entries:
        if not msgid or not msgstr:
            continue
        try:
            source, target = msgid.decode(charset), msgstr.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
        source = source.split("\x04", 1)[-1]  # msgctxt
        sources, targets = source.split("\x00"), target.split("\x00")
        if len(sources) == 1:
            yield sources[0], targets[0]
        else:
            yield sources[0], targets[0]
            if len(targets) > 1:
                yield sources[1], targets[1]


# -- Mallard help ----------------------------------------------------------------------------------
_BLOCKS = {"title", "desc", "p", "item", "td", "note", "code"}


def page_blocks(data: bytes) -> list[str] | None:
    """The text of a Mallard page's leaf blocks in document order; None when it does not parse."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return None
    out = []
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag in _BLOCKS and not any(child.tag.rsplit("}", 1)[-1] in _BLOCKS for child in element):
            inline = {child.tag.rsplit("}", 1)[-1] for child in element.iter()}
            # menu paths and key sequences run together as text ("FehlerdiagnoseInformation"): no prose
            out.append("" if inline & {"guiseq", "keyseq", "code"} else clean_text("".join(element.itertext())))
    return out
