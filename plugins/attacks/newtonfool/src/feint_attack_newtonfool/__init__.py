"""feint plugin: NewtonFool, Newton-like descent of the probability of the true class."""

from feint_attack_newtonfool.attack import NewtonFool

__version__ = "0.2.2"
__all__ = ["NewtonFool"]
