"""feint plugin: empirical robustness, the mean relative size of successful adversarial perturbations."""

from feint_metric_empirical_robustness.metric import empirical_robustness

__version__ = "0.1.1"
__all__ = ["empirical_robustness"]
