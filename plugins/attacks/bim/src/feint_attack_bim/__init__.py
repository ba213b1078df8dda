"""feint plugin: the Basic Iterative Method (iterative FGSM with projection)."""

from feint_attack_bim.attack import BasicIterativeMethod

__version__ = "0.1.1"
__all__ = ["BasicIterativeMethod"]
