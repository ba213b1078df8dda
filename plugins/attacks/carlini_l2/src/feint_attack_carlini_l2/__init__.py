"""feint plugin: the Carlini & Wagner L2 attack."""

from feint_attack_carlini_l2.attack import CarliniL2Method

__version__ = "0.2.3"
__all__ = ["CarliniL2Method"]
