"""feint plugin: JPEG compression as an input defence (``jpeg``), through Pillow's codec."""

from feint_defence_jpeg.jpeg_compression import JpegCompression

__version__ = "0.1.1"
__all__ = ["JpegCompression"]
