"""Denoise Studio's desktop app (PySide6 + pyqtgraph) over the engine."""
