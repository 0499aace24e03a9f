"""Denoise Studio's pure-NumPy neural-network engine (never imports Qt)."""

__version__ = "0.1.0"
