"""The desktop GUI: the only package allowed to import PySide6, qasync and pyqtgraph."""
