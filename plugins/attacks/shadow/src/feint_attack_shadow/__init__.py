"""feint plugin: the Shadow attack (Ghiasi, Shafahi & Goldstein 2020)."""

from feint_attack_shadow.attack import ShadowAttack

__version__ = "0.1.1"
__all__ = ["ShadowAttack"]
