"""Defensive distillation: the procedure, the temperature algebra, and its effect on the digits CNN."""

import numpy as np
import pytest

import feint
from feint.contracts.classifier import softmax
from feint.errors import CapabilityError, InvalidParameterError
from feint.testing import MLPClassifier, SoftmaxRegression, trained_reference
from feint_defence_defensive_distillation import DefensiveDistillation, DistilledClassifier


class Recording(MLPClassifier):
    def _fit(self, x, targets, batch_size, nb_epochs, **kwargs):
        self.seen = (x.copy(), targets.copy(), batch_size, nb_epochs, kwargs)
        super()._fit(x, targets, batch_size, nb_epochs, **kwargs)


def test_student_learns_the_teachers_soft_labels():
    teacher, x, _ = trained_reference("mlp", n=60, nb_epochs=20)
    student = Recording((8,), 3, random_state=2)
    dd = DefensiveDistillation(teacher, temperature=20, nb_epochs=4, batch_size=8, verbose=False)
    distilled = dd(x, student, random_state=0)
    xs, ts, bs, ne, kw = student.seen
    np.testing.assert_allclose(xs, x)
    np.testing.assert_allclose(ts, teacher.predict(x), atol=1e-6)     # soft rows, not one-hot
    assert (bs, ne, kw) == (8, 4, {"random_state": 0})
    assert isinstance(distilled, DistilledClassifier) and distilled.student is student
    assert distilled.temperature == 20.0 and dd.distilled_ is distilled and dd.student_ is student
    np.testing.assert_array_equal(dd.predict(x), distilled.predict(x))


def test_deployed_logits_are_the_students_times_t():
    student, x, _ = trained_reference("softmax", n=30, nb_epochs=5)
    d = DistilledClassifier(student, 7.5)
    z = student.predict(x, logits=True)
    np.testing.assert_allclose(d.predict(x, logits=True), 7.5 * z, rtol=1e-6)
    np.testing.assert_allclose(d.predict(x), softmax(7.5 * z), atol=1e-6)
    np.testing.assert_array_equal(d.predict(x).argmax(1), z.argmax(1))
    np.testing.assert_allclose(d.class_gradient(x[:4], label=1, logits=True),
                               7.5 * student.class_gradient(x[:4], label=1, logits=True), rtol=1e-6)


def test_saturated_loss_gradient_is_exactly_zero_and_costs_no_backward():
    clf = SoftmaxRegression((4,), 3, clip_values=(-1.0, 1.0))
    clf.W = np.array([[5.0, 0, 0], [0, 5.0, 0], [0, 0, 5.0], [0, 0, 0]], np.float32)
    x = np.array([[1.0, 0, 0, 0], [0, 1.0, 0, 0]], np.float32)
    d = DistilledClassifier(clf, 100.0)                      # logit gaps of 500: softmax saturates in float32
    clf.reset_counts()
    g = d.loss_gradient(x, [0, 1])
    assert np.all(g == 0) and clf.counts.backward == 0
    assert np.any(d.loss_gradient(x, [1, 0]) != 0)           # a wrong label still has a gradient


def test_predict_before_fit_is_the_teachers():
    teacher, x, _ = trained_reference("mlp", n=30, nb_epochs=5)
    np.testing.assert_array_equal(DefensiveDistillation(teacher).predict(x), teacher.predict(x))


def test_bad_students_and_parameters():
    teacher, x, _ = trained_reference("mlp", n=30, nb_epochs=5)
    dd = DefensiveDistillation(teacher, verbose=False)
    with pytest.raises(InvalidParameterError, match="student"):
        dd.fit(x)
    with pytest.raises(InvalidParameterError, match="different"):
        dd.fit(x, student=teacher)
    with pytest.raises(InvalidParameterError, match="classes"):
        dd.fit(x, student=MLPClassifier((8,), 4))
    frozen = MLPClassifier((8,), 3)
    frozen.provides = frozenset({"predict"})
    with pytest.raises(CapabilityError, match="fit"):
        dd.fit(x, student=frozen)
    with pytest.raises(InvalidParameterError,
                       match="'temperature' parameter of DefensiveDistillation must be a float > 0"):
        DefensiveDistillation(teacher, temperature=0)
    with pytest.raises(InvalidParameterError, match="temperature"):
        DistilledClassifier(teacher, -1.0)


def test_created_from_spec_and_alias():
    teacher, _, _ = trained_reference("mlp", n=30, nb_epochs=5)
    dd = feint.create("defence", "distillation(temperature=50)", teacher)
    assert isinstance(dd, DefensiveDistillation) and dd.classifier is teacher
    assert str(dd) == "defensive_distillation(temperature=50)"


# -- on the digits CNN -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def distilled(digits):
    pytest.importorskip("torch")
    from feint.datasets import load_digits
    from feint_framework_torch.testing import fresh_digits_cnn

    teacher, _, _ = digits
    (x_tr, _), _ = load_digits(channels_first=True)
    student = fresh_digits_cnn(seed=1, lr=3e-3)
    dd = feint.create("defence", "defensive_distillation(temperature=100, nb_epochs=10, verbose=False)", teacher)
    return dd(x_tr, student, random_state=0)


def _acc(clf, x, y):
    return float(np.mean(clf.predict(x).argmax(1) == y))


def test_distilled_network_keeps_accuracy(digits, distilled):
    _, x, y = digits
    assert _acc(distilled, x, y) >= 0.90
    np.testing.assert_array_equal(distilled.predict(x).argmax(1), distilled.student.predict(x).argmax(1))


def test_distillation_masks_gradients_but_is_not_robust(digits, distilled):
    """FGSM on the deployed network mostly fails because its loss gradients vanish; the same
    attack on the undistilled student transfers and fools it (Carlini & Wagner 2016)."""
    _, x, y = digits
    x, y = x[:200], y[:200]
    student = distilled.student
    zero = np.abs(distilled.loss_gradient(x, y)).reshape(len(x), -1).max(axis=1) == 0
    on_distilled = feint.create("attack", "fgsm(eps=0.2)", distilled, verbose=False).run(x, y).success_rate
    on_student = feint.create("attack", "fgsm(eps=0.2)", student, verbose=False).run(x, y).success_rate
    transfer = feint.create("attack", "fgsm(eps=0.2)", student, verbose=False).generate(x, y)
    assert zero.mean() >= 0.5
    assert on_distilled <= 0.35 and on_student >= 0.80
    assert _acc(distilled, transfer, y) <= 0.20
