"""feint plugin: light metrics (success rate, robust accuracy, perturbation norms, rho2)."""

from feint_metric_basic.linearised import rho2
from feint_metric_basic.perturbation import perturbation_norm, perturbation_norm_stats
from feint_metric_basic.rates import robust_accuracy, success_rate

__version__ = "0.1.1"
__all__ = ["perturbation_norm", "perturbation_norm_stats", "rho2", "robust_accuracy", "success_rate"]
