"""feint plugin: a binary input detector trained on clean vs adversarial inputs (``binary_input_detector``)."""

from feint_defence_binary_input_detector.detector import BinaryInputDetector

__version__ = "0.1.1"
__all__ = ["BinaryInputDetector"]
