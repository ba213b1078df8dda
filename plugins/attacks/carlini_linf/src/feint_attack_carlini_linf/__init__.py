"""feint plugin: Carlini & Wagner's Linf attack (iterative tau reduction)."""

from feint_attack_carlini_linf.attack import CarliniLInfMethod

__version__ = "0.2.2"
__all__ = ["CarliniLInfMethod"]
