"""Label formats (integer classes, one-hot, soft rows) and the target rules of paper 004."""

from __future__ import annotations

import numpy as np

from feint.errors import InvalidInputError, InvalidParameterError

__all__ = ["TARGET_RULES", "target_labels", "to_categorical", "to_indices", "to_targets"]

TARGET_RULES = ("least_likely", "next", "random")


def to_categorical(labels, nb_classes: int, dtype=np.float32) -> np.ndarray:
    """One-hot encode integer labels: shape ``labels.shape + (nb_classes,)`` (``(n, K)`` for ``(n,)``).

    ``(n, m)`` labels give ``(n, m, K)``, the weights of ``Classifier.output_gradient`` that pick
    m classes per sample.
    """
    idx = np.asarray(labels).astype(np.int64)
    if idx.ndim == 0:
        idx = idx.reshape(1)
    return (idx[..., None] == np.arange(nb_classes)).astype(dtype)


def _as_array(y, name: str) -> np.ndarray:
    if y is None:
        raise InvalidInputError(f"{name} is required here. Got None instead.")
    arr = np.asarray(y)
    if arr.dtype.kind not in "biufc":                     # bool, integers, floats, complex
        raise InvalidInputError(f"{name} must be numeric labels. Got an array of dtype {arr.dtype} instead.")
    return arr


def to_indices(y, n: int, nb_classes: int, name: str = "y") -> np.ndarray:
    """Return integer class indices of shape ``(n,)`` from integer or one-hot labels.

    Raises
    ------
    InvalidInputError
        Wrong count, out-of-range classes, non-integral values, or 2-D rows that are not one-hot.
    """
    arr = _as_array(y, name)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 1:
        if arr.shape[0] != n:
            raise InvalidInputError(f"{name} must have {n} labels (one per input). Got {arr.shape[0]} instead.")
        if arr.dtype.kind not in "iu" and (
                not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr))):
            raise InvalidInputError(f"{name} as a 1-D array must hold integer class indices. Got {arr[:5]!r}...")
        idx = arr.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= nb_classes):
            raise InvalidInputError(
                f"{name} class indices must be in [0, {nb_classes - 1}]. Got values in "
                f"[{idx.min()}, {idx.max()}] instead.")
        return idx
    if arr.ndim == 2:
        if arr.shape != (n, nb_classes):
            raise InvalidInputError(
                f"{name} as one-hot rows must have shape ({n}, {nb_classes}). Got {arr.shape} instead.")
        rows = arr.astype(np.float64)
        if not (np.all((rows == 0) | (rows == 1)) and np.all(rows.sum(axis=1) == 1)):
            raise InvalidInputError(
                f"{name} must be integer labels or one-hot rows here; got 2-D rows that are not "
                "one-hot (soft labels are accepted only by loss_gradient and fit).")
        return rows.argmax(axis=1).astype(np.int64)
    raise InvalidInputError(f"{name} must be 1-D class indices or 2-D one-hot rows. Got shape {arr.shape} instead.")


def to_targets(y, n: int, nb_classes: int, dtype=np.float32, name: str = "y") -> np.ndarray:
    """Return ``(n, nb_classes)`` target rows from integer, one-hot or soft (probability) labels."""
    arr = _as_array(y, name)
    if arr.ndim == 2 and arr.shape[1] != 1:
        if arr.shape != (n, nb_classes):
            raise InvalidInputError(
                f"{name} as label rows must have shape ({n}, {nb_classes}). Got {arr.shape} instead.")
        sums = arr.sum(axis=1)
        if not np.all(np.isfinite(sums)) or arr.min(initial=0) < 0 or \
                np.abs(sums - 1.0).max(initial=0) > 1e-3 + 1e-5:     # np.allclose(sums, 1, atol=1e-3)
            raise InvalidInputError(
                f"{name} rows must be one-hot or probability rows (non-negative, summing to 1). "
                f"Got row sums {np.round(arr.sum(axis=1)[:5], 4)}...")
        return arr.astype(dtype, copy=True)
    return to_categorical(to_indices(arr, n, nb_classes, name), nb_classes, dtype)


def target_labels(rule: str, probs: np.ndarray, rng=None, labels=None) -> np.ndarray:
    """Pick target classes by a rule from paper 004: least-likely, next class, or random.

    Parameters
    ----------
    rule : {"least_likely", "next", "random"}
    probs : ndarray of shape (n, K)
        The classifier's predictions on the clean inputs.
    rng : feint.rng.SampleRandom, optional
        Per-sample random streams (required for ``"random"``).
    labels : ndarray of int, optional
        The true classes; ``next`` and ``random`` are taken relative to them (default: the
        predicted classes), and ``least_likely`` never picks them.
    """
    pred = probs.argmax(axis=1) if labels is None else np.asarray(labels)
    k = probs.shape[1]
    if rule == "least_likely":
        p = probs.astype(np.float64, copy=True)
        p[np.arange(len(p)), pred] = np.inf
        return p.argmin(axis=1).astype(np.int64)
    if rule == "next":
        return ((pred + 1) % k).astype(np.int64)
    if rule == "random":
        if rng is None:
            raise InvalidParameterError("target='random' needs a random stream; pass random_state.")
        offset = rng.integers(1, k).reshape(-1)
        return ((pred + offset) % k).astype(np.int64)
    raise InvalidParameterError(
        f"The 'target' parameter must be one of {TARGET_RULES} or None. Got {rule!r} instead.")
