"""feint plugin: Projected Gradient Descent with random starts."""

from feint_attack_pgd.attack import ProjectedGradientDescent

__version__ = "0.1.1"
__all__ = ["ProjectedGradientDescent"]
