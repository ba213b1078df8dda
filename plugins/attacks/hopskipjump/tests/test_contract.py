import numpy as np
import pytest

from feint.testing import check_attack, trained_reference
from feint_attack_hopskipjump import HopSkipJump

SMALL = {"max_iter": 4, "init_eval": 20, "max_eval": 60, "init_size": 20}


@pytest.fixture(scope="module")
def model():
    return trained_reference("mlp")


@pytest.mark.parametrize("params", [{}, {"norm": np.inf}, {"target": "next"},
                                    {"targeted": True, "target": "least_likely", "norm": "inf"}])
def test_contract(model, params):
    clf, x, _ = model
    check_attack(HopSkipJump(clf, **SMALL, **params, verbose=False), x[:24], success_threshold=0.9)
