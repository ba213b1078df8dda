import numpy as np
import pytest

import feint
from feint.testing import check_preprocessor
from feint_defence_spatial_smoothing import SpatialSmoothing


@pytest.mark.parametrize("params", [{}, {"window_size": 2}, {"window_size": 5}, {"channel_index": 3}])
def test_contract(params):
    check_preprocessor(SpatialSmoothing(**params))


def test_contract_channels_first_colour():
    x = np.random.default_rng(0).random((4, 3, 9, 7)).astype(np.float32)
    check_preprocessor(SpatialSmoothing(channel_index=1), x=x, skip=("phases",))


@pytest.mark.parametrize("spec, expected", [("smooth", SpatialSmoothing()),
                                            ("spatial_smoothing(window_size=4)", SpatialSmoothing(window_size=4)),
                                            ("smooth(window_size=2, channel_index=1)",
                                             SpatialSmoothing(window_size=2, channel_index=1))])
def test_specs(spec, expected):
    assert feint.create("defence", spec) == expected
