"""The Detector contract for BinaryInputDetector, on a numpy two-class network."""

import numpy as np
import pytest

import feint
from feint.errors import FeintError, InvalidInputError, InvalidParameterError
from feint.testing import MLPClassifier, SoftmaxRegression
from feint_defence_binary_input_detector import BinaryInputDetector


def separable(n=200, seed=0):
    """Clean inputs near 0.3, 'adversarial' ones with a bright first half."""
    rng = np.random.default_rng(seed)
    clean = rng.uniform(0.2, 0.4, (n, 6)).astype(np.float32)
    adv = clean.copy()
    adv[:, :3] += 0.5
    return clean, adv


def test_created_through_the_registry():
    net = SoftmaxRegression((6,), 2)
    det = feint.create("defence", "binary_input_detector", net)
    assert isinstance(det, BinaryInputDetector) and isinstance(det, feint.Detector) and det.classifier is net
    assert str(det) == "binary_input_detector"


def test_fit_with_labels_or_with_adversarial_inputs():
    clean, adv = separable()
    for how in ("labels", "x_adv", "one-hot"):
        det = BinaryInputDetector(MLPClassifier((6,), 2, random_state=0))
        with pytest.raises(FeintError, match="not fitted"):
            det(clean)
        if how == "x_adv":
            det.fit(clean, x_adv=adv, nb_epochs=30, random_state=0)
        else:
            x = np.concatenate([clean, adv])
            lab = np.r_[np.zeros(len(clean), int), np.ones(len(adv), int)]
            det.fit(x, np.eye(2)[lab] if how == "one-hot" else lab, nb_epochs=30, random_state=0)
        c2, a2 = separable(seed=1)
        before = c2.copy()
        flags_clean, flags_adv = det(c2), det(a2)
        np.testing.assert_array_equal(c2, before)
        assert flags_clean.dtype == bool and flags_clean.shape == (200,)
        assert flags_clean.mean() < 0.05 and flags_adv.mean() > 0.95, how
        np.testing.assert_array_equal(flags_adv, det.scores(a2) > 0.5)


def test_pretrained_network_marked_with_zero_epochs():
    net = SoftmaxRegression((6,), 2)
    det = BinaryInputDetector(net).fit(np.zeros((1, 6), np.float32), [0], nb_epochs=0)
    assert det.is_fitted and det(np.zeros((3, 6), np.float32)).shape == (3,)


def test_invalid():
    with pytest.raises(InvalidParameterError, match="nb_classes=2"):
        BinaryInputDetector(SoftmaxRegression((6,), 3))
    det = BinaryInputDetector(SoftmaxRegression((6,), 2))
    with pytest.raises(InvalidInputError, match="0 \\(clean\\) or 1"):
        det.fit(np.zeros((2, 6), np.float32), [0, 2])
    with pytest.raises(InvalidParameterError, match="needs labels y"):
        det.fit(np.zeros((2, 6), np.float32))
    with pytest.raises(InvalidParameterError, match="either y or x_adv"):
        det.fit(np.zeros((2, 6), np.float32), [0, 1], x_adv=np.zeros((2, 6), np.float32))
