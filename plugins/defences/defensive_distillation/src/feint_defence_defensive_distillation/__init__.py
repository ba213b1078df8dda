"""feint plugin: defensive distillation (Papernot et al. 2016)."""

from feint_defence_defensive_distillation.classifier import DistilledClassifier
from feint_defence_defensive_distillation.distillation import DefensiveDistillation

__version__ = "0.1.1"
__all__ = ["DefensiveDistillation", "DistilledClassifier"]
