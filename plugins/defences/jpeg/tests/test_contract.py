import numpy as np
import pytest

import feint
from feint.testing import check_preprocessor
from feint_defence_jpeg import JpegCompression


@pytest.mark.parametrize("params", [{}, {"quality": 10}, {"quality": 90, "channel_index": 3}])
def test_contract(params):
    check_preprocessor(JpegCompression(**params))


def test_contract_colour_and_other_range():
    x = np.random.default_rng(0).uniform(-1, 1, (4, 3, 16, 12)).astype(np.float32)
    check_preprocessor(JpegCompression(clip_values=(-1.0, 1.0)), x=x, skip=("phases",))


def test_spec_and_chain():
    assert feint.create("defence", "jpeg(quality=75)") == JpegCompression(quality=75)
    pytest.importorskip("feint_defence_spatial_smoothing")
    chain = feint.create("defence", "smooth+jpeg(quality=75)")
    assert isinstance(chain, feint.PreprocessorChain) and isinstance(chain, feint.Preprocessor)
    assert [type(s).__name__ for s in chain.steps] == ["SpatialSmoothing", "JpegCompression"]
    assert str(chain) == "spatial_smoothing+jpeg(quality=75)" and feint.create("defence", str(chain)) == chain
    check_preprocessor(chain, skip=("spec",))
