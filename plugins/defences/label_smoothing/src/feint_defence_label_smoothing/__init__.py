"""feint plugin: label smoothing (``label_smoothing``, ``labsmooth``, ``label_smooth``)."""

from feint_defence_label_smoothing.label_smoothing import LabelSmoothing

__version__ = "0.1.1"
__all__ = ["LabelSmoothing"]
