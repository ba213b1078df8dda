"""The built-in data set: scikit-learn's 8x8 digits, scaled to [0, 1]."""

from __future__ import annotations

import numpy as np

__all__ = ["load_digits"]


def load_digits(channels_first: bool = True, test_fraction: float = 0.25, random_state: int = 0):
    """Return ``(x_train, y_train), (x_test, y_test)`` of the digits set, float32 in [0, 1].

    Images are ``(n, 1, 8, 8)`` (channels first) or ``(n, 8, 8, 1)``; labels are integers.  The
    split is stratified-free but seeded, so it is the same on every machine.  Requires
    scikit-learn (it ships the data; nothing is downloaded).
    """
    try:
        from sklearn.datasets import load_digits as _load
    except ImportError as exc:  # pragma: no cover
        from feint.errors import FeintError

        raise FeintError("the built-in digits data set needs scikit-learn: pip install scikit-learn") from exc
    data = _load()
    x = (data.images / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    x = x[:, None] if channels_first else x[..., None]
    order = np.random.default_rng(random_state).permutation(len(x))
    n_test = int(round(test_fraction * len(x)))
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])
