"""ZOO: the finite-difference gradient of the objective, the loss, score-only access, strength on the digits CNN."""

import numpy as np
import pytest

import feint
from feint.errors import InvalidParameterError
from feint.rng import SampleRandom
from feint.testing import PredictOnly, SoftmaxRegression, trained_reference
from feint_attack_zoo import ZooAttack, ZooResult
from feint_attack_zoo._functional import adam_coordinate_step, cw_margin, importance_probabilities, sample_coordinates


def test_registered_black_box():
    clf, _, _ = trained_reference("mlp", nb_epochs=2)
    atk = feint.create("attack", "zoo(max_iter=5)", clf)
    assert isinstance(atk, ZooAttack) and atk.requires == {"predict"} and ZooAttack.threat_model() == "black-box"


def test_margin_is_the_same_on_logits_and_log_probabilities():
    clf, x, _ = trained_reference("mlp")
    z = clf.predict(x[:20], logits=True)
    logp = np.log(clf.predict(x[:20]))
    y = z.argmax(1)
    for targeted in (False, True):
        np.testing.assert_allclose(cw_margin(z, y, targeted), cw_margin(logp, y, targeted), atol=1e-4)
    m = cw_margin(np.array([[1.0, 3.0, 2.0]]), np.array([1]), targeted=False)
    assert m[0] == pytest.approx(1.0)                      # 3 - max(1, 2)
    assert cw_margin(np.array([[1.0, 3.0, 2.0]]), np.array([2]), targeted=True)[0] == pytest.approx(1.0)


def test_symmetric_differences_match_the_analytic_gradient():
    clf = SoftmaxRegression((5,), 3, clip_values=(-10.0, 10.0), dtype="float64")
    rng = np.random.default_rng(0)
    clf.W, clf.b = rng.normal(size=(5, 3)), rng.normal(size=3)
    x0 = rng.uniform(-1, 1, (4, 5))
    delta = rng.normal(0, 0.1, (4, 5))
    y = clf.predict(x0).argmax(1)
    c = np.array([0.5, 1.0, 2.0, 3.0])
    atk = ZooAttack(clf, nb_parallel=5, verbose=False)
    atk._shape = (5,)
    idx = np.tile(np.arange(5), (4, 1))
    loss, margin, grad = atk._losses(x0, delta, idx, y, c)
    z = (x0 + delta) @ clf.W + clf.b
    other = np.where(np.eye(3)[y] > 0, -np.inf, z).argmax(1)
    active = (z[np.arange(4), y] - z[np.arange(4), other]) > 0      # f = max(margin, 0) is in its linear part
    analytic = 2 * delta + c[:, None] * (clf.W[:, y].T - clf.W[:, other].T) * active[:, None]
    np.testing.assert_allclose(grad, analytic, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(margin, z[np.arange(4), y] - z[np.arange(4), other])
    np.testing.assert_allclose(loss, (delta**2).sum(1) + c * np.maximum(margin, 0))


def test_adam_step_moves_against_the_gradient_and_respects_the_box():
    delta = np.zeros((1, 4))
    m, v, t = np.zeros((1, 4)), np.zeros((1, 4)), np.ones((1, 4), dtype=np.int64)
    grad = np.array([[1.0, -2.0]])
    idx = np.array([[0, 3]])
    low, high = np.full((1, 4), -1.0), np.array([[1.0, 1.0, 1.0, 0.001]])
    adam_coordinate_step(delta, grad, idx, m, v, t, 0.01, 0.9, 0.999, low, high)
    # first bias-corrected Adam step has size lr along -sign(g); coordinate 3 hits its box
    np.testing.assert_allclose(delta, [[-0.01, 0.0, 0.0, 0.001]], atol=1e-7)
    assert t.tolist() == [[2, 1, 1, 2]]


def test_coordinate_sampling():
    rng = SampleRandom(0, np.arange(3))
    idx = sample_coordinates(rng, 10, 4, None)
    assert idx.shape == (3, 4) and all(len(set(r)) == 4 for r in idx)
    prob = np.zeros((3, 10))
    prob[:, :4] = 0.25
    assert set(sample_coordinates(rng, 10, 4, prob).ravel()) <= {0, 1, 2, 3}
    assert sample_coordinates(rng, 10, 12, None).shape == (3, 10)
    p = importance_probabilities(np.zeros((2, 1, 16, 16)), (2, 3), 2)
    np.testing.assert_allclose(p, 1 / 256)
    d = np.zeros((1, 1, 16, 16))
    d[0, 0, 5, 5] = 1.0
    p = importance_probabilities(d, (2, 3), 2).reshape(16, 16)
    assert p.sum() == pytest.approx(1.0) and p[5, 5] > p[0, 0] and p[4, 4] == p[5, 5]   # pooled region
    assert p[6, 6] == p[0, 0]


def test_bad_parameters_are_named():
    clf, _, _ = trained_reference("mlp", nb_epochs=2)
    with pytest.raises(InvalidParameterError, match=r"'nb_parallel' parameter of ZooAttack must be an int >= 1"):
        ZooAttack(clf, nb_parallel=0)
    with pytest.raises(InvalidParameterError, match="'adam_beta1'"):
        ZooAttack(clf, adam_beta1=1.0)


@pytest.mark.slow
def test_digits_cnn_success_within_query_budget(digits_correct):
    clf, x, y = digits_correct
    x, y = x[:10], y[:10]
    stub = PredictOnly(clf)
    params = dict(max_iter=100, binary_search_steps=1, initial_const=1.0, nb_parallel=64, random_state=0,
                  verbose=False)
    res = ZooAttack(stub, **params).run(x, y)
    assert isinstance(res, ZooResult)
    budget = 1 * 100 * (2 * 64 + 1)
    assert res.success_rate >= 0.8
    assert (res.queries <= budget).all() and res.queries.sum() == res.passes["forward_samples"]
    assert res.passes["backward"] == 0
    assert np.all(res.norms["l2"][res.success] < 3.0)
    again = ZooAttack(stub, **{**params, "max_iter": 10}).generate(x[:3], y[:3])
    np.testing.assert_array_equal(again, ZooAttack(stub, **{**params, "max_iter": 10}).generate(x[:3], y[:3]))


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
        ZooAttack(clf, max_iter=10, binary_search_steps=2, verbose=False).generate(x[:4])
    finally:
        get_plugin_manager().unregister(rec)
    assert ("zoo iterations", 20, 20, 1) in rec.ended
    assert rec.ended[-1][1:] == (1, 1, 0)
