"""The ZOO attack class (Chen, Zhang, Sharma, Yi & Hsieh 2017; paper 000 §2)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from feint import Attack, AttackResult
from feint._params import Boolean, Integer, Real
from feint.hooks import task
from feint_attack_zoo._functional import adam_coordinate_step, cw_margin, importance_probabilities, sample_coordinates

__all__ = ["ZooAttack", "ZooResult"]

#: forward batch used for probes (the attack's ``batch_size`` counts samples, not probes)
PROBE_BATCH = 512
#: largest probe tensor built at once, in elements (probes are built in chunks of samples)
MAX_PROBE_ELEMENTS = 1 << 24


@dataclass
class ZooResult(AttackResult):
    """:class:`feint.AttackResult` plus ``queries``: model queries spent on each sample."""

    queries: np.ndarray = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        q = self.queries
        out["mean_queries"] = float(np.mean(q)) if q is not None and q.size else math.nan
        return out


class ZooAttack(Attack):
    """ZOO: zeroth-order coordinate-wise Adam on the C&W L2 objective, from model scores only.

    Minimises ``||x' - x||_2^2 + c * max(margin(x'), -confidence)`` over ``x'`` in the data box,
    where the margin is the ZOO black-box loss on log-scores (Eq. 4 targeted, Eq. 5 untargeted).
    Each iteration picks ``nb_parallel`` coordinates per sample (uniformly or by importance
    sampling), estimates their partial derivatives by symmetric differences
    ``(L(x' + h e_i) - L(x' - h e_i)) / 2h`` (``h = variable_h``), and moves each with its own Adam
    state (Algorithm 2, "ZOO-ADAM"); one iteration costs ``2 * nb_parallel + 1`` queries per
    sample, sent in one batch across the samples still running.  The constant ``c`` is set per
    sample by binary search over ``binary_search_steps`` rounds of ``max_iter`` iterations, and
    the smallest successful perturbation is kept.  Only ``classifier.predict`` is called.

    Spec: ``zoo``, ``zoo(max_iter=200, binary_search_steps=5, initial_const=0.1)``,
    ``zoo(use_logits=False, use_importance=False)``.

    Parameters
    ----------
    classifier : Classifier
        Needs ``predict`` only.
    confidence : float, default 0.0
        kappa: the margin by which the adversarial class must win.
    learning_rate : float, default 0.01
        Adam step size eta.
    max_iter : int, default 1000
        Iterations per binary-search round.
    binary_search_steps : int, default 9
        Rounds of the binary search over c.
    initial_const : float, default 0.01
        c of the first round (multiplied by 10 while no upper bound is known).
    abort_early : bool, default True
        End a sample's round when its loss has not decreased by 0.01 % over ``max_iter // 10``
        iterations.
    nb_parallel : int, default 128
        Coordinates updated per iteration (the paper's batch of 128 pixels); capped at the input
        dimension, where every coordinate is taken each iteration.
    variable_h : float, default 1e-4
        Finite-difference step h.
    use_importance : bool, default True
        Sample coordinates by importance (see Notes) instead of uniformly.
    use_logits : bool, default True
        Use ``predict(logits=True)`` as the log-scores; ``False`` takes ``log`` of the predicted
        probabilities (the paper's black-box setting).  For a softmax model both give the same
        margin, hence the same attack; logits avoid ``log(0)`` when a probability underflows.
    adam_beta1, adam_beta2 : float, default 0.9, 0.999
    targeted : bool, default False
    target, batch_size, random_state, verbose
        As for every attack (:class:`feint.Attack`).

    Notes
    -----
    Choices where the paper leaves room (following its reference code where it has one): the
    search runs in the input space with projection onto ``clip_values`` (ZOO's non-tanh variant);
    a probe that would leave the box is clipped and the difference divided by the actual
    distance between the two probes; the perturbation is carried over from one binary-search
    round to the next, and the Adam state is reset at the start of each round and when a sample
    first succeeds within it; importance sampling draws coordinates without replacement with
    probability ``1/2 * maxpool(|delta|) / sum + 1/2 * uniform`` (pool ``H // 8`` on images),
    recomputed every ``max_iter // 10`` iterations; the attack-space reduction and hierarchical
    attack of §III-D (for large images) are not implemented.  Samples for which no adversarial
    example was found are returned unchanged.  The per-sample queries are in ``attack.queries_``
    after :meth:`generate` and in ``result.queries`` of :meth:`run`.

    References
    ----------
    Chen, Zhang, Sharma, Yi & Hsieh, "ZOO: Zeroth Order Optimization based Black-box Attacks to
    Deep Neural Networks without Training Substitute Models", AISec 2017.  Carlini & Wagner,
    "Towards evaluating the robustness of neural networks", IEEE S&P 2017.
    """

    name: ClassVar[str] = "zoo"
    requires = frozenset({"predict"})
    norm_param: ClassVar[str | None] = None
    eps_param: ClassVar[str | None] = None
    _parameter_constraints: ClassVar[dict] = {
        "confidence": [Real(0, None, "left")],
        "learning_rate": [Real(0, None, "neither")],
        "max_iter": [Integer(1, None)],
        "binary_search_steps": [Integer(1, None)],
        "initial_const": [Real(0, None, "neither")],
        "abort_early": [Boolean()],
        "nb_parallel": [Integer(1, None)],
        "variable_h": [Real(0, None, "neither")],
        "use_importance": [Boolean()],
        "use_logits": [Boolean()],
        "adam_beta1": [Real(0, 1, "left")],
        "adam_beta2": [Real(0, 1, "left")],
    }

    def __init__(self, classifier, confidence: float = 0.0, learning_rate: float = 1e-2, max_iter: int = 1000,
                 binary_search_steps: int = 9, initial_const: float = 1e-2, abort_early: bool = True,
                 nb_parallel: int = 128, variable_h: float = 1e-4, use_importance: bool = True,
                 use_logits: bool = True, adam_beta1: float = 0.9, adam_beta2: float = 0.999,
                 targeted: bool = False, target=None, batch_size: int = 32, random_state=None,
                 verbose: bool = True) -> None:
        super().__init__(classifier)
        self.queries_ = None
        self._init_params(locals())

    # -- public API -----------------------------------------------------------------------------
    def generate(self, x, y=None, **params: Any) -> np.ndarray:
        x_arr = self.classifier.check_x(x)
        self.queries_ = np.zeros(x_arr.shape[0], dtype=np.int64)
        return super().generate(x_arr, y, **params)

    def run(self, x, y=None, **params: Any) -> ZooResult:
        """Run the attack: :class:`ZooResult` with success, norms, passes and queries."""
        res = super().run(x, y, **params)
        return ZooResult(**{f.name: getattr(res, f.name) for f in fields(AttackResult)},
                         queries=self.queries_.copy())

    # -- the algorithm --------------------------------------------------------------------------
    def _spatial(self, shape) -> tuple[tuple[int, ...], int]:
        """Spatial axes of a batch (for importance pooling) and the pool size ``H // 8``."""
        if len(shape) != 3:
            return (), 1
        ci = self.classifier.channel_index
        axes = (2, 3) if ci in (1, -3) else (1, 2)
        return axes, max(1, shape[axes[0] - 1] // 8)

    def _scores(self, xq: np.ndarray) -> np.ndarray:
        out = self.classifier.predict(xq, logits=self.use_logits, batch_size=PROBE_BATCH).astype(np.float64)
        return out if self.use_logits else np.log(np.maximum(out, 1e-30))

    def _losses(self, x0, delta, idx, y, c):
        """Loss at ``x0 + delta`` and its symmetric differences on ``idx``: (loss, margin, grad)."""
        m, k = idx.shape
        shape = self.classifier.input_shape or self._shape
        cv = self.classifier.clip_values
        lo, hi = (-np.inf, np.inf) if cv is None else cv
        h = np.asarray(self.variable_h, dtype=x0.dtype)
        base = x0 + delta
        cur = np.take_along_axis(base, idx, 1)
        plus = np.clip(cur + h, lo, hi).astype(x0.dtype)
        minus = np.clip(cur - h, lo, hi).astype(x0.dtype)
        probes = np.repeat(base[:, None, :], 2 * k + 1, axis=1)
        ar = np.arange(m)[:, None]
        probes[ar, 1 + 2 * np.arange(k)[None, :], idx] = plus
        probes[ar, 2 + 2 * np.arange(k)[None, :], idx] = minus
        scores = self._scores(probes.reshape(m * (2 * k + 1), *shape))
        margin = cw_margin(scores, np.repeat(y, 2 * k + 1), self.is_targeted).reshape(m, 2 * k + 1)
        f = np.maximum(margin, -float(self.confidence))
        l2 = ((probes.astype(np.float64) - x0[:, None, :].astype(np.float64)) ** 2).sum(axis=2)
        loss = l2 + c[:, None] * f
        step = (plus - minus).astype(np.float64)
        grad = np.where(step > 0, (loss[:, 1::2] - loss[:, 2::2]) / np.where(step > 0, step, 1.0), 0.0)
        return loss[:, 0], margin[:, 0], grad

    def _generate_batch(self, x, y, rng):
        n = x.shape[0]
        self._shape = x.shape[1:]
        d = int(np.prod(x.shape[1:]))
        x0 = x.reshape(n, d)
        cv = self.classifier.clip_values
        lo, hi = (-np.inf, np.inf) if cv is None else cv
        low, high = (lo - x0).astype(np.float64), (hi - x0).astype(np.float64)
        k = min(int(self.nb_parallel), d)
        kappa = float(self.confidence)
        every = max(1, self.max_iter // 10)
        spatial, pool = self._spatial(x.shape[1:])
        importance = self.use_importance and k < d
        chunk = max(1, MAX_PROBE_ELEMENTS // ((2 * k + 1) * d))   # samples whose probes are built at once

        delta = np.zeros((n, d), dtype=x.dtype)
        const = np.full(n, float(self.initial_const))
        lower, upper = np.zeros(n), np.full(n, 1e10)
        best, best_l2 = x0.copy(), np.full(n, np.inf)
        queries = np.zeros(n, dtype=np.int64)
        total = self.binary_search_steps * self.max_iter
        with task("attack", f"{self.name} iterations", total=total, unit="iter", verbose=self.verbose) as t:
            for _ in range(self.binary_search_steps):
                m_, v_ = np.zeros((n, d)), np.zeros((n, d))
                t_ = np.ones((n, d), dtype=np.int64)
                prob = importance_probabilities(delta.reshape(x.shape), spatial, pool) if importance else None
                running = np.ones(n, dtype=bool)
                succeeded = np.zeros(n, dtype=bool)
                prev = np.full(n, np.inf)
                done_iters = 0
                for it in range(self.max_iter):
                    act = np.flatnonzero(running)
                    if act.size == 0:
                        break
                    loss0 = np.empty(act.size)
                    for s0 in range(0, act.size, chunk):
                        a = act[s0:s0 + chunk]
                        sl = slice(s0, s0 + a.size)
                        idx = sample_coordinates(rng.subset(a), d, k, None if prob is None else prob[a])
                        loss, margin, grad = self._losses(x0[a], delta[a], idx, y[a], const[a])
                        queries[a] += 2 * k + 1
                        loss0[sl] = loss
                        # the point just evaluated: keep it if it is the smallest success so far
                        l2 = ((delta[a].astype(np.float64)) ** 2).sum(axis=1)
                        win = margin < -kappa
                        keep = win & (l2 < best_l2[a])
                        best[a[keep]] = x0[a[keep]] + delta[a[keep]]
                        best_l2[a[keep]] = l2[keep]
                        first = win & ~succeeded[a]
                        succeeded[a] |= win
                        mm, vv, tt = m_[a], v_[a], t_[a]
                        mm[first], vv[first], tt[first] = 0.0, 0.0, 1
                        da = delta[a]
                        adam_coordinate_step(da, grad, idx, mm, vv, tt, self.learning_rate, self.adam_beta1,
                                             self.adam_beta2, low[a], high[a])
                        delta[a], m_[a], v_[a], t_[a] = da, mm, vv, tt
                    if (it + 1) % every == 0:
                        if self.abort_early:
                            stop = loss0 > prev[act] * 0.9999
                            prev[act] = loss0
                            running[act[stop]] = False
                        if importance:
                            prob[act] = importance_probabilities(delta[act].reshape((act.size, *x.shape[1:])),
                                                                 spatial, pool)
                    done_iters += 1
                    t.advance()
                t.advance(self.max_iter - done_iters)
                # binary search over c (C&W): succeeded -> smaller c, failed -> larger c
                upper = np.where(succeeded, np.minimum(upper, const), upper)
                lower = np.where(succeeded, lower, np.maximum(lower, const))
                const = np.where(succeeded | (upper < 1e9), (lower + upper) / 2, const * 10)
        self.queries_[rng.indices] = queries
        return best.reshape(x.shape)
