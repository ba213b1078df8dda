"""Default data for the contract kits when the caller gives none."""

from __future__ import annotations

import numpy as np


def default_inputs(classifier, n: int = 12, random_state: int = 0) -> np.ndarray:
    """Random inputs of the classifier's shape inside its clip range (away from the bounds)."""
    rng = np.random.default_rng(random_state)
    lo, hi = classifier.clip_values if classifier.clip_values is not None else (-1.0, 1.0)
    pad = 0.1 * (hi - lo)
    shape = classifier.input_shape or (8,)
    return rng.uniform(lo + pad, hi - pad, (n, *shape)).astype(classifier.np_dtype)


def interior(x: np.ndarray, clip_values, margin: float) -> np.ndarray:
    if clip_values is None:
        return x
    return np.clip(x, clip_values[0] + margin, clip_values[1] - margin).astype(x.dtype)
