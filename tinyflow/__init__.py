"""tinyflow: from data to a microcontroller and back."""

__version__ = "0.1.0"
