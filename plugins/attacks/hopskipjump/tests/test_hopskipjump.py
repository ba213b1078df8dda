"""HopSkipJump: decision-only access, closed-form boundaries, starting points, strength on the digits CNN."""

import logging

import numpy as np
import pytest

import feint
from feint.errors import InvalidInputError, InvalidParameterError
from feint.testing import PredictOnly, SoftmaxRegression, trained_reference
from feint_attack_hopskipjump import HopSkipJump, HopSkipJumpResult
from feint_attack_hopskipjump._functional import DecisionOracle, binary_search


def _linear(nb_classes=2, d=6, seed=0):
    clf = SoftmaxRegression((d,), nb_classes, clip_values=(-10.0, 10.0), dtype="float64")
    rng = np.random.default_rng(seed)
    clf.W = rng.normal(size=(d, nb_classes))
    clf.b = rng.normal(size=nb_classes)
    x = rng.uniform(-1, 1, (8, d))
    return clf, x


def test_registered_with_alias():
    clf, _, _ = trained_reference("mlp", nb_epochs=2)
    atk = feint.create("attack", "hsj(max_iter=3)", clf)
    assert isinstance(atk, HopSkipJump) and atk.max_iter == 3
    assert HopSkipJump.threat_model() == "black-box" and HopSkipJump.requires == {"predict"}


def test_never_calls_a_gradient_and_counts_queries():
    clf, x, y = trained_reference("mlp")
    stub = PredictOnly(clf)
    y0 = stub.predict(x[:10]).argmax(1)
    stub.reset_counts()
    res = HopSkipJump(stub, max_iter=5, init_eval=20, max_eval=50, random_state=1, verbose=False).run(x[:10], y0)
    assert isinstance(res, HopSkipJumpResult) and res.success.all()
    assert res.passes["backward"] == 0
    # every forward sample spent by generate is a query of one sample (y given: no label pass)
    assert res.queries.sum() == res.passes["forward_samples"] and (res.queries > 0).all()
    assert res.summary()["mean_queries"] == pytest.approx(res.queries.mean())


@pytest.mark.parametrize("norm", [2, np.inf])
def test_binary_search_lands_on_the_boundary(norm):
    clf, x = _linear()
    y = clf.predict(x).argmax(1)
    oracle = DecisionOracle(clf, y, targeted=False)
    w = clf.W[:, 1] - clf.W[:, 0]
    b = clf.b[1] - clf.b[0]
    # an adversarial point far on the other side of the hyperplane w.x + b = 0
    s = np.sign(x @ w + b)[:, None]
    far = x - s * 3.0 * (np.abs(x @ w + b)[:, None] / (w @ w)) * w
    assert (clf.predict(far).argmax(1) != y).all()
    theta = 1e-6
    xb, _ = binary_search(oracle, np.arange(len(x)), x, far, theta, norm)
    assert (clf.predict(xb).argmax(1) != y).all()
    assert np.abs(xb @ w + b).max() < 1e-4 * np.abs(x @ w + b).max()


@pytest.mark.parametrize("norm, dual", [(2, 2), (np.inf, 1)])
def test_approaches_the_closed_form_minimum_on_a_linear_model(norm, dual):
    clf, x = _linear(seed=3)
    w = clf.W[:, 1] - clf.W[:, 0]
    b = clf.b[1] - clf.b[0]
    optimum = np.abs(x @ w + b) / np.linalg.norm(w, ord=dual)   # distance to the hyperplane in the norm
    res = HopSkipJump(clf, max_iter=15, init_eval=50, norm=norm, random_state=0, verbose=False).run(x)
    assert res.success.all()
    found = res.norms["l2" if norm == 2 else "linf"]
    assert (found >= optimum * (1 - 1e-6)).all()
    assert np.median(found / optimum) < 1.1


def test_targeted_with_x_init_and_from_the_batch(caplog):
    clf, x, y = trained_reference("mlp")
    pred = clf.predict(x).argmax(1)
    src = np.flatnonzero(pred == 0)[:6]
    tgt = np.full(6, 2)
    init = x[np.flatnonzero(pred == 2)[:6]]
    atk = HopSkipJump(clf, max_iter=4, init_eval=20, max_eval=60, targeted=True, random_state=0, verbose=False)
    res = atk.run(x[src], tgt, x_init=init)
    assert res.success.all()
    assert (res.norms["l2"] < np.linalg.norm((init - x[src]).reshape(6, -1), axis=1)).all()
    # no x_init: the nearest input of the call classified as the target is the start
    batch = np.concatenate([x[src], init])
    res2 = atk.run(batch, np.concatenate([tgt, np.full(6, 1)]))
    assert res2.success[:6].all()
    # no input of the target class and no x_init: returned unchanged, and logged
    with caplog.at_level(logging.WARNING, logger="feint.attacks.hopskipjump"):
        out = HopSkipJump(clf, max_iter=2, init_eval=10, init_size=2, targeted=True, random_state=0,
                          verbose=False).generate(x[src], tgt)
    lonely = np.all(out == x[src], axis=1)
    assert lonely.any() and "no adversarial starting point" in caplog.text


def test_bad_inputs_are_named():
    clf, x, _ = trained_reference("mlp", nb_epochs=2)
    atk = HopSkipJump(clf, max_iter=1, verbose=False)
    with pytest.raises(InvalidInputError, match="x_init must have the shape"):
        atk.generate(x[:4], x_init=x[:3])
    with pytest.raises(InvalidParameterError, match=r"'init_eval' parameter of HopSkipJump must be <= max_eval"):
        HopSkipJump(clf, init_eval=200, max_eval=100)
    with pytest.raises(InvalidParameterError, match="'norm'"):
        HopSkipJump(clf, norm=1)
    unbounded = SoftmaxRegression((8,), 3, clip_values=None)
    with pytest.raises(InvalidInputError, match="clip_values"):
        HopSkipJump(unbounded, verbose=False).generate(x[:2])


def test_inputs_untouched_and_float32_kept():
    clf, x, _ = trained_reference("mlp")
    xin = x[:6].copy()
    adv = HopSkipJump(clf, max_iter=2, init_eval=10, random_state=0, verbose=False).generate(xin)
    assert np.array_equal(xin, x[:6]) and adv.dtype == np.float32


@pytest.mark.slow
def test_digits_cnn_untargeted_strength_and_reproducibility(digits_correct):
    clf, x, y = digits_correct
    x, y = x[:12], y[:12]
    stub = PredictOnly(clf)
    res = HopSkipJump(stub, max_iter=20, random_state=0, verbose=False).run(x, y)
    assert res.success.all()
    assert res.mean_norm("l2") < 1.2
    again = HopSkipJump(stub, max_iter=20, random_state=0, verbose=False).run(x, y)
    assert np.array_equal(res.x_adv, again.x_adv) and np.array_equal(res.queries, again.queries)
    other = HopSkipJump(stub, max_iter=3, random_state=1, verbose=False).generate(x[:2], y[:2])
    first = HopSkipJump(stub, max_iter=3, random_state=0, verbose=False).generate(x[:2], y[:2])
    assert not np.array_equal(first, other)


def test_progress_is_reported_through_task_hooks():
    from feint.hooks import get_plugin_manager, hookimpl

    class Recorder:
        def __init__(self):
            self.ended = []

        @hookimpl
        def feint_task_end(self, task):
            self.ended.append((task.name, task.total, task.done, task.depth))

    clf, x, _ = trained_reference("mlp")
    rec = Recorder()
    get_plugin_manager().register(rec)
    try:
        HopSkipJump(clf, max_iter=3, init_eval=10, batch_size=4, verbose=False).generate(x[:8])
    finally:
        get_plugin_manager().unregister(rec)
    inner = [e for e in rec.ended if e[0] == "hopskipjump iterations"]
    assert inner == [("hopskipjump iterations", 3, 3, 1)] * 2      # one per batch of 4
    assert rec.ended[-1][1:] == (2, 2, 0)
