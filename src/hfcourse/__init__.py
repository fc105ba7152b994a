"""hfcourse: a verified, interactive Hugging Face Transformers course platform."""

__version__ = "0.1.0"
