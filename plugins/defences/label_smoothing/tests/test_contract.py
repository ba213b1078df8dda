import pytest

import feint
from feint.testing import check_preprocessor
from feint_defence_label_smoothing import LabelSmoothing


@pytest.mark.parametrize("params", [{}, {"max_value": 0.8}, {"max_value": 1.0}])
def test_contract(params):
    check_preprocessor(LabelSmoothing(**params))


@pytest.mark.parametrize("spec", ["label_smoothing", "labsmooth", "label_smooth"])
def test_paper_specs(spec):
    assert feint.create("defence", spec) == LabelSmoothing()
    assert feint.create("defence", spec + "(max_value=0.7)") == LabelSmoothing(max_value=0.7)
