"""The numpy reference classifiers pass the classifier contract, with exact gradients."""

import numpy as np
import pytest

from feint.testing import MLPClassifier, SoftmaxRegression, check_classifier, trained_reference
from feint.testing._classifier_checks import _fd_rel_errors


@pytest.mark.parametrize("kind", ["mlp", "softmax"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_check_classifier(kind, dtype):
    clf, x, y = trained_reference(kind, dtype=dtype, nb_epochs=20)
    check_classifier(clf, x[:24], y[:24], fd_tol=1e-4 if dtype == "float64" else None)


@pytest.mark.parametrize("cls", [MLPClassifier, SoftmaxRegression])
def test_float64_finite_differences_below_1e4(cls):
    clf = cls((6,), 4, dtype="float64", random_state=3)
    rng = np.random.default_rng(1)
    x = rng.uniform(0.1, 0.9, (5, 6))
    y = rng.integers(0, 4, 5)
    err = _fd_rel_errors(lambda xx: clf.loss(xx, y).astype(np.float64), clf.loss_gradient(x, y), x, 1e-6, rng)
    assert err < 1e-4
    for k in range(4):
        g = clf.class_gradient(x, label=k)[:, 0]
        err = _fd_rel_errors(lambda xx, k=k: clf.predict(xx)[:, k], g, x, 1e-6, rng)
        assert err < 1e-4


def test_training_reaches_high_accuracy():
    clf, x, y = trained_reference("mlp")
    assert (clf.predict(x).argmax(1) == y).mean() > 0.95
    losses = [clf.train_on_batch(x[:32], y[:32]) for _ in range(3)]
    assert np.all(np.isfinite(losses))


def test_train_on_batch_lowers_loss_on_fresh_model():
    from feint.testing import toy_dataset

    x, y = toy_dataset(64)
    clf = MLPClassifier((8,), 3)
    first = clf.train_on_batch(x, y)
    for _ in range(30):
        last = clf.train_on_batch(x, y)
    assert last < first
