"""Classifier.output_gradient: one forward shared by outputs and weighted gradients; the fallback; counters."""

import numpy as np
import pytest

from feint.errors import InvalidInputError
from feint.testing import MLPClassifier, check_classifier, toy_dataset, without_native_output_gradient


def _pair(**kw):
    """The same network with its own ``_output_gradient`` and with the base class's fallback."""
    x, y = toy_dataset(40, 6, 4, random_state=3)
    fast = MLPClassifier((6,), 4, dtype="float64", random_state=3, **kw)
    fast.fit(x, y, nb_epochs=3)
    slow = without_native_output_gradient(fast)
    slow.counts = type(fast.counts)()                    # its own counters, to compare the two
    assert fast.native_output_gradient and not slow.native_output_gradient
    return fast, slow, x.astype(np.float64), y


@pytest.mark.parametrize("logits", [False, True])
def test_adapter_form_and_fallback_agree_and_count_what_ran(logits):
    fast, slow, x, y = _pair()

    def hinge(out, rows):                       # C&W-like: label minus best other class
        other = np.where(np.eye(4, dtype=bool)[y[rows]], -np.inf, out).argmax(axis=1)
        w = np.zeros((len(rows), 4))
        w[np.arange(len(rows)), y[rows]] = 1
        w[np.arange(len(rows)), other] -= 1
        return w

    fast.reset_counts(), slow.reset_counts()
    o1, g1 = fast.output_gradient(x, hinge, logits=logits, batch_size=16)
    o2, g2 = slow.output_gradient(x, hinge, logits=logits, batch_size=16)
    np.testing.assert_allclose(o1, o2, rtol=1e-12)
    np.testing.assert_allclose(g1, g2, rtol=1e-9, atol=1e-12)
    # the adapter's own form: 1 forward + 1 backward; the fallback: predict + class_gradient of 2 classes
    assert (fast.counts.forward_samples, fast.counts.backward_samples) == (40, 40)
    assert (slow.counts.forward_samples, slow.counts.backward_samples) == (80, 80)
    assert fast.counts.forward == 3 and slow.counts.forward == 6          # 3 batches


def test_is_the_vector_jacobian_product_of_class_gradients_with_defences_and_finite_differences():
    fast, slow, x, y = _pair(defences="featsqueeze(bit_depth=8)")
    w = np.random.default_rng(0).normal(size=(40, 3, 4))
    for clf in (fast, slow):
        out, g = clf.output_gradient(x, w, logits=False)
        cg = clf.class_gradient(x, logits=False)
        np.testing.assert_allclose(g, np.einsum("nmk,nkd->nmd", w, cg), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(out, clf.predict(x), rtol=1e-12)
    plain = MLPClassifier((6,), 4, dtype="float64", random_state=3)
    for name in ("W1", "b1", "W2", "b2"):
        setattr(plain, name, getattr(fast, name))
    h, e = 1e-6, np.eye(6)
    z = lambda v: plain.predict(v, logits=True)                  # noqa: E731
    wk = w[:, 0]
    fd = np.stack([((z(x + h * e[i]) - z(x - h * e[i])) * wk).sum(axis=1) / (2 * h) for i in range(6)], axis=1)
    np.testing.assert_allclose(plain.output_gradient(x, wk, logits=True)[1], fd, rtol=1e-5, atol=1e-7)


def test_both_forms_pass_the_classifier_kit():
    fast, slow, x, _ = _pair()
    check_classifier(fast, x)
    check_classifier(slow, x)


def test_bad_weights_name_the_shape_and_inputs_are_untouched():
    fast, _, x, _ = _pair()
    before = x.copy()
    with pytest.raises(InvalidInputError, match=r"shape \(n, K\) = \(40, 4\).*Got \(40, 3\)"):
        fast.output_gradient(x, np.ones((40, 3)))
    with pytest.raises(InvalidInputError, match="finite"):
        fast.output_gradient(x, np.full((40, 4), np.nan))
    with pytest.raises(InvalidInputError, match="callable's result"):
        fast.output_gradient(x, lambda out, rows: np.ones((len(rows), 5)))
    seen = []
    fast.output_gradient(x, lambda out, rows: seen.append(out) or out * 0 + 1)
    seen[0][:] = 7                                                 # the callable gets its own copy
    np.testing.assert_array_equal(x, before)
    assert fast.output_gradient(x[:0], np.zeros((0, 4)))[1].shape == (0, 6)


def test_eot_averages_the_draws_each_with_its_own_weights():
    from feint.contracts.preprocessor import Preprocessor

    class Noise(Preprocessor):
        """Randomised test defence: x + N(0, 0.2), straight-through gradient."""

        name = "t_og_noise"
        randomised = True

        def __init__(self):
            self._rng = np.random.default_rng(0)

        def transform(self, x, y=None):
            return (x + self._rng.normal(0, 0.2, x.shape)).astype(x.dtype), y

    x, y = toy_dataset(12, 6, 4, random_state=1)
    x = x.astype(np.float64)
    clf = MLPClassifier((6,), 4, dtype="float64", random_state=1, defences=[Noise()], eot_samples=5)
    seen = []

    def weights(out, rows):
        seen.append(out.copy())
        return np.eye(4)[out.argmax(axis=1)]           # depends on this draw's outputs

    clf.reset_counts()
    out, g = clf.output_gradient(x, weights)
    assert len(seen) == 5 and not np.allclose(seen[0], seen[1])        # one call per draw, different draws
    np.testing.assert_allclose(out, np.mean(seen, axis=0), rtol=1e-12)   # outputs averaged over the draws
    assert clf.counts.forward == 5 and clf.counts.backward == 5
    assert g.shape == x.shape and np.all(np.isfinite(g))


def test_to_categorical_keeps_the_label_shape_for_output_gradient_weights():
    from feint.labels import to_categorical

    np.testing.assert_array_equal(to_categorical([2, 0], 3), [[0, 0, 1], [1, 0, 0]])
    w = to_categorical(np.array([[1, 2], [0, 1]]), 3, dtype=np.float64)
    assert w.shape == (2, 2, 3) and w.dtype == np.float64
    np.testing.assert_array_equal(w.argmax(axis=2), [[1, 2], [0, 1]])
    assert w.sum() == 4
