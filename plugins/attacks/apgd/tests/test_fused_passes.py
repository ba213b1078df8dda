"""APGD through output_gradient (one forward + one backward per iteration) equals the predict + gradient path."""

import numpy as np
import pytest

from feint.testing import trained_reference, without_native_output_gradient
from feint_attack_apgd import AutoProjectedGradientDescent


@pytest.mark.parametrize("params", [
    {"loss_type": "ce"},
    {"loss_type": "dlr"},
    {"loss_type": "ce", "targeted": True, "target": "next"},
    {"loss_type": "dlr", "targeted": True, "target": "next"},
])
def test_both_paths_give_the_same_examples_and_the_fused_one_fewer_passes(params):
    clf, x, _ = trained_reference("mlp", nb_classes=5, dtype="float64")
    x = x[:40]
    slow = without_native_output_gradient(clf)
    slow.counts = type(clf.counts)()
    kw = {"eps": 0.15, "max_iter": 25, "nb_random_init": 2, "random_state": 0, "verbose": False, **params}
    fast_res = AutoProjectedGradientDescent(clf, **kw).run(x)
    slow_res = AutoProjectedGradientDescent(slow, **kw).run(x)
    np.testing.assert_allclose(fast_res.x_adv, slow_res.x_adv, atol=1e-9)
    assert 0 < fast_res.success_rate < 1                      # both outcomes are exercised
    # fused: one forward per iteration instead of two
    assert fast_res.passes["forward_samples"] < 0.75 * slow_res.passes["forward_samples"]
