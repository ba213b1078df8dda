"""feint plugin: Auto-PGD (Croce & Hein 2020), the step-size-free PGD of AutoAttack."""

from feint_attack_apgd.attack import AutoProjectedGradientDescent

__version__ = "0.2.2"
__all__ = ["AutoProjectedGradientDescent"]
