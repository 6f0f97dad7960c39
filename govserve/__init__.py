"""govserve: run public services digitally, end to end."""

__version__ = "0.1.0"
