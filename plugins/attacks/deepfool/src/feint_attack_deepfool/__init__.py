"""feint plugin: DeepFool, the minimal L2 attack by iterative linearisation."""

from feint_attack_deepfool.attack import DeepFool

__version__ = "0.2.1"
__all__ = ["DeepFool"]
