"""feint plugin: the Jacobian-based Saliency Map Attack (JSMA)."""

from feint_attack_jsma.attack import SaliencyMapMethod

__version__ = "0.2.4"
__all__ = ["SaliencyMapMethod"]
