"""Per-sample random streams: the same seed gives the same result whatever the batch size.

Every sample has its own counter-based stream keyed by ``(seed, global index)``: draw ``k`` of
sample ``i`` is ``splitmix64(key(seed, i) + k * golden)``, computed for the whole batch at once
with numpy integer arithmetic.  Rows 100-199 of a batch therefore get the same numbers as those
rows of one big batch, and creating the streams costs nothing (no per-sample generator objects).
Statistical quality is that of SplitMix64 (passes BigCrush as a stream generator), ample for
random starts, targets and noise; it is not a cryptographic generator.

Normals (since feint-core 0.3.0) come two per 64-bit draw by the Box-Muller transform: the high
32 bits give the radius, the low 32 bits the angle, and the pair is ``(r cos a, r sin a)``, in
the requested precision (float32 unless float64 is asked for; the two agree to about 1e-5).
The smallest radius uniform is ``2**-33``, so the draws reach 6.7 standard deviations (a
truncation with probability 2e-11).  0.2's normals, one per two draws in float64 with only the
cosine used, cost about three times as much (35 ns each), most of it in float64 ``log``/``cos``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["SampleRandom", "make_seed"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TO_UNIT = 2.0 ** -53
_BLOCK = 1 << 14           # draws per block: the temporaries of one block stay in cache


_S30, _S27, _S31, _S11, _S32 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11), np.uint64(32)
_LOW32 = np.uint64(0xFFFFFFFF)


def _splitmix64(z: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser, element-wise on a uint64 array (wrapping arithmetic: numpy checks
    no overflow in array arithmetic, only in scalar); ``z`` is not modified."""
    z = z + _GOLDEN                           # the one new array; the rest works in place
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


def _splitmix64_int(z: int) -> int:
    """:func:`_splitmix64` of one Python int (the same number, without numpy's per-call cost)."""
    mask = (1 << 64) - 1
    z = (z + int(_GOLDEN)) & mask
    z = ((z ^ (z >> 30)) * int(_M1)) & mask
    z = ((z ^ (z >> 27)) * int(_M2)) & mask
    return z ^ (z >> 31)


def make_seed(random_state) -> int:
    """Turn ``random_state`` (None, int or Generator) into an int entropy for one call."""
    if random_state is None:
        return int(np.random.SeedSequence().entropy % (2**63))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    return int(random_state)


class SampleRandom:
    """One independent stream per sample, keyed by the sample's global index.

    Each draw returns an array of shape ``(n, *shape)`` whose row ``i`` comes from sample ``i``'s
    stream.  :meth:`subset` gives the streams of some samples, sharing their positions, so drawing
    through a subset advances exactly those samples.
    """

    def __init__(self, seed: int, indices) -> None:
        self.seed = int(seed)
        self.indices = np.asarray(indices, dtype=np.int64)
        self._state = None          # (keys, counters, positions), made by the first draw or subset

    def __len__(self) -> int:
        return len(self.indices)

    def _streams(self) -> tuple:
        """``(keys, counters, positions)``: every stream's key and draw counter (shared with the
        subsets), and this object's rows in them.  Made on first use: an attack that draws
        nothing (FGSM, DeepFool) pays nothing for its streams."""
        if self._state is None:
            seed_key = np.uint64(_splitmix64_int(self.seed % 2**64))
            keys = _splitmix64(_splitmix64(self.indices.astype(np.uint64)) ^ seed_key)
            self._state = (keys, np.zeros(len(self.indices), dtype=np.uint64), np.arange(len(self.indices)))
        return self._state

    def subset(self, mask) -> SampleRandom:
        """The streams of the selected samples (shared, not copied)."""
        keys, counters, pos = self._streams()
        out = SampleRandom.__new__(SampleRandom)
        out.seed = self.seed
        mask = np.asarray(mask)
        sel = np.flatnonzero(mask) if mask.dtype == bool else mask.astype(np.int64)
        out._state = (keys, counters, pos[sel])
        out.indices = self.indices[sel]
        return out

    def _start(self, d: int) -> np.ndarray:
        """Per row, ``key + counter * golden`` (draw ``k`` adds ``k * golden``); advances the counters by ``d``."""
        keys, counters, pos = self._streams()
        start = counters[pos]
        base = keys[pos] + start * _GOLDEN                 # arrays: wrapping, no overflow check
        counters[pos] = start + np.uint64(d)
        return base

    @staticmethod
    def _raw(base: np.ndarray, c0: int, c1: int) -> np.ndarray:
        """The 64 random bits of draws ``c0 .. c1 - 1`` of the rows whose starts are ``base``."""
        return _splitmix64(base[:, None] + np.arange(c0, c1, dtype=np.uint64)[None, :] * _GOLDEN)

    @staticmethod
    def _bits(base: np.ndarray, c0: int, c1: int) -> np.ndarray:
        """Uniform floats in [0, 1) of draws ``c0 .. c1 - 1`` of the rows whose starts are ``base``."""
        bits = SampleRandom._raw(base, c0, c1)
        bits >>= _S11
        out = bits.astype(np.float64)
        out *= _TO_UNIT
        return out

    @staticmethod
    def _blocks(n: int, d: int):
        """``(rows, c0, c1)`` blocks of about ``_BLOCK`` draws covering an ``(n, d)`` draw.

        The arithmetic is element-wise, so blocks give the same numbers as one big array; they
        keep each block's temporaries in cache (one large array per step made the generator
        memory-bound: about 3 times slower for HopSkipJump's draws of several MB).
        """
        cols = min(d, _BLOCK)
        rows = max(1, _BLOCK // max(cols, 1))
        for r0 in range(0, n, rows):
            for c0 in range(0, d, cols):
                yield slice(r0, min(n, r0 + rows)), c0, min(d, c0 + cols)

    def _unit(self, d: int) -> np.ndarray:
        """``(n, d)`` uniform floats in [0, 1), advancing each stream by ``d``."""
        n = len(self)
        if n == 0 or d == 0:
            return np.zeros((n, d), dtype=np.float64)
        base = self._start(d)
        out = np.empty((n, d), dtype=np.float64)
        for rows, c0, c1 in self._blocks(n, d):
            out[rows, c0:c1] = self._bits(base[rows], c0, c1)
        return out

    @staticmethod
    def _shape(shape) -> tuple:
        # (plain isinstance and math.prod, not np.isscalar / np.prod: numpy's forms of these cost
        # tens of microseconds per draw, more than drawing a few thousand numbers)
        if shape is None:
            return ()
        return (int(shape),) if isinstance(shape, (int, float, np.number)) else tuple(int(v) for v in shape)

    def uniform(self, low=0.0, high=1.0, shape=None, dtype=np.float32) -> np.ndarray:
        s = self._shape(shape)
        u = self._unit(math.prod(s)).reshape((len(self), *s))
        return (low + (np.asarray(high, dtype=np.float64) - low) * u).astype(dtype, copy=False)

    def normal(self, loc=0.0, scale=1.0, shape=None, dtype=np.float32) -> np.ndarray:
        s = self._shape(shape)
        d = math.prod(s)
        n = len(self)
        work = np.float64 if np.dtype(dtype) == np.float64 else np.float32
        z = np.empty((n, d), dtype=work)
        if n and d:
            pairs = (d + 1) // 2                              # draw k gives normals 2k and 2k + 1
            base = self._start(pairs)
            for rows, c0, c1 in self._blocks(n, pairs):
                bits = self._raw(base[rows], c0, c1)
                r = (bits >> _S32).astype(work)               # radius: sqrt(-2 log u), u in (0, 1)
                r += work(0.5)
                r *= work(2.0 ** -32)
                np.log(r, out=r)
                r *= work(-2.0)
                np.sqrt(r, out=r)
                angle = (bits & _LOW32).astype(work)
                angle *= work(2.0 * np.pi * 2.0 ** -32)
                block = z[rows, 2 * c0:min(d, 2 * c1)]
                # products in contiguous arrays, then one strided copy each: a ufunc writing
                # through a strided out= costs about twice as much
                cos = np.cos(angle)
                cos *= r
                block[:, 0::2] = cos
                k = block.shape[1] // 2                       # an odd d drops the last sine
                sin = np.sin(angle[:, :k])
                sin *= r[:, :k]
                block[:, 1::2] = sin
        if not (isinstance(loc, (int, float)) and loc == 0 and isinstance(scale, (int, float)) and scale == 1):
            z = loc + scale * z.astype(np.float64)
        return z.reshape((n, *s)).astype(dtype, copy=False)

    def standard_exponential(self, shape=None, dtype=np.float32) -> np.ndarray:
        s = self._shape(shape)
        u = self._unit(math.prod(s))
        return (-np.log1p(-u)).reshape((len(self), *s)).astype(dtype, copy=False)

    def integers(self, low, high=None, shape=None) -> np.ndarray:
        if high is None:
            low, high = 0, low
        s = self._shape(shape)
        u = self._unit(math.prod(s)).reshape((len(self), *s))
        return (low + np.floor(u * (high - low))).astype(np.int64)

    def permutation(self, n: int) -> np.ndarray:
        return np.argsort(self._unit(int(n)), axis=1, kind="stable").astype(np.int64)
