"""feint plugin: the Fast Gradient (Sign) Method."""

from feint_attack_fgsm.attack import FastGradientMethod

__version__ = "0.1.1"
__all__ = ["FastGradientMethod"]
