"""The ``GaussianAugmentation`` preprocessor (paper 000 §6.6)."""

from __future__ import annotations

import math
from typing import ClassVar

import numpy as np

from feint import Preprocessor
from feint._params import Instance, Integer, NoneOk, Real, Satisfies
from feint.errors import InvalidInputError

__all__ = ["GaussianAugmentation"]


def _is_range(v) -> bool:
    return (isinstance(v, (tuple, list)) and len(v) == 2
            and all(isinstance(b, (int, float, np.number)) and not isinstance(b, bool) and math.isfinite(b)
                    for b in v) and v[0] < v[1])


class GaussianAugmentation(Preprocessor):
    """Gaussian data augmentation: append noisy copies ``x + N(0, sigma^2)`` of the samples.

    ``round(ratio * n)`` copies are appended after the ``n`` originals: every sample gets
    ``floor(ratio)`` copies (in order: all first copies, then all second copies, ...) and a
    random subset of ``n * (ratio - floor(ratio))`` samples, drawn without replacement and kept
    in their original order, one more.  So ``ratio=1`` doubles the set with one copy of each
    sample, and the labels returned are the originals' labels in the same order as the inputs.
    (ART 0.2.2 draws the copied samples with replacement, so some samples get no copy.)

    Clipping: when ``clip_values`` is set, the noisy copies are clipped to it.  Inside a
    classifier ``clip_values=None`` is filled in from the classifier, so the copies a model
    trains on are valid inputs; on its own, ``None`` leaves the copies unclipped, as the paper.

    Applied at fit time only.  Gradient rule: exact (identity): the noise is additive and
    independent of x, so the expected Jacobian of the map is the identity.

    Spec: ``gaussian_augmentation``, ``gaussian_augmentation(sigma=0.3, ratio=0.5)``.

    Parameters
    ----------
    sigma : float, default 1.0
        Standard deviation of the noise (>= 0), in the units of the data.
    ratio : float, default 1.0
        Noisy copies per original sample (> 0).
    clip_values : (float, float) or None, default None
        Range the copies are clipped to; None takes the classifier's (none on its own).
    random_state : int, numpy Generator or None
        Seed.  An instance draws new noise at every call, from a stream seeded once: the same
        seed gives the same sequence of outputs.

    References
    ----------
    Zantedeschi, Nicolae & Rawat, "Efficient defenses against adversarial attacks", AISec 2017.
    Nicolae et al., "Adversarial Robustness Toolbox v0.2.2", §6.6.
    """

    name: ClassVar[str] = "gaussian_augmentation"
    apply_fit = True
    apply_predict = False
    changes_count = True
    randomised = True
    gradient_rule = "exact"
    _parameter_constraints: ClassVar[dict] = {
        "sigma": [Real(0, None)],
        "ratio": [Real(0, None, "neither")],
        "clip_values": [Satisfies(_is_range, "a (min, max) pair of finite numbers with min < max", (1, 0)),
                        NoneOk()],
        "random_state": [Integer(0, None), Instance(np.random.Generator), NoneOk()],
    }

    def __init__(self, sigma: float = 1.0, ratio: float = 1.0, clip_values=None, random_state=None) -> None:
        self.sigma = sigma
        self.ratio = ratio
        self.clip_values = tuple(clip_values) if isinstance(clip_values, list) else clip_values
        self.random_state = random_state
        self._validate()

    def _generator(self) -> np.random.Generator:
        src = self.random_state
        if isinstance(src, np.random.Generator):
            return src
        if getattr(self, "_rng", None) is None or self._rng_src != src:
            self._rng, self._rng_src = np.random.default_rng(src), src
        return self._rng

    def _copy_indices(self, n: int, rng: np.random.Generator) -> np.ndarray:
        total = int(math.floor(self.ratio * n + 0.5))
        whole, rest = divmod(total, n) if n else (0, 0)
        parts = [np.arange(n)] * whole
        if rest:
            parts.append(np.sort(rng.choice(n, size=rest, replace=False)))
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def transform(self, x, y=None):
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            raise InvalidInputError(
                f"GaussianAugmentation expects floating-point inputs. Got dtype {x.dtype} instead; "
                "convert with x.astype(np.float32).")
        if x.ndim < 1:
            raise InvalidInputError(f"GaussianAugmentation expects a batch (n, ...). Got shape {x.shape} instead.")
        if y is not None and len(y) != len(x):
            raise InvalidInputError(
                f"GaussianAugmentation got {len(x)} inputs but {len(y)} labels; they must match.")
        rng = self._generator()
        idx = self._copy_indices(len(x), rng)
        noisy = x[idx].astype(np.float64) + rng.normal(0.0, float(self.sigma), (len(idx), *x.shape[1:]))
        if self.clip_values is not None:
            noisy = np.clip(noisy, self.clip_values[0], self.clip_values[1])
        x_out = np.concatenate([x, noisy.astype(x.dtype)])
        y_out = None if y is None else np.concatenate([np.asarray(y), np.asarray(y)[idx]])
        return x_out, y_out

    def estimate_gradient(self, x, grad):
        """The identity (exact in expectation: the noise does not depend on x)."""
        return grad
