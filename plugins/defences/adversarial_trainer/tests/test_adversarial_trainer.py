"""AdversarialTrainer (paper §6.1): the attack formats, the augmented set, the label rules, and strength."""

import numpy as np
import pytest

import feint
from feint.errors import CapabilityError, InvalidParameterError, UnknownComponentError
from feint.testing import MLPClassifier, trained_reference
from feint_defence_adversarial_trainer import AdversarialTrainer


class Recording(MLPClassifier):
    """A reference classifier that remembers what its fit was given."""

    def _fit(self, x, targets, batch_size, nb_epochs, **kwargs):
        self.seen = (x.copy(), targets.copy(), batch_size, nb_epochs)
        super()._fit(x, targets, batch_size, nb_epochs, **kwargs)


@pytest.fixture
def model():
    clf, x, y = trained_reference("mlp", n=60, nb_epochs=20)
    rec = Recording((8,), 3)
    for name in ("W1", "b1", "W2", "b2"):
        setattr(rec, name, getattr(clf, name).copy())
    return rec, x, y


@pytest.mark.parametrize("attacks, expect", [
    ("fgsm(eps=0.1)", ["fgsm(eps=0.1)"]),
    (["fgsm(eps=0.1)", "pgd(eps=0.2, max_iter=3)"], ["fgsm(eps=0.1)", "pgd(eps=0.2, max_iter=3)"]),
    ({"fgsm": "eps=0.05, norm=2", "pgd(max_iter=2)": {"eps": 0.1}, "fgsm(eps=0.2)": None},
     ["fgsm(norm=2, eps=0.05)", "pgd(eps=0.1, max_iter=2)", "fgsm(eps=0.2)"]),
])
def test_attack_formats(model, attacks, expect):
    clf, _, _ = model
    trainer = AdversarialTrainer(clf, attacks)
    assert [str(a) for a in trainer._attacks] == expect
    assert all(a.classifier is clf for a in trainer._attacks)


def test_instances_keep_their_own_classifier(model):
    clf, _, _ = model
    source = MLPClassifier((8,), 3, random_state=7)
    fgsm = feint.create("attack", "fgsm(eps=0.1)", source)
    trainer = AdversarialTrainer(clf, [fgsm, feint.load("attack", "fgsm")])
    assert trainer._attacks[0] is fgsm and trainer._attacks[1].classifier is clf
    copied = AdversarialTrainer(clf, {fgsm: "eps=0.3"})._attacks[0]
    assert copied is not fgsm and copied.eps == 0.3 and copied.classifier is source and fgsm.eps == 0.1


@pytest.mark.parametrize("labels", ["predicted", "true"])
def test_augmented_set_and_labels(model, labels):
    clf, x, y = model
    fgsm = feint.create("attack", "fgsm(eps=0.3)", clf)
    pgd = feint.create("attack", "pgd(eps=0.3, eps_step=0.1, max_iter=3)", clf, random_state=0)
    expect_adv = [fgsm.generate(x), pgd.generate(x)]
    expect_pred = [clf.predict(a).argmax(1) for a in expect_adv]
    trainer = AdversarialTrainer(clf, [fgsm, pgd], labels=labels, verbose=False)
    trainer.fit(x, y, nb_epochs=3, batch_size=16)
    xs, ts, bs, ne = clf.seen
    assert (bs, ne) == (16, 3) and trainer.n_augmented_ == 2 * len(x)
    np.testing.assert_allclose(xs, np.concatenate([x, *expect_adv]), atol=1e-6)
    got = ts.argmax(1)
    np.testing.assert_array_equal(got[:len(x)], y)
    want = np.concatenate([y, y]) if labels == "true" else np.concatenate(expect_pred)
    np.testing.assert_array_equal(got[len(x):], want)
    if labels == "predicted":          # the paper's rule labels successful examples with a wrong class
        assert np.mean(got[len(x):] != np.concatenate([y, y])) > 0.3


def test_ratio_draws_a_subset_per_attack(model):
    clf, x, y = model
    trainer = AdversarialTrainer(clf, ["fgsm(eps=0.1)", "fgsm(eps=0.2)"], ratio=0.25, random_state=0, verbose=False)
    trainer.fit(x, y, nb_epochs=1)
    assert trainer.n_augmented_ == 2 * 15 and len(clf.seen[0]) == 60 + 30


def test_bad_attacks_are_refused(model):
    clf, _, _ = model
    for bad in ([], {}, 3, ["fgsm", 2]):
        with pytest.raises(InvalidParameterError, match="'attacks' parameter of AdversarialTrainer"):
            AdversarialTrainer(clf, bad)
    with pytest.raises(InvalidParameterError, match="target rule"):
        AdversarialTrainer(clf, "fgsm(targeted=True)")
    with pytest.raises(UnknownComponentError, match="fgsn"):
        AdversarialTrainer(clf, "fgsn")
    with pytest.raises(InvalidParameterError, match="labels"):
        AdversarialTrainer(clf, "fgsm", labels="soft")


def test_needs_fit(model):
    clf, _, _ = model
    clf.provides = frozenset({"predict", "loss_gradient"})
    with pytest.raises(CapabilityError, match="fit"):
        AdversarialTrainer(clf, "fgsm")


def test_spec_with_several_attacks(model):
    clf, _, _ = model
    t = feint.create("defence", "adv_trainer(attacks=['fgsm(eps=0.1)', 'pgd'], ratio=0.5, labels='true')", clf)
    assert str(t) == "adversarial_trainer(attacks=['fgsm(eps=0.1)', 'pgd'], ratio=0.5)"  # true labels: the default
    assert [type(a).name for a in t._attacks] == ["fgsm", "pgd"]


# -- strength on the digits CNN ----------------------------------------------------------------
ATTACKS = ["fgsm(eps=0.2)", "pgd(eps=0.2, eps_step=0.05, max_iter=5)"]


@pytest.fixture(scope="module")
def digits_setup(digits):
    """Copies of the cached digits CNN, and adversarial test examples crafted on the original."""
    pytest.importorskip("torch")
    from feint.datasets import load_digits
    from feint_framework_torch.testing import fresh_digits_cnn

    base, x, y = digits
    x, y = x[:200], y[:200]
    (x_tr, y_tr), _ = load_digits(channels_first=True)
    static = [feint.create("attack", s, base, random_state=1, verbose=False).generate(x) for s in ATTACKS]

    def copy_of_base():
        return fresh_digits_cnn(lr=1e-3, weights_from=base)

    return base, copy_of_base, (x_tr, y_tr), (x, y), static


def _acc(clf, x, y):
    return float(np.mean(clf.predict(x).argmax(1) == y))


def test_static_augmentation_with_true_labels_resists_the_attacks_examples(digits_setup):
    """Static adversarial training defends against the examples of the attacks it was given
    (crafted on the original model): accuracy on them rises from about 5 % to about 60 %."""
    base, copy_of_base, (x_tr, y_tr), (x, y), static = digits_setup
    clf = copy_of_base()
    AdversarialTrainer(clf, ATTACKS, labels="true", verbose=False).fit(x_tr, y_tr, nb_epochs=5, random_state=0)
    assert _acc(clf, x, y) >= 0.85
    for adv in static:
        assert _acc(base, adv, y) <= 0.15
        assert _acc(clf, adv, y) >= 0.40


def test_paper_label_rule_does_not_harden(digits_setup):
    """With the paper's labels C(rho(x)) the model learns the attacks' wrong classes: no gain."""
    base, copy_of_base, (x_tr, y_tr), (x, y), static = digits_setup
    clf = copy_of_base()
    AdversarialTrainer(clf, ATTACKS, labels="predicted", verbose=False).fit(x_tr, y_tr, nb_epochs=5, random_state=0)
    for adv in static:
        assert _acc(clf, adv, y) <= _acc(base, adv, y) + 0.10
