"""feint plugin: ZOO, the zeroth-order black-box attack of Chen et al. (2017)."""

from feint_attack_zoo.attack import ZooAttack, ZooResult

__version__ = "0.1.1"
__all__ = ["ZooAttack", "ZooResult"]
