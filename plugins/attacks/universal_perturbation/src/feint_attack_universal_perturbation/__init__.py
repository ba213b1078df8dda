"""feint plugin: universal adversarial perturbations from any registered attack."""

from feint_attack_universal_perturbation.attack import UniversalPerturbation

__version__ = "0.1.1"
__all__ = ["UniversalPerturbation"]
