import pytest

import feint
from feint.testing import check_preprocessor
from feint_defence_gaussian_augmentation import GaussianAugmentation


@pytest.mark.parametrize("params", [{"random_state": 0}, {"sigma": 0.3, "ratio": 0.5, "random_state": 1},
                                    {"sigma": 0.1, "ratio": 2.5, "clip_values": (0.0, 1.0), "random_state": 2}])
def test_contract(params):
    check_preprocessor(GaussianAugmentation(**params))


def test_spec():
    assert feint.create("defence", "gaussian_augmentation(sigma=0.3)") == GaussianAugmentation(sigma=0.3)
