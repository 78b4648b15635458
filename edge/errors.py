"""The exceptions callers catch: each carries a one-line, user-facing reason."""


class ArTranslateError(Exception):
    """Base class; the CLI prints ``error: <message>`` and exits 1 (2 for usage errors)."""

    exit_code = 1


class InputError(ArTranslateError):
    """The input (file, folder, camera, image) cannot be read or is not what it claims to be."""


class OutputError(ArTranslateError):
    """An output path cannot be written."""


class ModelNotFound(ArTranslateError):
    """A model named in the catalog is not installed, or its files are missing."""


class UnsupportedLanguagePair(ArTranslateError):
    """No installed translator for the pair; the message lists what is installed."""

    exit_code = 2


class RuntimeMissing(ArTranslateError):
    """A runtime library (LiteRT, Tesseract, CTranslate2) is not installed."""


class PullError(ArTranslateError):
    """Downloading or installing a model failed (offline, checksum mismatch, unsafe archive)."""
