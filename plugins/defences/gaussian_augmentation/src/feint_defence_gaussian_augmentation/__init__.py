"""feint plugin: Gaussian data augmentation of training sets (``gaussian_augmentation``)."""

from feint_defence_gaussian_augmentation.gaussian_augmentation import GaussianAugmentation

__version__ = "0.1.1"
__all__ = ["GaussianAugmentation"]
