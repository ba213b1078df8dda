"""The HopSkipJump attack class (Chen, Jordan & Wainwright 2020; paper 004 [4])."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from feint import Attack, AttackResult
from feint._params import Integer, Options, Real
from feint.errors import InvalidInputError, InvalidParameterError
from feint.hooks import task
from feint.norms import parse_norm
from feint_attack_hopskipjump._functional import (
    PROBE_BATCH,
    DecisionOracle,
    binary_search,
    blend_search,
    distance,
    estimate_gradient_direction,
    geometric_stepsize,
)

__all__ = ["HopSkipJump", "HopSkipJumpResult"]

log = logging.getLogger("feint.attacks.hopskipjump")


@dataclass
class HopSkipJumpResult(AttackResult):
    """:class:`feint.AttackResult` plus ``queries``: model queries spent on each sample."""

    queries: np.ndarray = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        q = self.queries
        out["mean_queries"] = float(np.mean(q)) if q is not None and q.size else math.nan
        return out


class HopSkipJump(Attack):
    """HopSkipJump: a decision-based attack that needs only the predicted labels.

    Starting from an adversarial point, each iteration (Algorithm 2 of the paper) moves it onto
    the decision boundary by binary search toward the input, estimates the boundary normal there
    from the signs of ``B_t = min(init_eval * sqrt(t), max_eval)`` random probes of radius
    ``delta_t``, steps along it with a geometric-progression step search (``xi_t = ||x_t - x||
    / sqrt(t)``, halved until adversarial), and binary-searches back to the boundary.  L2 and Linf
    versions (``norm=2 | inf``); untargeted and targeted.  Only ``classifier.predict`` is ever
    called.  Every random draw comes from the per-sample streams, so one seed gives one result
    whatever ``batch_size``.  The per-sample queries are in ``attack.queries_`` after
    :meth:`generate` and in ``result.queries`` of :meth:`run`.

    Spec: ``hopskipjump``, ``hopskipjump(max_iter=20)``, ``hopskipjump(norm=inf, max_eval=2000)``,
    ``hsj``.

    Parameters
    ----------
    classifier : Classifier
        Needs ``predict`` only, and ``clip_values`` (the random initialisation draws in that box).
    max_iter : int, default 40
        Iterations T (the reference code's ``num_iterations``).
    max_eval : int, default 10000
        Upper bound on the probes of one gradient-direction estimate.
    init_eval : int, default 100
        Probes of the first estimate (B_0); iteration t uses ``int(init_eval * sqrt(t))``.
    init_size : int, default 100
        Random uniform-noise draws tried per sample to find an adversarial starting point.
    gamma : float, default 1.0
        Binary-search threshold ``theta = gamma / d**1.5`` (L2) or ``gamma / d**2`` (Linf).
    norm : {2, inf}, default 2
        Distance the attack minimises.
    targeted : bool, default False
    target, batch_size, random_state, verbose
        As for every attack (:class:`feint.Attack`).

    Notes
    -----
    Starting points, per sample, in this order (``generate(x, y, x_init=...)`` or
    ``run(x, y, x_init=...)`` passes one per input):

    * untargeted: ``x_init`` if given and adversarial; else uniform noise in ``clip_values``
      (``init_size`` draws), then the closest blend with the input that stays adversarial (the
      reference code's initialisation); else the nearest (L2) input of the same call that the
      model classifies differently from the sample's label;
    * targeted: ``x_init`` if given and classified as the target; else the nearest (L2) input of
      the same call classified as the target (pass a few images of each target class with the
      batch, or ``x_init``); else uniform noise as above, which rarely hits a given class.

    Samples without a starting point are returned unchanged (and logged).  Samples already
    adversarial are returned unchanged.  Choices where the paper leaves room: probes are clipped
    to ``clip_values`` and their directions recomputed from the clipped probe (as the reference
    code does); the geometric step search gives up after 30 halvings (the sample keeps its
    point); the returned point is the boundary point of smallest distance over all iterations
    (always adversarial; normally the last one).  Only the geometric-progression step search
    is implemented (not the grid search of the reference code).

    References
    ----------
    Chen, Jordan & Wainwright, "HopSkipJumpAttack: A Query-Efficient Decision-Based Attack",
    IEEE S&P 2020.  Jankovic & Mayer (paper 004), §2.
    """

    name: ClassVar[str] = "hopskipjump"
    requires = frozenset({"predict"})
    eps_param: ClassVar[str | None] = None
    _parameter_constraints: ClassVar[dict] = {
        "norm": [Options((2, np.inf, "inf", "l2", "linf"))],
        "max_iter": [Integer(0, None)],
        "max_eval": [Integer(1, None)],
        "init_eval": [Integer(1, None)],
        "init_size": [Integer(1, None)],
        "gamma": [Real(0, None, "neither")],
    }

    def __init__(self, classifier, max_iter: int = 40, max_eval: int = 10000, init_eval: int = 100,
                 init_size: int = 100, gamma: float = 1.0, norm=2, targeted: bool = False, target=None,
                 batch_size: int = 64, random_state=None, verbose: bool = True) -> None:
        super().__init__(classifier)
        self._x_init = None
        self._pool = None
        self._pool_cls = None
        self.queries_ = None
        self._init_params(locals())

    def _check_params(self, params) -> None:
        if params["init_eval"] > params["max_eval"]:
            raise InvalidParameterError(
                f"The 'init_eval' parameter of HopSkipJump must be <= max_eval ({params['max_eval']}). "
                f"Got {params['init_eval']} instead.")

    # -- public API -----------------------------------------------------------------------------
    def generate(self, x, y=None, x_init=None, **params: Any) -> np.ndarray:
        """Return adversarial examples for ``x``; ``x_init`` optionally gives a starting point per input.

        See :meth:`feint.Attack.generate`.  ``x_init`` (same shape as ``x``, inside clip_values):
        adversarial starting points, needed for targeted attacks unless the batch holds inputs
        of the target classes.
        """
        if self.classifier.clip_values is None:
            raise InvalidInputError(
                "HopSkipJump needs a classifier with clip_values (the data range it searches in). "
                "Got clip_values=None; set them on the classifier.")
        x_arr = self.classifier.check_x(x)
        if x_init is not None:
            x_init = self.classifier.check_x(x_init, name="x_init")
            if x_init.shape != x_arr.shape:
                raise InvalidInputError(
                    f"x_init must have the shape of x {x_arr.shape} (one starting point per input). "
                    f"Got {x_init.shape} instead.")
        self._x_init, self._pool, self._pool_cls = x_init, x_arr, None
        self.queries_ = np.zeros(x_arr.shape[0], dtype=np.int64)
        try:
            return super().generate(x_arr, y, **params)
        finally:
            self._x_init = self._pool = self._pool_cls = None

    def run(self, x, y=None, **params: Any) -> HopSkipJumpResult:
        """Run the attack: :class:`HopSkipJumpResult` with success, norms, passes and queries."""
        res = super().run(x, y, **params)
        return HopSkipJumpResult(**{f.name: getattr(res, f.name) for f in fields(AttackResult)},
                                 queries=self.queries_.copy())

    # -- the algorithm --------------------------------------------------------------------------
    def _generate_batch(self, x, y, rng):
        norm = parse_norm(self.norm)
        oracle = DecisionOracle(self.classifier, y, self.is_targeted)
        rows = np.arange(x.shape[0])
        out = x.copy()
        already = oracle(x, rows)
        start, ok = self._initialise(oracle, x, rng, ~already)
        missing = int(np.count_nonzero(~ok & ~already))
        if missing:
            log.warning("HopSkipJump found no adversarial starting point for %d of %d samples; they are "
                        "returned unchanged (pass x_init=..., add inputs of the target classes to the "
                        "call, or raise init_size).", missing, x.shape[0])
        act = np.flatnonzero(ok & ~already)
        if act.size:
            out[act] = self._iterate(oracle, act, x[act], start[act], rng, norm)
        self.queries_[rng.indices] = oracle.queries
        return out

    def _iterate(self, oracle, rows, x0, x_start, rng, norm):
        """Algorithm 2 on the samples ``rows`` (all advance together, iteration by iteration)."""
        lo, hi = self.classifier.clip_values
        d = int(np.prod(x0.shape[1:]))
        theta = self.gamma / (d ** 1.5 if norm == 2 else d ** 2)
        sub = rng.subset(rows)
        x_b, dist_post = binary_search(oracle, rows, x0, x_start, theta, norm)
        dist = distance(x_b, x0, norm)
        best, best_dist = x_b.copy(), dist.copy()
        with task("attack", f"{self.name} iterations", total=self.max_iter, unit="iter",
                  verbose=self.verbose) as t:
            for it in range(1, self.max_iter + 1):
                if it == 1:
                    delta = np.full(len(rows), 0.1 * (hi - lo))
                else:
                    delta = (math.sqrt(d) if norm == 2 else d) * theta * dist_post
                nb_eval = min(int(self.init_eval * math.sqrt(it)), self.max_eval)
                grad = estimate_gradient_direction(oracle, rows, x_b, delta, nb_eval, norm, sub, (lo, hi))
                update = np.sign(grad) if norm == math.inf else grad
                eps = geometric_stepsize(oracle, rows, x_b, update, dist / math.sqrt(it), (lo, hi))
                e = eps.reshape((-1,) + (1,) * (x0.ndim - 1)).astype(x0.dtype)
                stepped = np.clip(x_b + e * update, lo, hi).astype(x0.dtype)
                x_b, dist_post = binary_search(oracle, rows, x0, stepped, theta, norm)
                dist = distance(x_b, x0, norm)
                better = dist < best_dist
                best[better], best_dist[better] = x_b[better], dist[better]
                t.advance()
        return best

    def _initialise(self, oracle, x, rng, need):
        """Adversarial starting points for the samples in ``need`` (see the class Notes)."""
        start = x.copy()
        ok = np.zeros(x.shape[0], dtype=bool)
        steps = ("given", "pool", "noise") if self.is_targeted else ("given", "noise", "pool")
        for step in steps:
            todo = np.flatnonzero(need & ~ok)
            if todo.size == 0:
                break
            if step == "given":
                if self._x_init is None:
                    continue
                cand = self._x_init[rng.indices[todo]]
                good = oracle(cand, todo)
                if not good.all():
                    log.warning("HopSkipJump: %d x_init rows are not adversarial for their samples; "
                                "searching other starting points for them.", int(np.count_nonzero(~good)))
                start[todo[good]] = cand[good]
                ok[todo[good]] = True
            elif step == "noise":
                found, noise = self._noise_start(oracle, x, todo, rng)
                if found.size:
                    start[found] = blend_search(oracle, found, x[found], noise)
                    ok[found] = True
            else:
                found, cand = self._pool_start(oracle, x, todo, rng)
                start[found] = cand
                ok[found] = True
        return start, ok

    def _noise_start(self, oracle, x, todo, rng):
        """Uniform noise in clip_values, up to ``init_size`` draws per sample, until adversarial."""
        lo, hi = self.classifier.clip_values
        noise = np.empty((x.shape[0], *x.shape[1:]), dtype=x.dtype)
        hit = np.zeros(x.shape[0], dtype=bool)
        left = todo
        for _ in range(self.init_size):
            if left.size == 0:
                break
            draw = rng.subset(left).uniform(lo, hi, x.shape[1:], dtype=x.dtype)
            good = oracle(draw, left)
            noise[left[good]] = draw[good]
            hit[left[good]] = True
            left = left[~good]
        found = todo[hit[todo]]
        return found, noise[found]

    def _pool_start(self, oracle, x, todo, rng):
        """The nearest (L2) input of this call whose clean class is adversarial for the sample."""
        pool = self._pool
        if pool is None or pool.shape[0] < 2:
            return np.zeros(0, dtype=np.int64), x[:0]
        if self._pool_cls is None:
            self._pool_cls = self.classifier.predict(pool, batch_size=PROBE_BATCH).argmax(axis=1)
        y = oracle.y[todo]
        allowed = (self._pool_cls[None, :] == y[:, None]) if self.is_targeted else \
            (self._pool_cls[None, :] != y[:, None])
        allowed[np.arange(todo.size), rng.indices[todo]] = False
        a = x[todo].reshape(todo.size, -1).astype(np.float64)
        b = pool.reshape(pool.shape[0], -1).astype(np.float64)
        d2 = (a**2).sum(1)[:, None] + (b**2).sum(1)[None, :] - 2 * a @ b.T
        d2 = np.where(allowed, d2, np.inf)
        has = allowed.any(axis=1)
        pick = np.argmin(d2, axis=1)
        cand_rows, cand = todo[has], pool[pick[has]]
        good = oracle(cand, cand_rows)
        return cand_rows[good], cand[good]
