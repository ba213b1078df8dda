"""Fixtures shared by every test folder of the repository."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def digits():
    """The seeded digits CNN (PyTorch), trained once and cached: ``(clf, x_test, y_test)``.

    ``x_test`` is ``(449, 1, 8, 8)`` float32 in [0, 1]; ``y_test`` integer labels.
    """
    from feint_framework_torch.testing import digits_cnn

    clf, _, (x_te, y_te) = digits_cnn()
    return clf, x_te, y_te


@pytest.fixture(scope="session")
def digits_correct(digits):
    """The first 200 test inputs the digits CNN classifies correctly: ``(clf, x, y)``."""
    clf, x, y = digits
    ok = clf.predict(x).argmax(axis=1) == y
    clf.reset_counts()
    return clf, x[ok][:200], y[ok][:200]


@pytest.fixture
def rng():
    return np.random.default_rng(0)
