"""Fast (FGSM-RS) adversarial training: the step on a linear model, cost, strength on the digits CNN."""

import numpy as np
import pytest

import feint
from feint.errors import InvalidParameterError
from feint.testing import MLPClassifier, SoftmaxRegression, toy_dataset
from feint_defence_fast_adversarial_trainer import FastAdversarialTrainer
from feint_defence_fast_adversarial_trainer.trainer import fgsm_rs

EVAL = "pgd(eps=0.2, eps_step=0.02, max_iter=40)"   # evaluated with PGD, never with FGSM (paper's advice)


def _robust_accuracy(clf, x, y):
    adv = feint.create("attack", EVAL, clf, random_state=0, verbose=False).generate(x, y)
    return float(np.mean(clf.predict(adv).argmax(1) == y))


@pytest.fixture(scope="module")
def hardened(digits):
    pytest.importorskip("torch")
    from feint.datasets import load_digits
    from feint_framework_torch.testing import fresh_digits_cnn

    (x_tr, y_tr), _ = load_digits(channels_first=True)
    clf = fresh_digits_cnn(seed=0, lr=5e-3)
    trainer = feint.create("defence", "fast_adversarial_trainer(eps=0.2, nb_epochs=30, random_state=0, verbose=False)",
                           clf)
    return trainer.fit(x_tr, y_tr)


def test_fast_training_raises_robust_accuracy(digits, hardened):
    # Wong et al. find FGSM-RS within a few points of PGD training; on this small CNN it trails the
    # PGD trainer's robust accuracy by about 10 points (0.315 against 0.41), so the bar is 25 points.
    undefended, x, y = digits
    x, y = x[:200], y[:200]
    clean = float(np.mean(hardened.predict(x).argmax(1) == y))
    before = _robust_accuracy(undefended, x, y)
    after = _robust_accuracy(hardened.classifier, x, y)
    assert clean >= 0.85, clean
    assert after - before >= 0.25, (before, after)


@pytest.fixture
def linear():
    clf = SoftmaxRegression((6,), 3, clip_values=(-10.0, 10.0), dtype="float64")
    rng = np.random.default_rng(0)
    clf.W = rng.normal(size=(6, 3))
    clf.b = rng.normal(size=3)
    return clf, rng.uniform(-1, 1, (5, 6)), np.array([0, 1, 2, 0, 1])


def test_fgsm_rs_step_matches_closed_form(linear):
    clf, x, y = linear
    eps, alpha = 0.1, 0.125
    out = fgsm_rs(clf, x, y, eps, alpha, np.inf, np.random.default_rng(3))
    start = x + np.random.default_rng(3).uniform(-eps, eps, x.shape)       # the same draws
    p = clf.predict(start)
    grad = (p - np.eye(3)[y]) @ clf.W.T                                      # dL/dx of a linear model
    expect = x + np.clip(start - x + alpha * np.sign(grad), -eps, eps)
    np.testing.assert_allclose(out, expect, atol=1e-12)


@pytest.mark.parametrize("norm", [np.inf, 2, 1])
def test_fgsm_rs_stays_in_ball_and_range(norm):
    clf, x, y = MLPClassifier((8,), 3), *toy_dataset(20)
    out = fgsm_rs(clf, x, y, 0.3, 0.375, norm, np.random.default_rng(0))
    from feint.norms import lp_norm

    assert np.all(lp_norm((out - x).astype(np.float64), norm) <= 0.3 * (1 + 1e-5))
    assert out.min() >= 0 and out.max() <= 1 and out.dtype == x.dtype


def test_default_step_is_one_and_a_quarter_eps():
    clf = MLPClassifier((8,), 3)
    assert FastAdversarialTrainer(clf, eps=0.2).step_size == pytest.approx(0.25)
    assert FastAdversarialTrainer(clf, eps=0.2, alpha=0.3).step_size == 0.3


def test_one_gradient_and_one_training_step_per_batch():
    x, y = toy_dataset(40)
    clf = MLPClassifier((8,), 3)
    FastAdversarialTrainer(clf, eps=0.1, nb_epochs=2, batch_size=16, verbose=False).fit(x, y)
    assert clf.counts.backward_samples == 2 * (40 + 40)
    assert clf.counts.forward_samples == 2 * (40 + 40)


def test_scheduler_and_bad_arguments():
    class Counter:
        n = 0

        def step(self):
            self.n += 1

    x, y = toy_dataset(40)
    trainer = FastAdversarialTrainer(MLPClassifier((8,), 3), nb_epochs=2, batch_size=16, verbose=False)
    sched = Counter()
    trainer.fit(x, y, scheduler=sched)
    assert sched.n == 6
    with pytest.raises(InvalidParameterError, match="batch_size"):
        trainer.fit(x, y, batch_size=8)
    with pytest.raises(InvalidParameterError, match="'eps' parameter of FastAdversarialTrainer must be a float > 0"):
        FastAdversarialTrainer(MLPClassifier((8,), 3), eps=0)


def test_created_from_spec_and_aliases():
    clf = MLPClassifier((8,), 3)
    t = feint.create("defence", "fbf(eps=0.1)", clf)
    assert isinstance(t, FastAdversarialTrainer) and t.eps == 0.1
    assert str(t) == "fast_adversarial_trainer(eps=0.1)"
