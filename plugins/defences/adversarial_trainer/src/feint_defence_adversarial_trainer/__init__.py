"""feint plugin: adversarial training by static augmentation (ART paper §6.1)."""

from feint_defence_adversarial_trainer.trainer import AdversarialTrainer

__version__ = "0.1.1"
__all__ = ["AdversarialTrainer"]
