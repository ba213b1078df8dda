"""The evaluation plan: components created against the loaded classifier, and the grid of cells.

Creating every attack, defence chain and metric here, before anything runs, turns bad
parameters (``pgd(epz=0.1)``) and impossible combinations into config problems listed together.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from feint.errors import FeintError
from feint.pipeline.config import ConfigError

__all__ = ["AttackInfo", "Cell", "DefenceInfo", "MetricInfo", "Plan", "build_plan", "jsonable"]


def jsonable(value: Any) -> Any:
    """A JSON-safe copy: numpy to python, inf to "inf", nan to None, tuples to lists, others to str."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float):
        if value != value:
            return None
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return value
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def _entry(kind: str, name: str) -> dict:
    from feint.registry import default_registry

    try:
        entry, _ = default_registry().resolve(kind, name)
    except FeintError:
        return {"kind": kind, "name": name, "distribution": None, "version": None}
    return {"kind": kind, "name": entry.name, "distribution": entry.dist, "version": entry.version}


@dataclass
class AttackInfo:
    index: int
    spec: str                 # as written in the config
    canonical: str            # the attack's own spec (changed parameters only)
    name: str
    cls: type
    params: dict
    entry: dict
    budget: tuple | None      # (eps, norm) when the attack has an eps budget
    norm: float               # the norm it works in (its ``norm`` parameter, else 2)
    supports_targeted: bool = True
    supports_untargeted: bool = True
    sweepable: bool = False   # its budget is its eps parameter, so robust accuracy vs eps can override it


@dataclass
class DefenceInfo:
    id: str                   # "none" or the canonical chain spec
    spec: str                 # as written
    classifier: Any
    steps: list = field(default_factory=list)
    entries: list = field(default_factory=list)


@dataclass
class MetricInfo:
    index: int
    spec: str
    canonical: str
    metric: Any               # BoundMetric
    entry: dict
    extra: tuple = ()         # pipeline-supplied arguments the function accepts ("y", "random_state")


@dataclass
class Cell:
    kind: str                 # clean | attack | sweep | metric
    defence: DefenceInfo
    attack: AttackInfo | None = None
    target: str | None = None
    adaptive: bool | None = None
    metric: MetricInfo | None = None
    key: dict = field(default_factory=dict)

    @property
    def id(self) -> str:
        digest = hashlib.sha1(json.dumps(self.key, sort_keys=True).encode()).hexdigest()[:16]
        return f"{self.kind}-{digest}"

    @property
    def label(self) -> str:
        parts = {"clean": ["clean"], "attack": [self.attack.canonical if self.attack else "", self.target or ""],
                 "sweep": ["robust accuracy", self.attack.canonical if self.attack else ""],
                 "metric": [self.metric.canonical if self.metric else ""]}[self.kind]
        adaptive = "" if self.adaptive is None else (" adaptive" if self.adaptive else " non-adaptive")
        return " | ".join([*parts, self.defence.id]) + adaptive


@dataclass
class Plan:
    config: dict
    classifier: Any
    x: np.ndarray
    y: np.ndarray
    model_info: dict
    data_info: dict
    attacks: list[AttackInfo]
    defences: list[DefenceInfo]
    metrics: list[MetricInfo]
    sweep_attacks: list[AttackInfo]
    cells: list[Cell]
    framework_entry: dict

    @property
    def seed(self) -> int:
        return int(self.config["seed"])


def _attack_info(i: int, spec: str, clf, problems: list[str], where: str,
                 pipeline_params: dict | None = None) -> AttackInfo | None:
    """Create the attack once to validate it; ``params`` are those the grid runs it with (its seed...)."""
    from feint.contracts.attack import Attack
    from feint.norms import parse_norm
    from feint.registry import default_registry
    from feint.spec import parse_spec

    try:
        obj = default_registry().create("attack", spec, clf)
    except FeintError as exc:
        problems.append(f"{where} {spec!r}: {exc}")
        return None
    except Exception as exc:  # noqa: BLE001 - a plugin's constructor failing is a config problem too
        problems.append(f"{where} {spec!r}: {type(exc).__name__}: {exc}")
        return None
    if not isinstance(obj, Attack):
        problems.append(f"{where} {spec!r} is a {type(obj).__name__}, not an attack")
        return None
    name = parse_spec(spec)[0].name
    norm_name = getattr(obj, "norm_param", None)
    norm_value = getattr(obj, norm_name, None) if norm_name else None
    try:
        norm = 2.0 if norm_value is None else parse_norm(norm_value)
    except FeintError:
        norm = 2.0
    try:
        budget = obj.budget()
    except Exception:  # noqa: BLE001
        budget = None
    eps_name = getattr(obj, "eps_param", None)
    eps_value = getattr(obj, eps_name, None) if eps_name else None
    sweepable = budget is not None and isinstance(eps_value, (int, float)) and float(eps_value) == float(budget[0])
    params = obj.get_params()
    given = parse_spec(spec)[0].kwargs
    params.update({k: v for k, v in (pipeline_params or {}).items() if k in params and k not in given})
    return AttackInfo(i, spec, str(obj), name, type(obj), params, _entry("attack", name), budget, norm,
                      bool(getattr(obj, "supports_targeted", True)), bool(getattr(obj, "supports_untargeted", True)),
                      sweepable)


def _defence_info(i: int, alt, clf, problems: list[str]) -> DefenceInfo | None:
    from feint.registry import default_registry
    from feint.spec import parse_spec

    written = alt if isinstance(alt, str) else "+".join(alt)
    if written == "none":
        return DefenceInfo("none", "none", clf, [], [])
    try:
        chain = default_registry().create("defence", alt if isinstance(alt, str) else list(alt))
        defended = clf.with_defences(list(clf.preprocessors) + [chain])
    except FeintError as exc:
        problems.append(f"defences[{i}] {written!r}: {exc}")
        return None
    except Exception as exc:  # noqa: BLE001
        problems.append(f"defences[{i}] {written!r}: {type(exc).__name__}: {exc}")
        return None
    steps = defended.preprocessors[len(clf.preprocessors):]
    entries = [_entry("defence", item.name) for text in ([alt] if isinstance(alt, str) else alt)
               for item in parse_spec(text)]
    return DefenceInfo(str(chain), written, defended, steps, entries)


_SUPPLIED = ("y", "random_state")


def _metric_info(i: int, spec: str, problems: list[str]) -> MetricInfo | None:
    from feint.registry import default_registry
    from feint.spec import parse_spec

    try:
        bound = default_registry().create("metric", spec)
    except FeintError as exc:
        problems.append(f"metrics[{i}] {spec!r}: {exc}")
        return None
    func = getattr(bound, "func", bound)
    params = list(inspect.signature(func).parameters.values())[2:]
    given = set(getattr(bound, "params", {}))
    missing = [p.name for p in params if p.default is p.empty and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
               and p.name not in given and p.name not in _SUPPLIED]
    if missing:
        problems.append(f"metrics[{i}] {spec!r} needs {missing}, which `feint evaluate` cannot supply per defence "
                        "(it supplies the classifier, the inputs, y and random_state); give them in the spec")
        return None
    extra = tuple(p.name for p in params if p.name in _SUPPLIED and p.name not in given)
    name = parse_spec(spec)[0].name
    return MetricInfo(i, spec, str(bound), bound, _entry("metric", name), extra)


def build_plan(cfg: dict, classifier, x, y, model_info: dict, data_info: dict) -> Plan:
    """Create every component against ``classifier`` and lay out the cells; raise ConfigError on problems."""
    problems: list[str] = []
    run_params = {"random_state": cfg["seed"], "batch_size": cfg["batch_size"]}
    attacks = [a for i, s in enumerate(cfg["attacks"])
               if (a := _attack_info(i, s, classifier, problems, f"attacks[{i}]", run_params))]
    defences = [d for i, alt in enumerate(cfg["defences"]) if (d := _defence_info(i, alt, classifier, problems))]
    ids = [d.id for d in defences]
    if len(set(ids)) != len(ids):
        problems.append(f"defences: two alternatives resolve to the same chain: {ids}")
    metrics = [m for i, s in enumerate(cfg["metrics"]) if (m := _metric_info(i, s, problems))]
    ra = cfg["robust_accuracy"]
    if ra["attacks"] is not None:
        sweep = [a for i, s in enumerate(ra["attacks"])
                 if (a := _attack_info(i, s, classifier, problems, f"robust_accuracy.attacks[{i}]", run_params))]
    else:
        sweep = [a for a in attacks if a.sweepable]
    if ra["eps"] and ra["attacks"] is not None:
        for a in sweep:
            if not a.sweepable:
                problems.append(f"robust_accuracy.attacks[{a.index}] {a.spec!r}: its perturbation budget is not "
                                "its eps parameter (a minimal-perturbation attack?), so eps cannot be swept")
    if problems:
        raise ConfigError(problems, "config")
    framework = _entry("framework", getattr(type(classifier), "name", None) or "")
    plan = Plan(cfg, classifier, x, y, model_info, data_info, attacks, defences, metrics,
                sweep if ra["eps"] else [], [], framework)
    plan.cells = _cells(plan)
    return plan


def _identity(plan: Plan) -> dict:
    cfg = plan.config
    return {"model": jsonable(cfg["model"]), "model_source": plan.model_info.get("source"),
            "data": jsonable(cfg["data"]), "n": int(len(plan.x)), "seed": cfg["seed"],
            "clip_values": jsonable(plan.classifier.clip_values),
            "x_digest": hashlib.sha1(np.ascontiguousarray(plan.x).tobytes()).hexdigest()[:16]}


def _cells(plan: Plan) -> list[Cell]:
    cfg = plan.config
    base = _identity(plan)
    adaptive = {True: [True], False: [False], "both": [True, False]}[cfg["adaptive"]]
    cells: list[Cell] = []
    for d in plan.defences:
        cells.append(Cell("clean", d, key={**base, "kind": "clean", "defence": d.id}))
    for d in plan.defences:
        modes = [None] if d.id == "none" else adaptive
        for a in plan.attacks:
            for t in cfg["targets"]:
                for mode in modes:
                    key = {**base, "kind": "attack", "attack": a.canonical, "attack_version": a.entry["version"],
                           "target": t, "defence": d.id, "adaptive": mode}
                    cells.append(Cell("attack", d, a, t, mode, key=key))
    eps = [float(e) for e in cfg["robust_accuracy"]["eps"]]
    for d in plan.defences:
        modes = [None] if d.id == "none" else adaptive
        for a in plan.sweep_attacks:
            for mode in modes:
                key = {**base, "kind": "sweep", "attack": a.canonical, "attack_version": a.entry["version"],
                       "defence": d.id, "adaptive": mode, "eps": eps}
                cells.append(Cell("sweep", d, a, None, mode, key=key))
    for d in plan.defences:
        for m in plan.metrics:
            key = {**base, "kind": "metric", "metric": m.canonical, "metric_version": m.entry["version"],
                   "defence": d.id, "metric_samples": cfg["metric_samples"]}
            cells.append(Cell("metric", d, metric=m, key=key))
    return cells
