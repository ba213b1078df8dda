"""feint plugin: CLEVER robustness scores (targeted and untargeted), batched."""

from feint_metric_clever.clever import CleverFitWarning, clever_t, clever_u

__version__ = "0.1.1"
__all__ = ["CleverFitWarning", "clever_t", "clever_u"]
