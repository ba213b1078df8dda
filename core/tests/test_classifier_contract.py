"""The Classifier base: defences by spec, gradient rules, chain order, phases, EOT, counters."""

import numpy as np
import pytest

import feint
from feint import Preprocessor
from feint._params import Real
from feint.testing import SoftmaxRegression


class Scale(Preprocessor):
    """x -> a*x, exactly differentiable (test double)."""

    name = "t_scale"
    gradient_rule = "exact"
    _parameter_constraints = {"a": [Real()]}

    def __init__(self, a=2.0):
        self.a = a

    def transform(self, x, y=None):
        return (x * self.a).astype(x.dtype), y

    def estimate_gradient(self, x, grad):
        return grad * self.a


class Shift(Preprocessor):
    """x -> x + b, straight-through (test double)."""

    name = "t_shift"
    apply_fit = False

    def __init__(self, b=0.5):
        self.b = b

    def transform(self, x, y=None):
        return (x + self.b).astype(x.dtype), y


class Jitter(Preprocessor):
    """Random noise: randomised, so EOT averages over draws (test double)."""

    name = "t_jitter"
    randomised = True

    def __init__(self, sigma=0.3):
        self.sigma = sigma
        self._rng = np.random.default_rng(0)

    def transform(self, x, y=None):
        return (x + self._rng.normal(0, self.sigma, x.shape)).astype(x.dtype), y


@pytest.fixture(scope="module", autouse=True)
def registered():
    reg = feint.Registry  # noqa: F841 - make sure the lazy name resolves
    from feint.registry import default_registry

    r = default_registry()
    for cls in (Scale, Shift, Jitter):
        r.register("defence", cls.name, cls, replace=True)
    yield
    for cls in (Scale, Shift, Jitter):
        r.unregister("defence", cls.name)


def _model(defences=None, **kw):
    clf = SoftmaxRegression((4,), 3, clip_values=(0.0, 1.0), defences=defences, dtype="float64", **kw)
    rng = np.random.default_rng(0)
    clf.W = rng.normal(size=(4, 3))
    clf.b = rng.normal(size=3)
    return clf


def test_chain_applied_in_order_and_gradient_rules():
    x = np.random.default_rng(1).uniform(0, 1, (5, 4))
    plain = _model()
    d = _model("t_scale(a=3.0)+t_shift(b=0.25)")
    assert [str(p) for p in d.preprocessors] == ["t_scale(a=3.0)", "t_shift(b=0.25)"]
    d.W, d.b = plain.W, plain.b
    np.testing.assert_allclose(d.predict(x), plain.predict(3 * x + 0.25, ) if False else
                               plain.with_defences(None)._predict(3 * x + 0.25, logits=False))
    y = np.array([0, 1, 2, 0, 1])
    # exact rule for the scale (x3), identity for the shift: d/dx L(3x + .25) = 3 * grad L
    expect = 3 * plain._loss_gradient(3 * x + 0.25, np.eye(3)[y])
    np.testing.assert_allclose(d.loss_gradient(x, y), expect, rtol=1e-10)
    g = d.class_gradient(x, label=1)
    np.testing.assert_allclose(g[:, 0], 3 * plain._class_gradient(3 * x + 0.25, np.ones((5, 1), int), False)[:, 0])


def test_list_is_a_chain_and_objects_are_accepted():
    a = _model(["t_scale", Shift(b=0.1)])
    b = _model("t_scale+t_shift(b=0.1)")
    assert [str(p) for p in a.preprocessors] == [str(p) for p in b.preprocessors]


def test_fit_phase_skips_predict_only_defences():
    clf = _model("t_shift(b=0.5)")
    x, y = np.full((4, 4), 0.2), np.array([0, 1, 2, 0])
    seen = []
    clf._train_on_batch = lambda xx, t: seen.append(xx.copy()) or 0.0
    clf.train_on_batch(x, y)
    np.testing.assert_allclose(seen[0], x)  # Shift.apply_fit is False


def test_without_defences_shares_model_and_counters():
    d = _model("t_scale")
    p = d.without_defences()
    assert p.preprocessors == [] and p.W is d.W and p.counts is d.counts


def test_eot_calls_the_model_n_times_and_variance_falls():
    x = np.full((3, 4), 0.5)
    y = np.array([0, 1, 2])
    spreads = []
    for n in (1, 4, 16):
        clf = _model("t_jitter(sigma=0.5)", eot_samples=n)
        before = clf.counts.copy()
        grads = np.stack([clf.loss_gradient(x, y) for _ in range(20)])
        d = clf.counts - before
        assert d.backward == 20 * n and d.forward == 20 * n
        spreads.append(grads.std(axis=0).mean())
    assert spreads[0] > spreads[1] > spreads[2]
    assert spreads[2] < 0.5 * spreads[0]


def test_counters_count_requested_classes_only():
    clf = _model()
    x = np.full((10, 4), 0.5)
    clf.class_gradient(x, label=np.zeros((10, 2), dtype=int), batch_size=4)
    assert clf.counts.backward == 6 and clf.counts.backward_samples == 20 and clf.counts.forward == 3


def test_inputs_never_modified_by_public_calls():
    clf = _model("t_scale+t_shift")
    x = np.random.default_rng(0).uniform(0, 1, (6, 4))
    y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    xs, ys = x.copy(), y.copy()
    clf.predict(x)
    clf.class_gradient(x)
    clf.loss_gradient(x, y)
    clf.loss(x, y)
    clf.train_on_batch(x, y)
    clf.fit(x, y, nb_epochs=1)
    assert np.array_equal(x, xs) and np.array_equal(y, ys)


def test_float32_in_float32_out_and_float64_cast_down():
    clf = SoftmaxRegression((4,), 3)
    x64 = np.full((2, 4), 0.5)
    assert clf.predict(x64).dtype == np.float32
    assert clf.loss_gradient(x64, [0, 1]).dtype == np.float32


def test_str_is_spec():
    clf = _model("t_scale(a=3.0)")
    assert str(clf) == "softmax_regression(clip_values=(0.0, 1.0), defences='t_scale(a=3.0)')"


class _ReadOnly(SoftmaxRegression):
    """Returns read-only arrays, as frameworks with shared buffers (JAX) do."""

    @staticmethod
    def _frozen(a):
        a = np.asarray(a)
        a.flags.writeable = False
        return a

    def _predict(self, x, logits):
        return self._frozen(super()._predict(x, logits))

    def _loss_gradient(self, x, targets):
        return self._frozen(super()._loss_gradient(x, targets))

    def _class_gradient(self, x, labels, logits):
        return self._frozen(super()._class_gradient(x, labels, logits))


@pytest.mark.parametrize("cls", [SoftmaxRegression, _ReadOnly])
def test_one_batch_calls_equal_batched_calls_and_hand_out_fresh_arrays(cls):
    """A call that fits in one batch skips the batching loop: same results and counts, own arrays."""
    x = np.random.default_rng(3).uniform(0, 1, (7, 4))
    y = np.arange(7) % 3

    def weights(out, rows):
        return out - np.eye(3)[y[rows]]

    results = {}
    for bs in (7, 3):                                  # one batch; three batches
        clf = cls((4,), 3, clip_values=(0.0, 1.0), dtype="float64")
        clf.W = np.random.default_rng(0).normal(size=(4, 3))
        calls = [clf.predict(x, batch_size=bs), clf.predict(x, logits=True, batch_size=bs),
                 clf.loss_gradient(x, y, batch_size=bs), clf.class_gradient(x, label=y, batch_size=bs),
                 clf.class_gradient(x, batch_size=bs),
                 *clf.output_gradient(x, weights, batch_size=bs),
                 *clf.output_gradient(x, np.ones((7, 2, 3)), logits=True, batch_size=bs)]
        for a in calls:
            assert a.flags.writeable and a.flags.c_contiguous and a.dtype == np.float64
        results[bs] = (calls, clf.counts.forward_samples, clf.counts.backward_samples)
    (one, f1, b1), (many, f3, b3) = results[7], results[3]
    assert (f1, b1) == (f3, b3)
    for a, b in zip(one, many):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
