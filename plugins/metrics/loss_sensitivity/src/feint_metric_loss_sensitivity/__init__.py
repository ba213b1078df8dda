"""feint plugin: loss sensitivity, the mean gradient norm at the test inputs."""

from feint_metric_loss_sensitivity.metric import loss_sensitivity

__version__ = "0.2.1"
__all__ = ["loss_sensitivity"]
