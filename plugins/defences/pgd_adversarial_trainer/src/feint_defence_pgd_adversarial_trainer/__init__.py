"""feint plugin: PGD adversarial training (Madry et al. 2018)."""

from feint_defence_pgd_adversarial_trainer.trainer import PGDAdversarialTrainer

__version__ = "0.1.1"
__all__ = ["PGDAdversarialTrainer"]
