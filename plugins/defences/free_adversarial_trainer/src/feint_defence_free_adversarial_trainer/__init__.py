"""feint plugin: free adversarial training, minibatch replay (Shafahi et al. 2019)."""

from feint_defence_free_adversarial_trainer.trainer import FreeAdversarialTrainer

__version__ = "0.1.1"
__all__ = ["FreeAdversarialTrainer"]
