import numpy as np
import pytest

import feint
from feint.testing import check_preprocessor
from feint_defence_tvm import TotalVarMin


@pytest.mark.parametrize("params", [{"random_state": 0}, {"prob": 0.8, "lamb": 0.1, "norm": 1, "random_state": 1},
                                    {"max_iter": 5, "channel_index": 3, "random_state": 2}])
def test_contract(params):
    check_preprocessor(TotalVarMin(**params))


def test_contract_colour_other_range():
    x = np.random.default_rng(0).uniform(-1, 1, (3, 3, 10, 9)).astype(np.float32)
    check_preprocessor(TotalVarMin(clip_values=(-1.0, 1.0), random_state=0), x=x, skip=("phases",))


def test_spec():
    assert feint.create("defence", "tvm(prob=0.8, lamb=0.1)") == TotalVarMin(prob=0.8, lamb=0.1)
