"""feint plugin: HopSkipJump, the decision-based attack of Chen, Jordan & Wainwright (2020)."""

from feint_attack_hopskipjump.attack import HopSkipJump, HopSkipJumpResult

__version__ = "0.1.2"
__all__ = ["HopSkipJump", "HopSkipJumpResult"]
