"""Per-sample random streams: the same seed gives the same result whatever the batch size."""

from __future__ import annotations

import numpy as np

__all__ = ["SampleRandom", "make_seed"]


def make_seed(random_state) -> int:
    """Turn ``random_state`` (None, int or Generator) into an int entropy for one call."""
    if random_state is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    return int(random_state)


class SampleRandom:
    """One independent generator per sample, keyed by the sample's global index.

    Each draw returns an array of shape ``(n, *shape)`` whose row ``i`` comes from sample ``i``'s
    stream, so a batch of rows 100-199 gets the same numbers as those rows of one big batch.
    """

    def __init__(self, seed: int, indices) -> None:
        self.seed = int(seed)
        self.indices = np.asarray(indices, dtype=np.int64)
        # streams are created on first use (a deterministic attack never pays for them), keyed by
        # global index and shared with every subset
        self._store: dict[int, np.random.Generator] = {}

    @property
    def _gens(self) -> list[np.random.Generator]:
        store, seed = self._store, self.seed
        gens = []
        for i in self.indices.tolist():
            g = store.get(i)
            if g is None:
                g = store[i] = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(i,))))
            gens.append(g)
        return gens

    def __len__(self) -> int:
        return len(self.indices)

    def subset(self, mask) -> SampleRandom:
        """The streams of the selected samples (shared, not copied)."""
        out = SampleRandom.__new__(SampleRandom)
        out.seed = self.seed
        sel = np.flatnonzero(np.asarray(mask)) if np.asarray(mask).dtype == bool else np.asarray(mask)
        out.indices = self.indices[sel]
        out._store = self._store
        return out

    def _stack(self, fn, shape, dtype) -> np.ndarray:
        shape = () if shape is None else ((shape,) if isinstance(shape, int) else tuple(shape))
        if not self._gens:
            return np.zeros((0, *shape), dtype=dtype)
        return np.stack([fn(g, shape) for g in self._gens]).astype(dtype, copy=False)

    def uniform(self, low=0.0, high=1.0, shape=None, dtype=np.float32) -> np.ndarray:
        return self._stack(lambda g, s: g.uniform(low, high, s), shape, dtype)

    def normal(self, loc=0.0, scale=1.0, shape=None, dtype=np.float32) -> np.ndarray:
        return self._stack(lambda g, s: g.normal(loc, scale, s), shape, dtype)

    def standard_exponential(self, shape=None, dtype=np.float32) -> np.ndarray:
        return self._stack(lambda g, s: g.standard_exponential(s), shape, dtype)

    def integers(self, low, high=None, shape=None) -> np.ndarray:
        return self._stack(lambda g, s: g.integers(low, high, s), shape, np.int64)

    def permutation(self, n: int) -> np.ndarray:
        return np.stack([g.permutation(n) for g in self._gens]) if self._gens else np.zeros((0, n), np.int64)
