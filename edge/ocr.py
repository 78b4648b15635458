"""Recognition: Tesseract on each detected line, in-process through ``tesserocr`` (about 14× faster
per crop than spawning the ``tesseract`` binary), ``pytesseract`` where tesserocr is not installed.

Each line is cut out upright from its rotated quad, scaled so the text is about ``line_height_px``
tall, turned to grey and, when the sign is light-on-dark (white on red/green/blue), inverted so
Tesseract always sees dark text on a light ground.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from edge.errors import RuntimeMissing, UnsupportedLanguagePair
from models.catalog import user_home

# ISO 639-1 → Tesseract language codes for the languages Debian packages as tesseract-ocr-*.
TESSERACT_CODES = {
    "de": "deu", "en": "eng", "fr": "fra", "es": "spa", "it": "ita", "pt": "por", "nl": "nld",
    "pl": "pol", "cs": "ces", "sv": "swe", "da": "dan", "no": "nor", "fi": "fin", "tr": "tur",
    "ru": "rus", "uk": "ukr", "el": "ell", "hu": "hun", "ro": "ron", "ja": "jpn", "zh": "chi_sim",
    "ko": "kor", "ar": "ara",
}
AUTO_LANGUAGES = ("de", "fr", "es", "it", "en")  # what --source auto reads and tells apart (edge/langid.py)
NEURAL_LANGUAGES = ("en",)  # "auto" reads these with the neural line reader (edge/ppocr.py) when it is built:
# it reads more real-frame words than Tesseract (11 against 7 of 34); German reads better with Tesseract
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_LEAD_JUNK = re.compile(r"^[\W_]+", re.UNICODE)
_TAIL_JUNK = re.compile(r"[\W_]+$", re.UNICODE)
LINE_END_MARKS = ".,!?:;-"  # kept at a line's end when right after its last word: a notice's lines are joined and
# translated sentence by sentence ("Halten Sie," / "was Sie versprechen.", "Ein-" / "gang", ``edge/blocks.py``)


def trim_ends(text: str) -> str:
    """Junk off a line's ends (a border, a post read as "|", stray dots), but a sentence mark or hyphen
    right after the last word of a line of two words or more stays (on a one-word sign a mark is far
    more often noise: "Damen," in the dusk of the hard scenario)."""
    text = _LEAD_JUNK.sub("", text)
    tail = _TAIL_JUNK.search(text)
    if tail is None:
        return text
    kept = tail.group()[0] in LINE_END_MARKS and " " in text[: tail.start()]
    return text[: tail.start()] + (tail.group()[0] if kept else "")


@dataclass
class OcrOptions:
    language: str = "de"  # ISO 639-1 code of the sign text
    engine: str = "auto"  # "tesserocr", "pytesseract", "ppocr" (the neural line reader), "best" (both: the
    # cloud's) or "auto": ppocr for NEURAL_LANGUAGES when its model is built, else tesserocr, else pytesseract
    neural: bool = True  # engine "auto" may use the neural reader (False: Tesseract for every language; it
    # costs 68 MB resident, where a Tesseract language costs 8–14)
    neural_min_conf: float = 0.5  # the neural reader's readings below this mean character confidence are dropped
    second_opinion_below: float = 0.7  # engine "best": a reading less sure than this is read by the other engine
    # too, and the more confident reading is kept
    line_height_px: int = 40  # crops are rescaled so the line is about this tall
    min_conf: float = 0.3  # drop lines whose mean word confidence (0–1) is lower; long words read right
    # often score low because of a stray border glyph, so this floor is low ...
    min_conf_short: float = 0.6  # ... and this one is for readings of fewer than 4 letters, where garbage lives
    min_letters: int = 2  # drop lines with fewer letters (noise, single glyphs)
    min_letter_ratio: float = 0.5  # letters / non-space characters below this → garbage
    max_crop_width_px: int = 2400  # very long lines are scaled down to this width
    pad_along: float = 0.3  # when a glyph touches the crop's end, the line box is grown by this × its
    # height at that end and cut again ...
    pad_across: float = 0.1  # ... and by this × its height above and below
    grown_conf_margin: float = 0.1  # the grown box's reading wins unless it is this much less confident: a
    # cut first glyph read as another letter ("Vartesaal") scores about as high as the whole word
    second_look_below: float = 0.9  # a reading less confident than this is read again and the more
    # confident of the two is kept (0 turns it off): from a sharpened crop when the camera was still,
    # from the plain crop when the first look was at a motion-deblurred one (edge/deblur.py)


@dataclass
class LineText:
    text: str
    conf: float  # mean word confidence, 0–1
    span: float | None = None  # share of the crop's ink width that the words read cover (None: not known);
    # far under 1 when only a piece of the line was read (the rest blurred, dim or behind something)
    lang: str | None = None  # the language it was read in (ISO 639-1; ``--source auto`` guesses it per line)
    band: tuple[float, float] | None = None  # read from this band of the box's height (``letter_band``): a loose box


def ink_span(grey: np.ndarray, words: list[tuple[int, int]]) -> float | None:
    """Share of the cleaned crop's ink columns (dark pixels) between the first and last read word's
    left and right ends ``words`` ((x0, x1) pairs); None when there is no ink or no word."""
    if not words or grey.size == 0:
        return None
    columns = np.flatnonzero((grey < 128).any(axis=0))
    if len(columns) < 2:
        return None
    ink = float(columns[-1] - columns[0] + 1)
    read = float(min(ink, max(x1 for _, x1 in words) - min(x0 for x0, _ in words)))
    return max(0.0, read) / ink


def tessdata_dirs() -> list[Path]:
    """Where traineddata files live: pulled ``tesseract-*`` models, ``$TESSDATA_PREFIX``, the system's.
    ``$AR_TRANSLATE_TESSDATA`` names the only folder used beside the pulled models: a device that ships
    its own languages (and a test) reads the same whatever ``tesseract-ocr-*`` packages the system has."""
    pulled = user_home() / "models"
    dirs = sorted(pulled.glob("tesseract-*")) if pulled.is_dir() else []
    if os.environ.get("AR_TRANSLATE_TESSDATA"):
        return [*dirs, Path(os.environ["AR_TRANSLATE_TESSDATA"])]
    if os.environ.get("TESSDATA_PREFIX"):
        dirs.append(Path(os.environ["TESSDATA_PREFIX"]))
    dirs += [Path(p) for p in sorted(glob.glob("/usr/share/tesseract-ocr/*/tessdata"), reverse=True)]
    dirs += [Path("/usr/share/tessdata"), Path("/usr/local/share/tessdata")]
    return dirs


def tesseract_language(iso: str) -> tuple[str, Path]:
    """The Tesseract code for an ISO code and the tessdata folder holding it."""
    code = TESSERACT_CODES.get(iso, iso)
    for folder in tessdata_dirs():
        if (folder / f"{code}.traineddata").is_file():
            return code, folder
    installed = sorted({p.stem for d in tessdata_dirs() for p in d.glob("*.traineddata")} - {"osd"})
    raise UnsupportedLanguagePair(
        f"no Tesseract data for language '{iso}' ({code}.traineddata); installed: {', '.join(installed) or 'none'}; "
        f"install tesseract-ocr-{code} or run: ar-translate models pull tesseract-{code}"
    )


def pad_quad(quad: np.ndarray, left: float, right: float, across: float) -> np.ndarray:
    """The quad grown by ``left`` and ``right`` × its height at the start and the end of the line and
    ``across`` × its height above and below: the detector's box is often tight at the ends, and a
    first or last glyph cut by it is lost (real frames: "BEWARE" read "CEWARE", "WHY" read "aN")."""
    quad = quad.astype(np.float32)
    height = float(np.linalg.norm(quad[3] - quad[0]))
    forward = quad[1] - quad[0]
    down = quad[3] - quad[0]
    forward = forward / max(1e-6, float(np.linalg.norm(forward)))
    down = down / max(1e-6, float(np.linalg.norm(down)))
    back, ahead, dy = forward * left * height, forward * right * height, down * across * height
    return np.float32([quad[0] - back - dy, quad[1] + ahead - dy, quad[2] + ahead + dy, quad[3] - back + dy])


def upright_crop(frame: np.ndarray, quad: np.ndarray, line_height_px: int, max_width_px: int,
                 grey: bool = True) -> np.ndarray:
    """Warp the rotated line quad (tl, tr, br, bl) to an upright strip (grey unless ``grey`` is False)
    ``line_height_px`` tall plus a margin of a tenth of the height on every side."""
    width = float(np.linalg.norm(quad[1] - quad[0]))
    height = float(np.linalg.norm(quad[3] - quad[0]))
    if width < 1 or height < 1:
        return np.zeros((0, 0), np.uint8)
    scale = line_height_px / height
    out_w = min(max_width_px, max(1, int(round(width * scale))))
    scale_x = out_w / width
    margin = line_height_px // 10
    target = np.float32([[margin, margin], [margin + out_w, margin], [margin + out_w, margin + line_height_px],
                         [margin, margin + line_height_px]])
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    if scale_x < 1.0:  # shrinking a long line: smooth first so glyph strokes survive
        frame = cv2.GaussianBlur(frame, (0, 0), 0.5 / scale_x)
    source = frame if frame.ndim == 2 or not grey else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    return cv2.warpPerspective(source, matrix, (out_w + 2 * margin, line_height_px + 2 * margin),
                               flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


BAND_MAX_SHARE = 0.6  # a line box whose letters span less of its height than this is cut down to their band ...
BAND_PAD = 0.25  # ... grown by this × the letters' height above and below


def letter_band(raw: np.ndarray, margin: int) -> tuple[float, float] | None:
    """Where a line's letters lie across its box, as fractions of the box's height (top, bottom), when they
    span less than ``BAND_MAX_SHARE`` of it; None otherwise. ``raw``: the upright crop (``upright_crop``, its
    ``margin`` on every side). In low light the detector's box of a far sign is often twice the line's
    height: it holds the sign's border and the wall, and one threshold over all of it parts wall from sign,
    not ink from ground. Letters: marks 0.15–0.8 of the box's height, under half its width, not hollow."""
    body = raw[margin: raw.shape[0] - margin, margin: raw.shape[1] - margin]
    if body.size == 0:
        return None
    _, ink = _ink(body)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    height, width = ink.shape
    x, y, w, h, area = (stats[1:, i] for i in range(5))
    letters = (h >= 0.15 * height) & (h <= 0.8 * height) & (w <= 0.5 * width) & (area >= 0.1 * w * h)
    if np.count_nonzero(letters) < 2:
        return None
    middle, size = np.median((y + h / 2)[letters]), float(np.median(h[letters]))
    inline = letters & (np.abs(y + h / 2 - middle) <= 0.6 * size)  # on the line: not a speck above or below it
    if not inline.any():
        return None
    top, bottom = float(y[inline].min()), float((y + h)[inline].max())  # ascenders and descenders kept
    if bottom - top >= BAND_MAX_SHARE * height or bottom - top < 0.1 * height:
        return None
    pad = max(2.0, BAND_PAD * size)
    return max(0.0, top - pad) / height, min(float(height), bottom + pad) / height


def band_quad(quad: np.ndarray, top: float, bottom: float) -> np.ndarray:
    """The part of a line quad (tl, tr, br, bl) between ``top`` and ``bottom`` (fractions of its height)."""
    quad = quad.astype(np.float32)
    left, right = quad[3] - quad[0], quad[2] - quad[1]
    return np.float32([quad[0] + top * left, quad[1] + top * right, quad[1] + bottom * right, quad[0] + bottom * left])


def _ink(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The crop turned dark-on-light (the ground is the majority class after Otsu) and its ink mask."""
    _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if np.count_nonzero(binary) < binary.size / 2:
        grey, binary = 255 - grey, 255 - binary
    return grey, binary == 0


def _components(ink: np.ndarray) -> tuple[np.ndarray, np.ndarray, set[int], set[int]]:
    """Labels and stats of the ink's components, and those touching the top or bottom / a side."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    top_bottom = set(np.unique(np.concatenate([labels[0], labels[-1]]))) - {0}
    sides = set(np.unique(np.concatenate([labels[:, 0], labels[:, -1]]))) - {0}
    return labels, stats, top_bottom, sides


def glyph_cut_sides(grey: np.ndarray) -> tuple[bool, bool]:
    """Whether a letter-sized mark (a third to nine tenths of the crop's height, clear of its top and
    bottom) touches the crop's left end, and its right end: the line box ended inside a glyph."""
    if grey.size == 0:
        return False, False
    _, ink = _ink(grey)
    labels, stats, top_bottom, _ = _components(ink)
    height = ink.shape[0]
    letters = {i for i in range(1, len(stats)) if 0.3 * height <= stats[i, cv2.CC_STAT_HEIGHT] <= 0.9 * height} - top_bottom
    return bool(letters & set(labels[:, 0].tolist())), bool(letters & set(labels[:, -1].tolist()))


def clean_crop(grey: np.ndarray, pad_px: int) -> np.ndarray:
    """Black text on a white ground, edge-touching marks removed, with a white margin.

    The sign's ground is the majority class after Otsu, so light-on-dark crops are inverted.
    Levels are stretched so the ground becomes white and the ink black: a grey ground beside a
    white margin would otherwise make Tesseract's own Otsu split grey from white and blacken the
    whole sign. Dark components that touch the crop's top or bottom edge are sign borders, frames
    or the neighbouring line: painted white; at the left and right edges only border-like ones
    (spanning the height, or long bars) are: a letter cut by the box's end stays.
    """
    grey, ink = _ink(grey)
    if ink.any() and (~ink).any():
        ink_level, ground_level = float(np.median(grey[ink])), float(np.median(grey[~ink]))
        if ground_level - ink_level > 10:
            grey = np.clip((grey.astype(np.float32) - ink_level) * (255.0 / (ground_level - ink_level)), 0, 255).astype(np.uint8)
    labels, stats, top_bottom, sides = _components(ink)
    height, width = ink.shape
    border = {i for i in sides if stats[i, cv2.CC_STAT_HEIGHT] >= 0.9 * height or stats[i, cv2.CC_STAT_WIDTH] >= 0.5 * width}
    edge = sorted(top_bottom | border)
    if edge:
        grey = grey.copy()
        grey[np.isin(labels, edge)] = 255
    return cv2.copyMakeBorder(grey, pad_px, pad_px, pad_px, pad_px, cv2.BORDER_CONSTANT, value=255)


def sharpen(grey: np.ndarray, amount: float = 0.8, sigma: float = 1.5) -> np.ndarray:
    """Unsharp mask: ``grey + amount × (grey − blurred)``."""
    return cv2.addWeighted(grey, 1 + amount, cv2.GaussianBlur(grey, (0, 0), sigma), -amount, 0)


BAR_GLYPHS = "ı|¦"  # what Tesseract makes of a post or a bar in front of a line; no letter of the languages
# served except Turkish's dotless i, so they are dropped as junk for every other language
BAR_LANGUAGES_EXEMPT = ("tr", "az")
_BARS_TO_SPACES = str.maketrans(BAR_GLYPHS, " " * len(BAR_GLYPHS))


def clean_line(text: str, conf: float, options: OcrOptions, span: float | None = None) -> LineText | None:
    """Trim edge junk and bar glyphs; None when the line has too few letters or too little confidence."""
    if options.language not in BAR_LANGUAGES_EXEMPT:
        text = text.translate(_BARS_TO_SPACES)
    text = trim_ends(" ".join(text.split()))
    letters = len(_LETTER.findall(text))
    visible = len(text.replace(" ", ""))
    floor = options.min_conf_short if letters < 4 else options.min_conf
    if letters < options.min_letters or conf < floor or letters < options.min_letter_ratio * visible:
        return None
    return LineText(text, conf, span)


class _TesserocrEngine:
    def __init__(self, code: str, tessdata: Path):
        import tesserocr

        self._modes = (tesserocr.PSM.SINGLE_LINE, tesserocr.PSM.RAW_LINE)
        self._words, self._word = tesserocr.iterate_level, tesserocr.RIL.WORD
        self._api = tesserocr.PyTessBaseAPI(path=str(tessdata) + os.sep, lang=code, psm=tesserocr.PSM.SINGLE_LINE,
                                            oem=tesserocr.OEM.LSTM_ONLY)

    def read(self, grey: np.ndarray) -> tuple[str, float, float | None]:
        """Single-line mode; when its layout step finds no line, the raw-line mode (no layout) once more.
        (text, mean word confidence 0–1, ``ink_span`` of the words read)."""
        grey = np.ascontiguousarray(grey)
        for psm in self._modes:
            self._api.SetPageSegMode(psm)
            self._api.SetImageBytes(grey.tobytes(), grey.shape[1], grey.shape[0], 1, grey.shape[1])
            text = self._api.GetUTF8Text()
            if text.strip():
                break
        confs = [c for c in self._api.AllWordConfidences() if c >= 0]
        words = []
        for word in self._words(self._api.GetIterator(), self._word):
            box = word.BoundingBox(self._word)
            if box and (word.GetUTF8Text(self._word) or "").strip():
                words.append((box[0], box[2]))
        return text, (sum(confs) / len(confs) / 100.0) if confs else 0.0, ink_span(grey, words)


class _PytesseractEngine:
    def __init__(self, code: str, tessdata: Path):
        import pytesseract

        self._pt = pytesseract
        self._config = f'--psm 7 --oem 1 --tessdata-dir "{tessdata}"'
        self._code = code

    def read(self, grey: np.ndarray) -> tuple[str, float, float | None]:
        data = self._pt.image_to_data(grey, lang=self._code, config=self._config, output_type=self._pt.Output.DICT)
        kept = [i for i, (w, c) in enumerate(zip(data["text"], data["conf"])) if w.strip() and float(c) >= 0]
        if not kept:
            return "", 0.0, None
        boxes = [(int(data["left"][i]), int(data["left"][i]) + int(data["width"][i])) for i in kept]
        return (" ".join(data["text"][i] for i in kept), sum(float(data["conf"][i]) for i in kept) / len(kept) / 100.0,
                ink_span(grey, boxes))


def _make_engine(name: str, code: str, tessdata: Path):
    if name in ("auto", "tesserocr"):
        try:
            return _TesserocrEngine(code, tessdata)
        except ImportError:
            if name == "tesserocr":
                raise RuntimeMissing("tesserocr is not installed: pip install tesserocr") from None
    try:
        engine = _PytesseractEngine(code, tessdata)
        engine._pt.get_tesseract_version()
        return engine
    except (ImportError, OSError, RuntimeError) as exc:
        raise RuntimeMissing("no Tesseract engine: pip install tesserocr (or pytesseract + apt tesseract-ocr)") from exc


def _neural_reader(options: OcrOptions):
    """The neural line reader when ``options`` ask for it ("ppocr", "best", or "auto" for a language in
    ``NEURAL_LANGUAGES``), else None."""
    wanted = options.engine in ("ppocr", "best") or (options.engine == "auto" and options.neural
                                                     and options.language in NEURAL_LANGUAGES)
    if not wanted:
        return None
    from edge.ppocr import PpocrReader
    from models.catalog import find

    entry = find("ppocrv5-rec")
    if not entry.installed() or not entry.file("model").is_file():
        if options.engine == "ppocr":
            raise RuntimeMissing("the neural line reader's model is not built: python -m models.convert_recognizer")
        return None
    try:
        return PpocrReader(entry.file("model"), entry.file("characters"))
    except RuntimeMissing:
        if options.engine == "ppocr":
            raise
        return None  # no onnxruntime: Tesseract reads


class Recognizer:
    """Reads text lines with Tesseract or the neural line reader (``OcrOptions.engine``); one instance of
    each engine, reused for every crop. ``engine="best"`` (the cloud service: no memory budget) holds
    both: the language's own reader first, the other as a second opinion when the first is unsure."""

    def __init__(self, options: OcrOptions | None = None):
        self.options = options or OcrOptions()
        self.neural = _neural_reader(self.options)
        self.engine = None
        if self.neural is None or self.options.engine == "best":
            code, tessdata = tesseract_language(self.options.language)
            self.engine = _make_engine("auto" if self.options.engine == "best" else self.options.engine, code, tessdata)
        self.neural_first = self.neural is not None and (self.engine is None or self.options.language in NEURAL_LANGUAGES)
        names = ["ppocrv5" if self.neural else None,
                 None if self.engine is None else "tesserocr" if isinstance(self.engine, _TesserocrEngine) else "pytesseract"]
        self.engine_name = "+".join(n for n in (names if self.neural_first else names[::-1]) if n)

    def prepare(self, frame: np.ndarray, quad: np.ndarray, grown: tuple[bool, bool] = (False, False)) -> np.ndarray:
        """The upright, dark-on-light grey crop Tesseract is given for one line; ``grown``: cut from the
        line box grown at its start and/or its end (``pad_along``, ``pad_across``)."""
        if any(grown):
            along = self.options.pad_along
            quad = pad_quad(quad, along * grown[0], along * grown[1], self.options.pad_across)
        return self._clean(upright_crop(frame, quad, self.options.line_height_px, self.options.max_crop_width_px))

    def _clean(self, crop: np.ndarray) -> np.ndarray:
        return clean_crop(crop, self.options.line_height_px // 3) if crop.size else crop

    def read(self, frame: np.ndarray, quad: np.ndarray, restored: np.ndarray | None = None,
             narrow: bool = False) -> LineText | None:
        """The text of one line, or None when it is empty or looks like garbage. ``restored``: the frame
        with the camera's motion smear undone (``edge.deblur``); the line is then read from it first.
        ``narrow``: the box may be loose (low light): Tesseract reads the band its letters lie in."""
        source = frame if restored is None else restored
        first, second = (self._read_neural, self._read_tesseract) if self.neural_first else \
            (self._read_tesseract, self._read_neural)
        line = first(frame, source, quad, restored, narrow)
        both = self.neural is not None and self.engine is not None  # engine "best"
        if both and (line is None or line.conf < self.options.second_opinion_below):
            other = second(frame, source, quad, restored, narrow)
            if other is not None and (line is None or other.conf > line.conf):
                line = other
        return None if line is None else replace(line, lang=self.options.language)

    def _read_neural(self, frame: np.ndarray, source: np.ndarray, quad: np.ndarray, restored,
                     narrow: bool = False) -> LineText | None:
        """The neural reader on the colour crop of the box as it is (``narrow`` is Tesseract's: the neural
        reader was not measured on loose boxes)."""
        crop = upright_crop(source, quad, self.neural.options.height_px, self.neural.options.max_width_px, grey=False)
        if crop.size == 0:
            return None
        text, conf = self.neural.read_crop(crop)
        return clean_line(text, conf, self.options) if conf >= self.options.neural_min_conf else None

    def _read_tesseract(self, frame: np.ndarray, source: np.ndarray, quad: np.ndarray, restored,
                        narrow: bool = False) -> LineText | None:
        """Tesseract on the cleaned crop. When a glyph touches the crop's end (the box ended inside it)
        the line is also read from a grown box, kept unless clearly less confident (growing every box
        cost 3 of 204 rendered signs); an unsure reading gets a second look (sharpened, or unrestored). With
        ``narrow``, a loose box (``letter_band``) is read in its letters' band."""
        raw = upright_crop(source, quad, self.options.line_height_px, self.options.max_crop_width_px)
        band = letter_band(raw, self.options.line_height_px // 10) if narrow and raw.size else None
        if band is not None:
            quad = band_quad(quad, *band)
            raw = upright_crop(source, quad, self.options.line_height_px, self.options.max_crop_width_px)
        first = self._clean(raw)
        if first.size == 0:  # the quad's size alone decides: the same for the plain frame
            return None
        text, conf, span = self.engine.read(first)
        cut = glyph_cut_sides(raw) if self.options.pad_along else (False, False)
        if any(cut):  # grown only at the end that cuts a glyph: the other may reach the sign's border
            grown, grown_conf, grown_span = self.engine.read(self.prepare(source, quad, grown=cut))
            if grown_conf >= conf - self.options.grown_conf_margin:
                text, conf, span = grown, grown_conf, grown_span
        if conf < self.options.second_look_below:  # the plain crop is cut only when it is needed
            again, again_conf, again_span = self.engine.read(sharpen(first) if restored is None else self.prepare(frame, quad))
            if again_conf > conf:
                text, conf, span = again, again_conf, again_span
        line = clean_line(text, conf, self.options, span)
        return line if line is None or band is None else replace(line, band=band)
