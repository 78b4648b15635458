"""On-device AR translation: find text in frames, read it, translate it, draw it back over the sign."""

__version__ = "0.1.0"
