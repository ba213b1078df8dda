"""feint plugin: fast adversarial training, FGSM with a random start (Wong et al. 2020)."""

from feint_defence_fast_adversarial_trainer.trainer import FastAdversarialTrainer

__version__ = "0.1.1"
__all__ = ["FastAdversarialTrainer"]
