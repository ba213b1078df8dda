import numpy as np
import pytest

import feint
from feint.testing import check_preprocessor
from feint_defence_featsqueeze import FeatureSqueezing


@pytest.mark.parametrize("params", [{}, {"bit_depth": 1}, {"bit_depth": 5, "clip_values": (0.0, 1.0)},
                                    {"bit_depth": 3, "rounding": "nearest"}])
def test_contract(params):
    check_preprocessor(FeatureSqueezing(**params), idempotent=True)


def test_contract_on_another_range():
    x = np.random.default_rng(0).uniform(-3, 5, (6, 8, 8, 1)).astype(np.float32)
    check_preprocessor(FeatureSqueezing(bit_depth=4, clip_values=(-3.0, 5.0)), x=x, idempotent=True, skip=("phases",))


@pytest.mark.parametrize("b", range(1, 9))
def test_compact_specs(b):
    fs = feint.create("defence", f"featsqueeze{b}")
    assert isinstance(fs, FeatureSqueezing) and fs.bit_depth == b
    assert feint.create("defence", str(fs)) == fs


def test_bare_spec_is_eight_bits():
    assert feint.create("defence", "featsqueeze") == FeatureSqueezing(bit_depth=8)
