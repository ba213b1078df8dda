"""HopSkipJump's building blocks as plain functions (Chen, Jordan & Wainwright 2020, Algorithm 2).

Every function works on a batch of samples at once.  The model is reached only through a
:class:`DecisionOracle` -- the boolean ``phi(x')`` of the paper ("is ``x'`` adversarial?") --
which also counts the queries spent on each sample.  Randomness comes from per-sample streams
(:class:`feint.rng.SampleRandom`), so a sample's trajectory never depends on its batch.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "DecisionOracle", "binary_search", "blend_search", "distance", "estimate_gradient_direction",
    "geometric_stepsize", "project",
]

#: forward batch used for probes (the attack's ``batch_size`` counts samples, not probes)
PROBE_BATCH = 512
#: largest probe tensor built at once, in elements (gradient estimation is chunked over samples)
MAX_PROBE_ELEMENTS = 1 << 24
#: halvings of the geometric step search before a sample keeps its current point (step 0)
MAX_HALVINGS = 30


class DecisionOracle:
    """The decision function ``phi`` of the paper, over the samples of one batch.

    ``oracle(xq, rows)`` returns, for probe ``xq[j]`` belonging to batch sample ``rows[j]``,
    whether the classifier's label is adversarial for that sample (``!= y`` untargeted,
    ``== y`` targeted).  Only ``classifier.predict`` is called; ``queries[i]`` counts the probes
    spent on sample ``i``.
    """

    def __init__(self, classifier, y: np.ndarray, targeted: bool, probe_batch: int = PROBE_BATCH) -> None:
        self.classifier = classifier
        self.y = np.asarray(y, dtype=np.int64)
        self.targeted = bool(targeted)
        self.probe_batch = int(probe_batch)
        self.queries = np.zeros(len(self.y), dtype=np.int64)

    def labels(self, xq: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Predicted classes of the probes (counted as queries of their samples)."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size == 0:
            return np.zeros(0, dtype=np.int64)
        np.add.at(self.queries, rows, 1)
        return self.classifier.predict(xq, batch_size=self.probe_batch).argmax(axis=1)

    def __call__(self, xq: np.ndarray, rows: np.ndarray) -> np.ndarray:
        cls = self.labels(xq, rows)
        if cls.size == 0:
            return np.zeros(0, dtype=bool)
        target = self.y[np.asarray(rows, dtype=np.int64)]
        return cls == target if self.targeted else cls != target


def _bcast(v: np.ndarray, ndim: int) -> np.ndarray:
    return np.asarray(v).reshape((-1,) + (1,) * (ndim - 1))


def distance(a: np.ndarray, b: np.ndarray, norm: float) -> np.ndarray:
    """Per-sample L2 or Linf distance (float64)."""
    diff = (a.astype(np.float64) - b.astype(np.float64)).reshape(a.shape[0], -1)
    if norm == math.inf:
        return np.abs(diff).max(axis=1, initial=0.0)
    return np.sqrt((diff**2).sum(axis=1))


def project(x0: np.ndarray, x_adv: np.ndarray, alpha: np.ndarray, norm: float) -> np.ndarray:
    """The point at "distance" ``alpha`` on the way from ``x0`` to ``x_adv``.

    L2: the blend ``(1 - alpha) x0 + alpha x_adv`` (alpha in [0, 1]); Linf: ``x_adv`` clipped to the
    Linf ball of radius ``alpha`` around ``x0``.
    """
    a = _bcast(alpha, x0.ndim).astype(x0.dtype)
    if norm == math.inf:
        return np.clip(x_adv, x0 - a, x0 + a).astype(x0.dtype)
    return ((1 - a) * x0 + a * x_adv).astype(x0.dtype)


def binary_search(oracle: DecisionOracle, rows: np.ndarray, x0: np.ndarray, x_adv: np.ndarray,
                  theta: float, norm: float) -> tuple[np.ndarray, np.ndarray]:
    """Move each adversarial ``x_adv`` onto the decision boundary between it and ``x0`` (Alg. 1).

    The search keeps ``high`` on the adversarial side and stops for a sample when
    ``(high - low) / threshold <= 1``; the threshold is ``theta`` for L2 (alpha in [0, 1]) and
    ``min(theta * d_inf, theta)`` for Linf (alpha in [0, d_inf]).  Returns the boundary points
    and the distances of the points searched from (the "post-update" distances of the paper's
    reference code, used to choose the next probe radius).
    """
    n = x0.shape[0]
    dist_post = distance(x_adv, x0, norm)
    if norm == math.inf:
        high = dist_post.copy()
        thresholds = np.minimum(dist_post * theta, theta)
    else:
        high = np.ones(n)
        thresholds = np.full(n, theta)
    thresholds = np.maximum(thresholds, np.finfo(np.float64).tiny)
    low = np.zeros(n)
    while True:
        todo = np.flatnonzero((high - low) / thresholds > 1)
        if todo.size == 0:
            break
        mid = (high[todo] + low[todo]) / 2
        ok = oracle(project(x0[todo], x_adv[todo], mid, norm), rows[todo])
        high[todo] = np.where(ok, mid, high[todo])
        low[todo] = np.where(ok, low[todo], mid)
        # a midpoint that no longer moves (float resolution) ends that sample's search
        stuck = todo[(high[todo] - low[todo]) <= np.spacing(np.maximum(high[todo], 1.0)) * 4]
        thresholds[stuck] = np.inf
    return project(x0, x_adv, high, norm), dist_post


def blend_search(oracle: DecisionOracle, rows: np.ndarray, x0: np.ndarray, x_noise: np.ndarray,
                 tol: float = 1e-3) -> np.ndarray:
    """Smallest blend ``(1 - b) x0 + b x_noise`` (to ``tol``) that is still adversarial.

    The initialisation step of the paper's reference code: ``x_noise`` is adversarial, ``x0``
    is not; the number of steps depends only on ``tol``, so every sample takes the same number.
    """
    n = x0.shape[0]
    low, high = np.zeros(n), np.ones(n)
    while n and high[0] - low[0] > tol:
        mid = (high + low) / 2
        ok = oracle(project(x0, x_noise, mid, 2.0), rows)
        high = np.where(ok, mid, high)
        low = np.where(ok, low, mid)
    return project(x0, x_noise, high, 2.0)


def estimate_gradient_direction(oracle: DecisionOracle, rows: np.ndarray, x_b: np.ndarray, delta: np.ndarray,
                                nb_eval: int, norm: float, rng, clip_values) -> np.ndarray:
    """Monte-Carlo estimate of the boundary normal at ``x_b`` from ``nb_eval`` decisions (Eq. 9-10).

    Directions ``u_b`` are Gaussian (L2) or uniform in the cube (Linf), normalised to the unit
    L2 sphere; probes ``x_b + delta u_b`` are clipped to the data range and ``u_b`` recomputed from
    the clipped probe.  With ``phi_b = +-1`` the estimate is ``mean((phi_b - mean(phi)) u_b)``; the
    baseline is skipped when all decisions agree (then it would cancel the estimate).  Returned
    with unit L2 norm.  Probes are built in chunks of samples so memory stays bounded.
    """
    n = x_b.shape[0]
    shape = x_b.shape[1:]
    d = int(np.prod(shape))
    out = np.zeros_like(x_b)
    chunk = max(1, MAX_PROBE_ELEMENTS // max(1, nb_eval * d))
    lo, hi = clip_values
    for start in range(0, n, chunk):
        sl = slice(start, min(n, start + chunk))
        sub = rng.subset(np.arange(sl.start, sl.stop))
        if norm == math.inf:
            rv = sub.uniform(-1.0, 1.0, (nb_eval, *shape), dtype=x_b.dtype)
        else:
            rv = sub.normal(0.0, 1.0, (nb_eval, *shape), dtype=x_b.dtype)
        m = sl.stop - sl.start
        dt = x_b.dtype
        # the probe arrays (samples x nb_eval x d, up to millions of components) stay in the input's
        # dtype and are worked on in place: float64 copies of them cost more than the sums need
        flat = rv.reshape(m, nb_eval, d)
        norms = np.sqrt(np.einsum("mbd,mbd->mb", flat, flat))[:, :, None]
        flat /= np.maximum(norms, dt.type(1e-20))
        dl = delta[sl].astype(dt).reshape(m, 1, 1)
        base = x_b[sl].reshape(m, 1, d)
        probes = np.multiply(flat, dl)
        probes += base
        np.clip(probes, dt.type(lo), dt.type(hi), out=probes)
        np.subtract(probes, base, out=flat)                             # the step actually taken
        flat /= dl
        phi = oracle(probes.reshape(m * nb_eval, *shape), np.repeat(rows[sl], nb_eval)).reshape(m, nb_eval)
        f = 2.0 * phi.astype(np.float64) - 1.0
        mean = f.mean(axis=1, keepdims=True)
        f = np.where(np.abs(mean) == 1.0, f, f - mean)
        # sum_b f_b u_b as one matrix product per sample (float32 sums of up to max_eval terms: ~1e-6
        # relative, far below the Monte-Carlo error of the estimate)
        grad = np.matmul(f.astype(dt)[:, None, :], flat)[:, 0].astype(np.float64) / nb_eval
        grad /= np.maximum(np.linalg.norm(grad, axis=1, keepdims=True), 1e-20)
        out[sl] = grad.reshape(m, *shape).astype(x_b.dtype)
    return out


def geometric_stepsize(oracle: DecisionOracle, rows: np.ndarray, x_b: np.ndarray, update: np.ndarray,
                       eps0: np.ndarray, clip_values) -> np.ndarray:
    """Halve ``eps`` from ``eps0`` until ``clip(x_b + eps * update)`` is adversarial (per sample).

    A sample that needs more than ``MAX_HALVINGS`` halvings gets step 0 (it stays at ``x_b``,
    which is adversarial), where the reference code would loop on.
    """
    eps = eps0.astype(np.float64).copy()
    todo = np.arange(x_b.shape[0])
    lo, hi = clip_values
    for _ in range(MAX_HALVINGS + 1):
        if todo.size == 0:
            return eps
        cand = np.clip(x_b[todo] + _bcast(eps[todo], x_b.ndim).astype(x_b.dtype) * update[todo], lo, hi)
        ok = oracle(cand.astype(x_b.dtype), rows[todo])
        todo = todo[~ok]
        eps[todo] /= 2.0
    eps[todo] = 0.0
    return eps
