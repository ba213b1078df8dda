"""feint plugin: the Virtual Adversarial Method."""

from feint_attack_vat.attack import VirtualAdversarialMethod

__version__ = "0.1.5"
__all__ = ["VirtualAdversarialMethod"]
