"""feint plugin: feature squeezing (bit-depth reduction), ``featsqueeze`` / ``featsqueeze1``..``featsqueeze8``."""

from feint_defence_featsqueeze.feature_squeezing import FeatureSqueezing

__version__ = "0.1.1"
__all__ = ["FeatureSqueezing"]
