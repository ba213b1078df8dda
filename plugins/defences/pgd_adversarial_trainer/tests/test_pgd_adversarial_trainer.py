"""PGD adversarial training: cost and mixing on a reference model, strength on the digits CNN."""

import numpy as np
import pytest

import feint
from feint.errors import CapabilityError, InvalidParameterError
from feint.testing import MLPClassifier, toy_dataset
from feint_defence_pgd_adversarial_trainer import PGDAdversarialTrainer

EVAL = "pgd(eps=0.2, eps_step=0.02, max_iter=40)"   # the threat the test measures: PGD-Linf, eps 0.2


def _robust_accuracy(clf, x, y):
    adv = feint.create("attack", EVAL, clf, random_state=0, verbose=False).generate(x, y)
    return float(np.mean(clf.predict(adv).argmax(1) == y))


@pytest.fixture(scope="module")
def hardened(digits):
    """A fresh copy of the digits CNN architecture, PGD-trained once for the module."""
    pytest.importorskip("torch")
    from feint.datasets import load_digits
    from feint_framework_torch.testing import fresh_digits_cnn

    (x_tr, y_tr), _ = load_digits(channels_first=True)
    clf = fresh_digits_cnn(seed=0, lr=5e-3)
    trainer = feint.create("defence", "pgd_adversarial_trainer(eps=0.2, eps_step=0.1, max_iter=3, nb_epochs=20, "
                                      "random_state=0, verbose=False)", clf)
    trainer.fit(x_tr, y_tr)
    return trainer


def test_pgd_training_raises_robust_accuracy(digits, hardened):
    undefended, x, y = digits
    x, y = x[:200], y[:200]
    clean = float(np.mean(hardened.predict(x).argmax(1) == y))
    before = _robust_accuracy(undefended, x, y)
    after = _robust_accuracy(hardened.classifier, x, y)
    assert clean >= 0.85, clean
    assert after - before >= 0.30, (before, after)


def test_training_loss_decreases(hardened):
    assert hardened.history_[-1] < hardened.history_[0] - 0.5


def test_ratio_sets_the_adversarial_share_and_the_cost():
    x, y = toy_dataset(48)
    clf = MLPClassifier((8,), 3)
    PGDAdversarialTrainer(clf, eps=0.1, eps_step=0.05, max_iter=2, ratio=0.5, nb_epochs=1, batch_size=16,
                          random_state=0, verbose=False).fit(x, y)
    # 3 batches of 16: 8 samples each attacked for 2 PGD steps (forward+backward each), then one
    # training step on all 16 (forward+backward); no other pass.
    assert clf.counts.backward_samples == 3 * 8 * 2 + 48
    assert clf.counts.forward_samples == 3 * 8 * 2 + 48


def test_inner_attack_is_the_registered_pgd_on_the_current_model():
    clf = MLPClassifier((8,), 3)
    trainer = PGDAdversarialTrainer(clf, eps=0.2, eps_step=0.05, max_iter=7)
    atk = trainer._make_attack(None)
    assert type(atk).name == "pgd" and atk.classifier is clf
    assert (atk.eps, atk.eps_step, atk.max_iter, atk.num_random_init) == (0.2, 0.05, 7, 1)


def test_attack_spec_replaces_the_default_pgd():
    clf = MLPClassifier((8,), 3)
    other = MLPClassifier((8,), 3)
    trainer = PGDAdversarialTrainer(clf, attack=feint.create("attack", "pgd(norm=2, eps=0.5)", other))
    atk = trainer._make_attack(None)
    assert atk.classifier is clf and atk.norm == 2 and atk.eps == 0.5
    assert "attack=" in str(trainer)


def test_attack_and_budget_together_are_refused():
    with pytest.raises(InvalidParameterError, match="not both"):
        PGDAdversarialTrainer(MLPClassifier((8,), 3), eps=0.1, attack="pgd")


def test_targeted_inner_attack_is_refused():
    with pytest.raises(InvalidParameterError, match="untargeted"):
        PGDAdversarialTrainer(MLPClassifier((8,), 3), attack="pgd(target='next')")


def test_unknown_fit_argument_and_bad_scheduler():
    x, y = toy_dataset(16)
    trainer = PGDAdversarialTrainer(MLPClassifier((8,), 3), max_iter=1, nb_epochs=1, verbose=False)
    with pytest.raises(InvalidParameterError, match="nb_epochs"):
        trainer.fit(x, y, nb_epochs=3)
    with pytest.raises(InvalidParameterError, match="step"):
        trainer.fit(x, y, scheduler=object())


def test_scheduler_steps_after_every_optimiser_step():
    class Counter:
        n = 0

        def step(self):
            self.n += 1

    x, y = toy_dataset(40)
    sched = Counter()
    PGDAdversarialTrainer(MLPClassifier((8,), 3), max_iter=1, nb_epochs=2, batch_size=16,
                          verbose=False).fit(x, y, scheduler=sched)
    assert sched.n == 2 * 3


def test_needs_gradients_and_training():
    clf = MLPClassifier((8,), 3)
    clf.provides = frozenset({"predict", "fit"})
    with pytest.raises(CapabilityError, match="train_on_batch"):
        PGDAdversarialTrainer(clf)


def test_created_from_spec_and_aliases():
    clf = MLPClassifier((8,), 3)
    t = feint.create("defence", "pgd_at(eps=0.25)", clf)
    assert isinstance(t, PGDAdversarialTrainer) and t.eps == 0.25 and t.classifier is clf
    assert str(t) == "pgd_adversarial_trainer(eps=0.25)"
