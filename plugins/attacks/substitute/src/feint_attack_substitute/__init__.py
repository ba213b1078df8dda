"""feint plugin: the substitute-model black-box attack of Papernot et al. (2017)."""

from feint_attack_substitute.attack import SubstituteBlackBox, SubstituteResult

__version__ = "0.1.1"
__all__ = ["SubstituteBlackBox", "SubstituteResult"]
