"""feint plugin: spatial smoothing, a per-channel median filter (``spatial_smoothing``, ``smooth``)."""

from feint_defence_spatial_smoothing.spatial_smoothing import SpatialSmoothing

__version__ = "0.1.1"
__all__ = ["SpatialSmoothing"]
