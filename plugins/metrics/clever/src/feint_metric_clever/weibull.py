"""Maximum-likelihood fit of the reverse Weibull distribution to batch maxima, many sets at once.

CLEVER (paper 000 §7.3, Algorithm 8 line 10) models the batch maxima ``S`` of gradient norms as
reverse-Weibull distributed, ``P(S <= s) = exp(-((mu - s) / sigma) ** c)`` for ``s <= mu``; the
location ``mu`` (the upper end point) estimates the local Lipschitz constant.  Equivalently
``-S`` follows ``scipy.stats.weibull_min(c, loc=-mu, scale=sigma)``, which is how ART fits it,
one set at a time with a Nelder-Mead search (~30 ms a set).

:func:`fit_reverse_weibull` fits every set in one vectorised pass by profiling the likelihood
over the end point: for a fixed ``mu`` the shape ``c`` solves a one-dimensional monotone
equation (safeguarded Newton) and the scale has a closed form, which leaves a one-dimensional
search over ``mu`` (a log-spaced grid, then golden-section refinement around the best interior
local maximum).  The three-parameter Weibull likelihood always diverges as ``mu`` approaches the
largest observation (the shape tends to 0 there), so, as is standard for this model, the
estimate is the interior local maximum; when there is none the fit is reported as failed.
``method="scipy"`` runs ``scipy.stats.weibull_min.fit`` per set instead (ART's procedure).

Statuses: ``"ok"``; ``"degenerate"`` (fewer than three distinct values or a non-finite value,
for instance the constant gradients of a linear model); ``"no_interior_maximum"`` (the
likelihood rises all the way to the largest observation); ``"unbounded"`` (it keeps rising as
the end point goes to infinity); ``"failed"`` (scipy's fit raised or returned an end point below
the data).  Failed fits get ``mu`` = the largest observation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["WeibullFit", "fit_reverse_weibull", "reverse_weibull_logpdf"]

_DELTA_RANGE = (1e-5, 1e3)     # end point search: mu = max + delta * range, in units of the data range
_GRID = 25
_GOLDEN_STEPS = 22
_NEWTON_STEPS = 40


@dataclass
class WeibullFit:
    """Fitted parameters of ``m`` sets: arrays of shape ``(m,)``."""

    loc: np.ndarray          # mu, the upper end point (the Lipschitz estimate)
    shape: np.ndarray        # c
    scale: np.ndarray        # sigma
    status: np.ndarray       # str per set (see the module docstring)
    max_observed: np.ndarray
    ks_pvalue: np.ndarray    # Kolmogorov-Smirnov p-value of the fitted law (nan where not fitted)

    @property
    def ok(self) -> np.ndarray:
        return self.status == "ok"


def reverse_weibull_logpdf(s, loc, shape, scale) -> np.ndarray:
    """Log-density of the reverse Weibull at ``s``: ``weibull_min.logpdf(-s, c, -mu, sigma)``."""
    from scipy.stats import weibull_min

    return weibull_min.logpdf(-np.asarray(s, dtype=np.float64), shape, loc=-np.asarray(loc), scale=scale)


def _solve_shape(a: np.ndarray, c0) -> np.ndarray:
    """Root in c of ``sum(e a)/sum(e) - 1/c - mean(a) = 0`` with ``e = exp(c a)``, along the last axis.

    ``a = log(w / max(w))`` <= 0.  The left side increases with c, from -inf to
    ``-mean(a) > 0``, so the root is unique; Newton steps are kept inside a shrinking bracket.
    ``c0`` is the starting point (a scalar or one per set, for warm starts).
    """
    shape = a.shape[:-1]
    mean_a = a.mean(axis=-1)
    c = np.array(np.broadcast_to(np.asarray(c0, dtype=np.float64), shape))
    lo = np.full(shape, 1e-8)
    hi = np.full(shape, np.inf)
    for _ in range(_NEWTON_STEPS):
        e = np.exp(c[..., None] * a)
        s0 = e.sum(axis=-1)
        ea = e * a
        s1 = ea.sum(axis=-1) / s0
        s2 = (ea * a).sum(axis=-1) / s0
        h = s1 - 1.0 / c - mean_a
        dh = (s2 - s1 * s1) + 1.0 / (c * c)
        lo = np.where(h < 0, c, lo)
        hi = np.where(h > 0, c, hi)
        new = c - h / dh
        bisect = np.where(np.isfinite(hi), np.sqrt(lo * hi), c * 4.0)
        new = np.where((new > lo) & (new < hi) & np.isfinite(new), new, bisect)
        done = np.abs(new - c) <= 1e-9 * c
        c = new
        if np.all(done):
            break
    return c


def _profile(u: np.ndarray, delta: np.ndarray, c0):
    """Profile log-likelihood of end point ``1 + delta`` for data ``u`` in [0, 1] (max 1).

    ``u``: (m, n); ``delta``: (m, g); ``c0``: starting shapes, broadcastable to (m, g).
    Returns (loglik, shape, scale), each (m, g).
    """
    n = u.shape[-1]
    w = (1.0 + delta)[..., None] - u[:, None, :]           # > 0, largest 1 + delta
    a = np.log(w) - np.log1p(delta)[..., None]               # log(w / max w) <= 0
    c = _solve_shape(a, c0)
    mean_e = np.exp(c[..., None] * a).mean(axis=-1)
    ll = n * np.log(c) - n * np.log(mean_e) + (c - 1.0) * a.sum(axis=-1) - n * np.log1p(delta) - n
    scale = (1.0 + delta) * mean_e ** (1.0 / c)
    return ll, c, scale


def _distinct(s: np.ndarray) -> np.ndarray:
    srt = np.sort(s, axis=1)
    return 1 + (np.diff(srt, axis=1) > 1e-12 * np.maximum(np.abs(srt[:, 1:]), 1e-300)).sum(axis=1)


def _ks_pvalue(s: np.ndarray, loc, shape, scale) -> np.ndarray:
    """Kolmogorov-Smirnov p-value of each fitted law (Stephens' finite-n form of the limit law).

    The parameters are estimated from the same data, so the p-value is optimistic: a small one
    flags a poor fit, a large one proves little.
    """
    from scipy.special import kolmogorov

    n = s.shape[1]
    srt = np.sort(s, axis=1)
    z = np.clip((loc[:, None] - srt) / scale[:, None], 0.0, None)
    cdf = np.exp(-(z ** shape[:, None]))
    i = np.arange(1, n + 1)
    d = np.maximum((i / n - cdf).max(axis=1), (cdf - (i - 1) / n).max(axis=1))
    root = np.sqrt(n)
    return kolmogorov((root + 0.12 + 0.11 / root) * d)


def fit_reverse_weibull(samples, c_init: float = 1.0, method: str = "profile") -> WeibullFit:
    """Fit a reverse Weibull law to each row of ``samples`` (shape ``(m, n)`` or ``(n,)``).

    Parameters
    ----------
    samples : array_like
        Batch maxima, one set per row.
    c_init : float, default 1
        Starting shape: of the Newton solve (``"profile"``) or of scipy's optimiser (``"scipy"``).
    method : {"profile", "scipy"}
        Vectorised profile likelihood (default), or ``scipy.stats.weibull_min.fit`` per set.
    """
    s = np.atleast_2d(np.asarray(samples, dtype=np.float64))
    m = s.shape[0]
    finite = np.all(np.isfinite(s), axis=1)
    safe = np.where(finite[:, None], s, 0.0)
    top, bottom = safe.max(axis=1), safe.min(axis=1)
    loc, shape, scale = top.copy(), np.full(m, np.nan), np.full(m, np.nan)
    status = np.full(m, "ok", dtype=object)
    degenerate = ~finite | (_distinct(safe) < 3)
    status[degenerate] = "degenerate"
    work = np.flatnonzero(~degenerate)
    if work.size:
        fit = _fit_scipy if method == "scipy" else _fit_profile
        w_loc, w_shape, w_scale, w_status = fit(safe[work], top[work], bottom[work], float(c_init))
        loc[work], shape[work], scale[work], status[work] = w_loc, w_shape, w_scale, w_status
    failed = status != "ok"
    loc[failed] = top[failed]
    pvalue = np.full(m, np.nan)
    good = np.flatnonzero(~failed)
    if good.size:
        pvalue[good] = _ks_pvalue(safe[good], loc[good], shape[good], scale[good])
    return WeibullFit(loc, shape, scale, status, top, pvalue)


def _fit_profile(s, top, bottom, c0):
    m = s.shape[0]
    rng = top - bottom
    u = (s - bottom[:, None]) / rng[:, None]
    t_grid = np.linspace(np.log(_DELTA_RANGE[0]), np.log(_DELTA_RANGE[1]), _GRID)
    ll = np.empty((m, _GRID))
    shapes = np.empty((m, _GRID))
    c = np.full((m, 1), float(c0))
    for j in range(_GRID - 1, -1, -1):       # from far end points (large c) inwards, warm-started
        f, c, _ = _profile(u, np.full((m, 1), np.exp(t_grid[j])), c)
        ll[:, j], shapes[:, j] = f[:, 0], c[:, 0]
    ll = np.where(np.isfinite(ll), ll, -np.inf)
    # interior local maxima of the profile on the grid; the best one brackets the estimate
    inner = (ll[:, 1:-1] >= ll[:, :-2]) & (ll[:, 1:-1] >= ll[:, 2:]) & np.isfinite(ll[:, 1:-1])
    has_inner = inner.any(axis=1)
    k = np.where(inner, ll[:, 1:-1], -np.inf).argmax(axis=1) + 1
    status = np.full(m, "ok", dtype=object)
    rising = ll[:, -1] >= ll[:, -2]
    status[~has_inner & rising] = "unbounded"
    status[~has_inner & ~rising] = "no_interior_maximum"
    rows = np.arange(m)
    a, b = t_grid[np.maximum(k - 1, 0)], t_grid[np.minimum(k + 1, _GRID - 1)]
    c_mid = shapes[rows, k][:, None]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    x1, x2 = b - ratio * (b - a), a + ratio * (b - a)
    f1, c1, _ = _profile(u, np.exp(x1)[:, None], c_mid)
    f2, c2, _ = _profile(u, np.exp(x2)[:, None], c_mid)
    for _ in range(_GOLDEN_STEPS):        # golden-section search, one new evaluation a step
        left = f1[:, 0] >= f2[:, 0]
        b = np.where(left, x2, b)
        a = np.where(left, a, x1)
        new_x = np.where(left, b - ratio * (b - a), a + ratio * (b - a))
        f_new, c_new, _ = _profile(u, np.exp(new_x)[:, None], np.where(left[:, None], c1, c2))
        lc = left[:, None]
        x1, x2 = np.where(left, new_x, x2), np.where(left, x1, new_x)
        f1, f2 = np.where(lc, f_new, f2), np.where(lc, f1, f_new)
        c1, c2 = np.where(lc, c_new, c2), np.where(lc, c1, c_new)
    t_best = 0.5 * (a + b)
    _, c, sc = _profile(u, np.exp(t_best)[:, None], 0.5 * (c1 + c2))
    loc = bottom + rng * (1.0 + np.exp(t_best))
    return loc, c[:, 0], sc[:, 0] * rng, status


def _fit_scipy(s, top, bottom, c0):
    import warnings

    from scipy.stats import weibull_min

    m = s.shape[0]
    loc, shape, scale = np.full(m, np.nan), np.full(m, np.nan), np.full(m, np.nan)
    status = np.full(m, "ok", dtype=object)
    for i in range(m):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                c, lc, sc = weibull_min.fit(-s[i], c0)
        except Exception:  # noqa: BLE001 - scipy's optimiser failing is a reported outcome
            status[i] = "failed"
            continue
        mu = -lc
        if not (np.isfinite(mu) and np.isfinite(c) and np.isfinite(sc)) or mu < top[i] - 1e-9 * max(abs(top[i]), 1):
            status[i] = "failed"
            continue
        loc[i], shape[i], scale[i] = mu, c, sc
    return loc, shape, scale, status
