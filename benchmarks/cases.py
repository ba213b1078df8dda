"""The table of benchmark parameters: one entry per row, in feint's parameter names.

Every installed feint attack gets its rows from :data:`ATTACK_CASES` when it has an entry there,
otherwise one row with its own defaults on a small subset (marked "defaults").  Peers are run
with the *same* parameters, translated from these by :mod:`benchmarks.peers`; change a value
here and every library's row changes with it.

Budget: the default run (feint only) must stay under ~10 minutes on two shared CPU cores with
one thread (it takes about 4), so the expensive attacks (C&W Linf, the black-box ones and
Shadow) run on the first images of the batch; the "n" column of the table says how many.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = ["ATTACK_CASES", "METRIC_CASES", "Case", "MetricCase", "attack_cases", "metric_cases"]

INF = math.inf


@dataclass(frozen=True)
class Case:
    """One attack row.

    key : row id (``--only`` matches it); attack : feint registry name; params : feint
    parameters (peers translate them); n : images (the first n of the batch); targeted : use
    the batch's fixed random targets; budget : ``(eps, norm)`` every output must respect;
    repeats : most timed runs (the median is reported; fewer when a run is slow); ratio : False
    where the floor ratio means nothing (most of the time is not model passes); note : shown
    under the table; peer_n : fewer images for a peer too slow for the full row (``{"art": 8}``);
    the README then shows feint's result on the same images beside it.
    """

    key: str
    attack: str
    params: dict = field(default_factory=dict)
    n: int = 256
    targeted: bool = False
    budget: tuple | None = None
    repeats: int = 11
    ratio: bool = True
    note: str = ""
    defaults: bool = False
    peer_n: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MetricCase:
    """One metric row: ``metric`` a feint registry name, ``params`` its parameters, on the first ``n`` images."""

    key: str
    metric: str
    params: dict = field(default_factory=dict)
    n: int = 256
    repeats: int = 7
    note: str = ""


LINF_EPS, LINF_STEP, ITERS = 0.2, 0.02, 20
#: runs of the slow rows (seconds per run): the median of five, each paired with its replay; one
#: run moved the ratio by up to +-0.3 on a shared machine and the median of three (C&W L2 on
#: 2026-11-22: 1.22, 1.23, 1.45) by up to +-0.2.  --row-seconds (40 s) cuts a row to fewer runs,
#: so the slowest peers still run once
SLOW = 5
#: runs of the fast rows that sit near the 1.2 target (FGSM, VAT, APGD: 31; JSMA, NewtonFool: 21),
#: a few seconds more for a steadier median
FAST, QUICK = 31, 21
L2_EPS, L2_STEP = 1.0, 0.1

ATTACK_CASES: dict[str, list[Case]] = {
    "fgsm": [Case("fgsm", "fgsm", {"norm": INF, "eps": LINF_EPS}, budget=(LINF_EPS, INF), repeats=FAST)],
    "bim": [Case("bim", "bim", {"norm": INF, "eps": LINF_EPS, "eps_step": LINF_STEP, "max_iter": ITERS},
                 budget=(LINF_EPS, INF))],
    "pgd": [
        Case("pgd", "pgd", {"norm": INF, "eps": LINF_EPS, "eps_step": LINF_STEP, "max_iter": ITERS,
                            "num_random_init": 1}, budget=(LINF_EPS, INF)),
        Case("pgd-l2", "pgd", {"norm": 2, "eps": L2_EPS, "eps_step": L2_STEP, "max_iter": ITERS,
                               "num_random_init": 1}, budget=(L2_EPS, 2)),
    ],
    "apgd": [Case("apgd", "apgd", {"norm": INF, "eps": LINF_EPS, "max_iter": ITERS, "nb_random_init": 1,
                                   "loss_type": "ce"}, budget=(LINF_EPS, INF), repeats=FAST)],
    "deepfool": [Case("deepfool", "deepfool", {"max_iter": 50, "overshoot": 0.02, "nb_grads": 10}, repeats=11)],
    "newtonfool": [Case("newtonfool", "newtonfool", {"max_iter": 50, "eta": 0.01}, repeats=QUICK)],
    "carlini_l2": [Case("carlini_l2", "carlini_l2",
                        {"targeted": False, "confidence": 0.0, "learning_rate": 0.1, "binary_search_steps": 5,
                         "max_iter": 100, "initial_const": 0.1}, repeats=SLOW)],
    "carlini_linf": [Case("carlini_linf", "carlini_linf",
                          {"targeted": False, "confidence": 0.0, "learning_rate": 0.005, "max_iter": 100,
                           "initial_const": 1e-5, "largest_const": 20.0}, n=128, repeats=SLOW,
                          peer_n={"art": 8})],
    "jsma": [Case("jsma", "jsma", {"theta": 1.0, "gamma": 0.3, "target": None}, targeted=True, repeats=QUICK)],
    "vat": [Case("vat", "vat", {"eps": L2_EPS, "max_iter": 1, "xi": 1.0}, budget=(L2_EPS, 2), repeats=FAST)],
    "universal_perturbation": [
        Case("universal_perturbation", "universal_perturbation",
             {"attacker": "deepfool", "attacker_params": {"max_iter": 50, "overshoot": 0.02}, "delta": 0.2, "max_iter": 5,
              "eps": 0.3, "norm": INF}, budget=(0.3, INF), repeats=SLOW)],
    "hopskipjump": [Case("hopskipjump", "hopskipjump",
                         {"norm": 2, "max_iter": 20, "max_eval": 1000, "init_eval": 100, "init_size": 100},
                         n=64, repeats=SLOW)],
    "zoo": [Case("zoo", "zoo", {"confidence": 0.0, "learning_rate": 0.01, "max_iter": 100,
                                "binary_search_steps": 3, "initial_const": 1.0, "nb_parallel": 64,
                                "use_importance": False, "variable_h": 1e-4}, n=32, repeats=SLOW)],
    "shadow": [Case("shadow", "shadow", {"sigma": 0.5, "nb_steps": 100, "learning_rate": 0.1, "lambda_tv": 0.3,
                                         "lambda_c": 1.0, "lambda_s": 0.5, "sample_size": 100}, n=16, repeats=SLOW)],
    "substitute": [Case("substitute", "substitute", {"attack": "fgsm(eps=0.3)", "nb_rounds": 4, "lmbda": 0.1,
                                                     "nb_epochs": 10}, repeats=1, ratio=False,
                        note="most of its time trains the numpy substitute; only the oracle's passes are counted")],
}

METRIC_CASES: dict[str, list[MetricCase]] = {
    "clever_u": [MetricCase("clever_u", "clever_u", {"n_batch": 50, "n_sample": 20, "r": 2.0, "norm": 2,
                                                     "random_state": 0}, n=16, repeats=5),
                 MetricCase("clever_u-scipy", "clever_u", {"n_batch": 50, "n_sample": 20, "r": 2.0, "norm": 2,
                                                           "random_state": 0, "fit": "scipy"}, n=16, repeats=1)],
    "empirical_robustness": [MetricCase("empirical_robustness", "empirical_robustness",
                                        {"attack_name": "fgsm", "attack_params": {
                                            "norm": INF, "minimal": True, "eps_step": 0.01, "eps_max": 1.0}})],
    "loss_sensitivity": [
        MetricCase("loss_sensitivity", "loss_sensitivity", {"gradient": "loss"}),
        MetricCase("loss_sensitivity-logit", "loss_sensitivity", {"gradient": "logit"}),
    ],
}

#: metrics benchmarked when installed; the others (success_rate, rho2, ...) are bookkeeping over an attack
METRICS = ("clever_u", "empirical_robustness", "loss_sensitivity")


def attack_cases(installed: list[str]) -> list[Case]:
    """Rows for every installed attack: its table entry, or its defaults on 8 images."""
    out: list[Case] = []
    order = [a for a in ATTACK_CASES if a in installed] + [a for a in installed if a not in ATTACK_CASES]
    for name in order:
        out.extend(ATTACK_CASES.get(name) or [Case(name, name, {}, n=8, repeats=1, defaults=True,
                                                   note="no entry in benchmarks/cases.py: its defaults")])
    return out


def metric_cases(installed: list[str]) -> list[MetricCase]:
    return [c for name in METRICS if name in installed for c in METRIC_CASES[name]]
