"""feint plugin: the feature-squeezing detector of Xu et al. 2018 (``featsqueeze_detector``)."""

from feint_defence_featsqueeze_detector.detector import FeatureSqueezingDetector

__version__ = "0.1.1"
__all__ = ["FeatureSqueezingDetector"]
