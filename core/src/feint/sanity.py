"""Sanity checks of an evaluation: the warning signs of gradient masking (paper 003 §4.1).

A weak attack reads as a robust model (paper 001 §1).  These checks look at the results of an
evaluation grid — and, given the classifier and the data, probe the model itself — for the signs
that an attack number overstates robustness:

1. ``one_step_beats_iterative`` — a one-step attack (FGSM) succeeds more often than an iterative
   white-box one at the same budget: the gradient is locally useless (shattered or noisy).
2. ``black_box_beats_white_box`` — a black-box/decision-based attack does better than the
   white-box ones: the gradients are masked, not the model robust.
3. ``large_eps_not_total`` — an unbounded attack (eps = the whole data range) does not reach
   ~100 % success: the attack cannot follow the gradient at all.
4. ``random_beats_attacks`` — random points in the eps-ball misclassify inputs that every attack
   failed on.
5. ``zero_gradients`` — many inputs have zero or non-finite loss gradients (shattered/exploding).
6. ``randomised_predictions`` — two identical calls predict differently (stochastic gradients:
   use EOT, ``eot_samples=N``).
7. ``probabilities_as_logits`` / ``saturated_softmax`` — "logits" that are probabilities, or a
   softmax saturated in float32 so that cross-entropy gradients vanish.

Each check gives a :class:`SanityCheck` with a verdict, the numbers that decided it, an
explanation and what to try.  :func:`check_evaluation` runs them all.
"""

from __future__ import annotations

import math
import warnings
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["FeintEvaluationWarning", "SanityCheck", "check_evaluation", "probe_classifier"]

MARGIN = 0.02  # success-rate points by which one attack must beat another to count as "more often"


class FeintEvaluationWarning(UserWarning):
    """An evaluation shows a warning sign of gradient masking or of a weak attack."""


@dataclass
class SanityCheck:
    """The verdict of one check: ``status`` is ``"passed"``, ``"warned"`` or ``"skipped"``."""

    name: str
    status: str
    message: str
    advice: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)

    @property
    def warned(self) -> bool:
        return self.status == "warned"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _group_key(row: dict) -> tuple:
    return (row.get("defence", "none"), row.get("target", "untargeted"), row.get("adaptive", True),
            _round(row.get("eps")), row.get("norm"))


def _round(v):
    return None if v is None else round(float(v), 6)


def _compare(rows: list[dict], name: str, weak_pred, strong_pred, weak_label: str, strong_label: str,
             explain: str, advice: str) -> SanityCheck:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[_group_key(r)].append(r)
    offenders, compared = [], 0
    for key, members in groups.items():
        weak = [r for r in members if weak_pred(r)]
        strong = [r for r in members if strong_pred(r)]
        if not weak or not strong:
            continue
        compared += 1
        w = max(weak, key=lambda r: r["success_rate"])
        s = max(strong, key=lambda r: r["success_rate"])
        if w["success_rate"] > s["success_rate"] + MARGIN:
            offenders.append({"defence": key[0], "target": key[1], "adaptive": key[2], "eps": key[3],
                              weak_label: w["attack"], f"{weak_label}_success": w["success_rate"],
                              strong_label: s["attack"], f"{strong_label}_success": s["success_rate"]})
    if not compared:
        return SanityCheck(name, "skipped", f"no grid cell has both a {weak_label} and a {strong_label} attack "
                           "at the same budget")
    if offenders:
        o = offenders[0]
        return SanityCheck(name, "warned",
                           f"{o[weak_label]} succeeds on {o[f'{weak_label}_success']:.1%} but the best "
                           f"{strong_label} attack {o[strong_label]} only on {o[f'{strong_label}_success']:.1%} "
                           f"(defence {o['defence']}, {o['target']}, eps={o['eps']}). {explain}",
                           advice, {"cells": offenders, "compared_cells": compared})
    return SanityCheck(name, "passed", f"in all {compared} comparable cells the {strong_label} attacks are at "
                       f"least as strong as the {weak_label} ones", numbers={"compared_cells": compared})


def _rows_checks(rows: list[dict]) -> list[SanityCheck]:
    def white_iter(r):
        return r.get("threat_model", "white-box") == "white-box" and not r.get("single_step", False)

    return [
        _compare(rows, "one_step_beats_iterative", lambda r: r.get("single_step", False), white_iter,
                 "one-step", "iterative",
                 "An iterative attack follows the same gradient further; doing worse means the local gradient "
                 "does not point to the adversarial region (shattered or stochastic gradients).",
                 "Attack through the defence's straight-through rule (adaptive=true), use EOT for random "
                 "defences (eot_samples), add restarts, or try a decision-based attack."),
        _compare(rows, "black_box_beats_white_box", lambda r: r.get("threat_model") == "black-box",
                 lambda r: r.get("threat_model", "white-box") == "white-box", "black-box", "white-box",
                 "A white-box attack sees strictly more than a black-box one; doing worse means its gradients "
                 "are masked.",
                 "Use BPDA/straight-through gradients for non-differentiable parts and EOT for randomness; "
                 "report the black-box number as the (upper bound of) robust accuracy."),
    ]


def _success(classifier, x_adv: np.ndarray, y: np.ndarray, targeted: bool = False) -> np.ndarray:
    pred = classifier.predict(x_adv).argmax(axis=1)
    return pred == y if targeted else pred != y


def probe_classifier(classifier, x: np.ndarray, y: np.ndarray, *, eps: float | None = None, norm=math.inf,
                     attack_success: np.ndarray | None = None, random_samples: int = 32,
                     large_eps_attack: str | None = "auto", random_state: int = 0) -> list[SanityCheck]:
    """Checks that probe the (defended) classifier on clean inputs ``x`` with labels ``y``.

    Parameters
    ----------
    eps, norm : float, optional
        The threat budget for the random-sampling check.
    attack_success : ndarray of bool, optional
        Per input, whether ANY attack of the evaluation succeeded (for ``random_beats_attacks``).
    random_samples : int
        Random points drawn per input in the eps-ball.
    large_eps_attack : str or None
        Spec of the unbounded attack (``"auto"``: PGD, else BIM, else FGSM, at eps = the data range).
    """
    from feint.norms import random_ball
    from feint.rng import SampleRandom

    x = np.asarray(x, dtype=classifier.np_dtype)
    y = np.asarray(y)
    out: list[SanityCheck] = []
    # 5. zero or non-finite gradients
    g = classifier.loss_gradient(x, y).reshape(len(x), -1)
    zero = np.all(g == 0, axis=1)
    bad = ~np.all(np.isfinite(g), axis=1)
    frac = float(np.mean(zero | bad))
    numbers = {"zero_gradient_fraction": float(zero.mean()), "non_finite_fraction": float(bad.mean())}
    if frac > 0.1:
        out.append(SanityCheck("zero_gradients", "warned",
                               f"{frac:.0%} of inputs have zero or non-finite loss gradients: gradient-based "
                               "attacks get no signal there (shattered or exploding gradients).",
                               "Find the non-differentiable step (quantisation, rounding, argmax) and attack with "
                               "a straight-through (BPDA) approximation of it; try decision-based attacks.",
                               numbers))
    else:
        out.append(SanityCheck("zero_gradients", "passed", f"{frac:.0%} of inputs have zero/non-finite gradients",
                               numbers=numbers))
    # 6. randomness
    p1, p2 = classifier.predict(x), classifier.predict(x)
    changed = float(np.mean(p1.argmax(1) != p2.argmax(1)))
    drift = float(np.abs(p1 - p2).max()) if len(x) else 0.0
    if drift > 1e-5:
        out.append(SanityCheck("randomised_predictions", "warned",
                               f"two identical predict calls differ (max |dp| = {drift:.3g}; {changed:.0%} of "
                               "labels change): the model is randomised, so single-sample gradients are noisy.",
                               "Attack with Expectation over Transformation: build the classifier with "
                               "eot_samples=N (e.g. 10-30), and report accuracy averaged over draws.",
                               {"max_probability_change": drift, "label_change_fraction": changed}))
    else:
        out.append(SanityCheck("randomised_predictions", "passed", "identical calls give identical predictions"))
    # 7. probabilities passed as logits / saturated softmax
    z = classifier.predict(x, logits=True).astype(np.float64)
    looks_prob = bool(np.all(z >= -1e-6) and np.all(z <= 1 + 1e-6) and np.allclose(z.sum(1), 1, atol=1e-3))
    if looks_prob:
        out.append(SanityCheck("probabilities_as_logits", "warned",
                               "predict(logits=True) returns rows that are probabilities: the model's last layer is "
                               "a softmax but the classifier treats it as logits, which flattens the loss.",
                               "Remove the final softmax from the model (or tell the adapter, e.g. "
                               "KerasClassifier(use_logits=False)).", {}))
    p = classifier.predict(x).astype(np.float64)
    saturated = float(np.mean(p.max(1) > 1 - 1e-6))
    if saturated > 0.5:
        out.append(SanityCheck("saturated_softmax", "warned",
                               f"{saturated:.0%} of inputs have a top probability above 1 - 1e-6: in float32 the "
                               "cross-entropy gradient underflows (a sign of logit scaling or distillation).",
                               "Use margin/logit losses (C&W, DLR in APGD) instead of cross-entropy.",
                               {"saturated_fraction": saturated}))
    else:
        out.append(SanityCheck("saturated_softmax", "passed", f"{saturated:.0%} of inputs are saturated",
                               numbers={"saturated_fraction": saturated}))
    # 3. unbounded attack should reach ~100 %
    if large_eps_attack:
        out.append(_large_eps(classifier, x, y, large_eps_attack, random_state))
    # 4. random sampling in the ball
    if eps is not None and attack_success is not None and random_samples > 0:
        missed = np.flatnonzero(~np.asarray(attack_success, dtype=bool) & (p1.argmax(1) == y))
        found = 0
        if len(missed):
            xm, ym = x[missed], y[missed]
            rng = SampleRandom(random_state, np.arange(len(missed)))
            hit = np.zeros(len(missed), dtype=bool)
            for _ in range(random_samples):
                d = random_ball(rng, x.shape[1:], eps, norm, dtype=x.dtype)
                cand = xm + d
                if classifier.clip_values is not None:
                    cand = np.clip(cand, *classifier.clip_values).astype(x.dtype)
                hit |= _success(classifier, cand, ym)
            found = int(hit.sum())
        numbers = {"inputs_all_attacks_missed": int(len(missed)), "found_by_random_sampling": found,
                   "samples_per_input": random_samples, "eps": eps}
        if found:
            out.append(SanityCheck("random_beats_attacks", "warned",
                                   f"random sampling in the eps-ball misclassified {found} of the {len(missed)} "
                                   "inputs on which every attack failed: the attacks are weaker than noise there.",
                                   "The gradients mislead the attacks: use BPDA/EOT, more restarts, or a "
                                   "decision-based attack.", numbers))
        else:
            out.append(SanityCheck("random_beats_attacks", "passed",
                                   f"random sampling found nothing the attacks missed ({len(missed)} inputs tried)",
                                   numbers=numbers))
    return out


def _large_eps(classifier, x, y, spec: str, random_state: int) -> SanityCheck:
    from feint.errors import FeintError
    from feint.registry import default_registry

    lo, hi = classifier.clip_values if classifier.clip_values is not None else (x.min(), x.max())
    span = float(hi - lo)
    reg = default_registry()
    if spec == "auto":
        names = set(reg.names("attack"))
        spec = next((s for n, s in (("pgd", f"pgd(eps={span}, eps_step={span / 10}, max_iter=20)"),
                                    ("bim", f"bim(eps={span}, eps_step={span / 10}, max_iter=20)"),
                                    ("fgsm", f"fgsm(eps={span})")) if n in names), None)
        if spec is None:
            return SanityCheck("large_eps_not_total", "skipped", "no pgd, bim or fgsm attack is installed")
    try:
        atk = reg.create("attack", spec, classifier, verbose=False, random_state=random_state)
        rate = float(np.mean(_success(classifier, atk.generate(x, y), y)))
    except FeintError as exc:
        return SanityCheck("large_eps_not_total", "skipped", f"could not run {spec}: {exc}")
    numbers = {"attack": spec, "success_rate": rate}
    if rate < 0.95:
        return SanityCheck("large_eps_not_total", "warned",
                           f"{spec} with eps equal to the whole data range succeeds on only {rate:.1%}: an unbounded "
                           "attack should reach ~100 %, so the attack is not following a useful gradient.",
                           "Check for masked gradients (zero_gradients), use BPDA/EOT, or a decision-based attack.",
                           numbers)
    return SanityCheck("large_eps_not_total", "passed", f"{spec} reaches {rate:.1%}", numbers=numbers)


def check_evaluation(results: list[dict], classifier=None, x=None, y=None, *, eps=None, norm=math.inf,
                     random_samples: int = 32, large_eps_attack: str | None = "auto", random_state: int = 0,
                     warn: bool = True) -> list[SanityCheck]:
    """Run every sanity check on an evaluation's results (and, if given, on the classifier).

    Parameters
    ----------
    results : list of dict
        One row per grid cell with keys ``attack`` (spec), ``success_rate``, and where known
        ``defence``, ``target``, ``adaptive``, ``eps``, ``norm``, ``single_step`` (bool),
        ``threat_model`` (``"white-box"``/``"black-box"``) and ``success`` (per-input booleans
        over the same inputs ``x``).
    classifier, x, y : optional
        The classifier the attacks were evaluated on, the clean inputs and their labels: enables
        the checks that probe the model (zero gradients, randomness, saturation, unbounded attack,
        random sampling).
    warn : bool
        Also emit one :class:`FeintEvaluationWarning` per warned check.
    """
    checks = _rows_checks(list(results))
    if classifier is not None and x is not None and y is not None:
        per_sample = [np.asarray(r["success"], dtype=bool) for r in results
                      if r.get("success") is not None and len(r["success"]) == len(x)]
        any_success = np.any(per_sample, axis=0) if per_sample else None
        if eps is None:
            eps_values = [r["eps"] for r in results if r.get("eps") is not None]
            eps = max(eps_values) if eps_values else None
        checks += probe_classifier(classifier, x, y, eps=eps, norm=norm, attack_success=any_success,
                                   random_samples=random_samples, large_eps_attack=large_eps_attack,
                                   random_state=random_state)
    if warn:
        for c in checks:
            if c.warned:
                warnings.warn(f"feint sanity check '{c.name}': {c.message} Try: {c.advice}",
                              FeintEvaluationWarning, stacklevel=2)
    return checks
