"""Recognition: Tesseract on each detected line, in-process through ``tesserocr`` (about 14× faster
per crop than spawning the ``tesseract`` binary), ``pytesseract`` where tesserocr is not installed.

Each line is cut out upright from its rotated quad, scaled so the text is about ``line_height_px``
tall, turned to grey and, when the sign is light-on-dark (white on red/green/blue), inverted so
Tesseract always sees dark text on a light ground (``edge/linecrop.py``).
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from edge.errors import RuntimeMissing, UnsupportedLanguagePair
from edge.linecrop import band_quad, clean_crop, glyph_cut_sides, ink_span, letter_band, pad_quad, sharpen, upright_crop
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
        band = letter_band(raw, self.options.line_height_px // 10) if narrow else None  # an empty crop has none
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
