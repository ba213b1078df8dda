import warnings

import numpy as np

import feint
from feint.testing import check_metric, trained_reference


def test_contract_clever_u_and_t():
    clf, x, _ = trained_reference("mlp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # fits may fall back on a tiny model; that is tested elsewhere
        u = check_metric(feint.create("metric", "clever_u(n_batch=10, n_sample=5)"), clf, x[:6])
        t = check_metric(feint.create("metric", "clever_t(target_class='next', n_batch=10, n_sample=5)"), clf, x[:6])
    assert u.shape == (6,) and t.shape == (6,)
    assert np.all(u <= t + 1e-12)          # the untargeted score is the minimum over targets


def test_facade_and_spec_roundtrip():
    from feint.metrics import clever_t, clever_u

    m = feint.create("metric", "clever_u(r=0.5, norm=inf)")
    assert m.func is clever_u and str(m) == "clever_u(r=0.5, norm=inf)"
    assert feint.create("metric", str(m)) == m
    assert feint.load("metric", "clever_t") is clever_t
