"""The Detector contract: construction through the registry, validation, fit/call, no mutation."""

import numpy as np
import pytest

import feint
from feint.errors import CapabilityError, FeintError, InvalidParameterError
from feint.testing import SoftmaxRegression
from feint_defence_featsqueeze_detector import FeatureSqueezingDetector


@pytest.fixture
def model():
    clf = SoftmaxRegression((1, 6, 6), 3)
    clf.channel_index = 1
    clf.W = np.random.default_rng(0).normal(size=clf.W.shape).astype(np.float32)
    x = np.random.default_rng(1).random((40, 1, 6, 6)).astype(np.float32)
    return clf, x


def test_created_through_the_registry_with_its_classifier(model):
    clf, _ = model
    det = feint.create("defence", "featsqueeze_detector(bit_depth=3, window_size=None)", clf)
    assert isinstance(det, FeatureSqueezingDetector) and isinstance(det, feint.Detector)
    assert det.classifier is clf and str(det) == "featsqueeze_detector(bit_depth=3, window_size=None)"
    assert feint.create("defence", str(det), clf) == det
    assert [type(s).__name__ for s in FeatureSqueezingDetector(clf).squeezers()] == ["FeatureSqueezing",
                                                                                    "SpatialSmoothing"]
    assert FeatureSqueezingDetector(clf).squeezers()[1].channel_index == 1


def test_fit_then_call(model):
    clf, x = model
    det = FeatureSqueezingDetector(clf, false_positive_rate=0.1)
    assert not det.is_fitted
    with pytest.raises(FeintError, match="not fitted"):
        det(x)
    before = x.copy()
    assert det.fit(x) is det and det.is_fitted
    flags = det(x)
    np.testing.assert_array_equal(x, before)
    assert flags.shape == (40,) and flags.dtype == bool
    assert flags.mean() <= 0.1                                   # at most the target rate on its own data
    s = det.scores(x)
    assert np.all((s >= 0) & (s <= 2 + 1e-9))
    np.testing.assert_array_equal(flags, s > det.threshold)


def test_threshold_is_the_quantile_that_meets_the_rate(model):
    clf, x = model
    for rate in (0.05, 0.1, 0.25, 0.5):
        det = FeatureSqueezingDetector(clf, bit_depth=2, window_size=None, false_positive_rate=rate).fit(x)
        s = det.scores(x)
        assert (s > det.threshold).sum() <= int(rate * len(x))
        assert (s >= det.threshold).sum() >= int(rate * len(x))      # no lower threshold would do


def test_score_is_max_l1_gap_over_squeezers(model):
    clf, x = model
    det = FeatureSqueezingDetector(clf, bit_depth=2, window_size=3)
    p = clf.predict(x)
    gaps = [np.abs(p - clf.predict(sq(x))).sum(axis=1) for sq in det.squeezers()]
    np.testing.assert_allclose(det.scores(x), np.maximum(*gaps), atol=1e-6)


def test_invalid(model):
    clf, _ = model
    with pytest.raises(InvalidParameterError, match="'false_positive_rate' parameter of FeatureSqueezingDetector"):
        FeatureSqueezingDetector(clf, false_positive_rate=1.0)
    with pytest.raises(InvalidParameterError, match="at least one squeezer"):
        FeatureSqueezingDetector(clf, bit_depth=None, window_size=None)
    with pytest.raises(CapabilityError):
        FeatureSqueezingDetector(object())
