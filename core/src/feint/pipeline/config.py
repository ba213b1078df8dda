"""Evaluation configs: TOML (read with :mod:`tomllib`) or a dict, their schema and defaults, and
the static validation that lists every problem at once before any work starts.

The schema (every key optional unless marked; see ``feint/pipeline/default.toml`` for a full
example)::

    title          str            report title
    seed           int >= 0       seed of every attack, metric and random target (default 0)
    samples        int >= 1       number of data inputs, the first ones of the split (default 200)
    out            str            output folder, relative to the working directory ("feint-report")
    batch_size     int >= 1       batch size of attacks and predictions (default 128)
    clip_values    [min, max]     data range (default: the classifier's own, else [0, 1])
    attacks        [spec, ...]    REQUIRED: attack specs, e.g. "pgd(eps=0.1, max_iter=20)"
    targets        [...]          "untargeted" | "least_likely" | "next" | "random" (["untargeted"])
    defences       [alt, ...]     alternatives to compare: "none", a spec, or a "+" chain (["none"])
    adaptive       bool | "both"  attack through the defences (BPDA) or the bare model (true)
    metrics        [spec, ...]    metric specs, computed per defence (default [])
    metric_samples int >= 1       inputs per metric (default: all correctly classified ones)
    formats        [...]          "json" | "md" | "html" (all three)
    sanity         bool           run the gradient-masking sanity checks after the grid (true)
    [model]        builtin = "digits_cnn" | loader = "module:function" | path = "model.pt|.keras";
                   framework, input_shape, nb_classes, loader_args = {...}, classifier_args = {...}
    [data]         source = "digits" | "file.npz"; split = "test" | "train"; x_key, y_key
    [robust_accuracy]  eps = [0.0, 0.1, ...]; attacks = [spec, ...] (default: those with an eps)

Paths in ``[model]`` and ``[data]`` are relative to the config file.
"""

from __future__ import annotations

import copy
import difflib
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feint.errors import FeintError

__all__ = ["ConfigError", "TARGETS", "default_config", "load_config", "validate_config"]

TARGETS = ("untargeted", "least_likely", "next", "random")
FORMATS = ("json", "md", "html")
BUILTIN_MODELS = ("digits_cnn",)
DEFAULT_TOML = Path(__file__).with_name("default.toml")


class ConfigError(FeintError, ValueError):
    """A config has problems; ``problems`` lists every one (the message shows them all)."""

    def __init__(self, problems: list[str], source: str = "config") -> None:
        self.problems = list(problems)
        self.source = source
        n = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source} has {n} problem{'s' if n != 1 else ''}; nothing was run:\n{lines}")


# -- field checkers: each returns an error text or None ------------------------------------------
def _int(low: int | None = None) -> Callable[[Any], str | None]:
    def check(v):
        if not isinstance(v, int) or isinstance(v, bool):
            return f"must be an integer, got {v!r}"
        if low is not None and v < low:
            return f"must be >= {low}, got {v}"
        return None
    return check


def _str(v):
    return None if isinstance(v, str) and v.strip() else f"must be a non-empty string, got {v!r}"


def _opt(check):
    return lambda v: None if v is None else check(v)


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _clip(v):
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(_number(b) for b in v) and v[0] < v[1]:
        return None
    return f"must be [min, max] with finite min < max, got {v!r}"


def _list_of(item_check, allow_empty=True, choices=None):
    def check(v):
        if not isinstance(v, list):
            return f"must be a list, got {type(v).__name__} {v!r}"
        if not v and not allow_empty:
            return "must not be empty"
        for i, item in enumerate(v):
            if choices is not None and item not in choices:
                close = difflib.get_close_matches(str(item), choices, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                return f"[{i}] must be one of {list(choices)}, got {item!r}{hint}"
            err = item_check(item) if item_check else None
            if err:
                return f"[{i}] {err}"
        if len(set(map(repr, v))) != len(v):
            return f"has duplicates: {v!r}"
        return None
    return check


def _spec_or_chain(v):
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, list) and v and all(isinstance(s, str) and s.strip() for s in v):
        return None
    return f"must be a spec string or a list of spec strings (a chain), got {v!r}"


def _adaptive(v):
    return None if isinstance(v, bool) or v == "both" else f"must be true, false or \"both\", got {v!r}"


def _eps_list(v):
    if not isinstance(v, list) or not all(_number(e) and e >= 0 for e in v):
        return f"must be a list of numbers >= 0, got {v!r}"
    return None


def _shape(v):
    if isinstance(v, list) and v and all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in v):
        return None
    return f"must be a list of positive integers, got {v!r}"


def _table(v):
    return None if isinstance(v, dict) else f"must be a table (dict), got {v!r}"


@dataclass(frozen=True)
class Field:
    check: Callable[[Any], str | None]
    default: Any = None
    required: bool = False


MODEL = {
    "builtin": Field(_opt(lambda v: None if v in BUILTIN_MODELS else f"must be one of {list(BUILTIN_MODELS)}, got {v!r}")),
    "loader": Field(_opt(_str)),
    "path": Field(_opt(_str)),
    "framework": Field(_opt(_str)),
    "input_shape": Field(_opt(_shape)),
    "nb_classes": Field(_opt(_int(2))),
    "loader_args": Field(_table, {}),
    "classifier_args": Field(_table, {}),
}
DATA = {
    "source": Field(_str, "digits"),
    "split": Field(lambda v: None if v in ("test", "train") else f"must be 'test' or 'train', got {v!r}", "test"),
    "x_key": Field(_str, "x"),
    "y_key": Field(_str, "y"),
}
ROBUST = {
    "eps": Field(_eps_list, []),
    "attacks": Field(_opt(_list_of(_str)), None),
}
TOP = {
    "title": Field(_opt(_str), None),
    "seed": Field(_int(0), 0),
    "samples": Field(_int(1), 200),
    "out": Field(_str, "feint-report"),
    "batch_size": Field(_int(1), 128),
    "clip_values": Field(_opt(_clip), None),
    "attacks": Field(_list_of(_str, allow_empty=False), None, required=True),
    "targets": Field(_list_of(None, allow_empty=False, choices=TARGETS), ["untargeted"]),
    "defences": Field(_list_of(_spec_or_chain, allow_empty=False), ["none"]),
    "adaptive": Field(_adaptive, True),
    "metrics": Field(_list_of(_str), []),
    "metric_samples": Field(_opt(_int(1)), None),
    "formats": Field(_list_of(None, allow_empty=False, choices=FORMATS), list(FORMATS)),
    "sanity": Field(lambda v: None if isinstance(v, bool) else f"must be true or false, got {v!r}", True),
}
SECTIONS = {"model": MODEL, "data": DATA, "robust_accuracy": ROBUST}


def _unknown(key: str, where: str, known) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(sorted(known))}"
    return f"{where}{key}: unknown key{hint}"


def _fill(raw: dict, schema: dict, where: str, problems: list[str]) -> dict:
    out = {}
    for key in raw:
        if key not in schema:
            problems.append(_unknown(key, where, schema))
    for key, field in schema.items():
        if key in raw:
            value = raw[key]
            err = field.check(value)
            if err:
                problems.append(f"{where}{key}{'' if err.startswith('[') else ' '}{err}")
            out[key] = copy.deepcopy(value)
        else:
            if field.required:
                problems.append(f"{where}{key}: required key is missing")
            out[key] = copy.deepcopy(field.default)
    return out


def default_config() -> dict:
    """The built-in default evaluation (``feint evaluate`` with no config), as a dict.

    Under ``CI=true`` it uses 50 samples instead of 200 so the demo stays quick in CI.
    """
    import tomllib

    with open(DEFAULT_TOML, "rb") as fh:
        cfg = tomllib.load(fh)
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        cfg["samples"] = min(cfg.get("samples", 200), 50)
    return cfg


def load_config(source) -> tuple[dict, Path | None]:
    """Read a config from a TOML path, a TOML string, or a dict; return ``(raw, base_dir)``."""
    import tomllib

    if source is None:
        return default_config(), DEFAULT_TOML.parent
    if isinstance(source, dict):
        return copy.deepcopy(source), None
    path = Path(source)
    if isinstance(source, str) and "\n" in source and not path.exists():
        try:
            return tomllib.loads(source), None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([f"TOML syntax: {exc}"], "config text") from None
    if not path.exists():
        raise ConfigError([f"config file {str(path)!r} does not exist"], str(path))
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh), path.resolve().parent
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"TOML syntax: {exc}"], str(path)) from None


def validate_config(raw: dict, base_dir: Path | None = None) -> tuple[dict, list[str]]:
    """Check a raw config against the schema and the installed components, without running anything.

    Returns the resolved config (every default filled in) and the list of problems: unknown or
    misspelt keys, values of the wrong type, spec syntax errors, components that are not
    installed (with the distribution to install), missing files.
    """
    problems: list[str] = []
    if not isinstance(raw, dict):
        return {}, [f"a config must be a table (dict), got {type(raw).__name__}"]
    top = {k: v for k, v in raw.items() if k not in SECTIONS}
    cfg = _fill(top, TOP, "", problems)
    for name, schema in SECTIONS.items():
        section = raw.get(name, {})
        if not isinstance(section, dict):
            problems.append(f"{name} must be a table ([{name}]), got {section!r}")
            section = {}
        cfg[name] = _fill(section, schema, f"{name}.", problems)
    _check_model(cfg["model"], cfg["data"], base_dir, problems)
    _check_data(cfg["data"], base_dir, problems)
    _check_components(cfg, problems)
    return cfg, problems


def resolve_path(value: str, base_dir: Path | None) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() or base_dir is None else (base_dir / path)


def _check_model(model: dict, data: dict, base_dir, problems: list[str]) -> None:
    given = [k for k in ("builtin", "loader", "path") if model.get(k)]
    if not given:
        if data.get("source") == "digits":
            model["builtin"] = "digits_cnn"
        else:
            problems.append("model: name the model with builtin = \"digits_cnn\", loader = \"module:function\" "
                            "or path = \"file.pt|.keras\" (the built-in digits CNN only fits the digits data)")
    if model.get("builtin") and model.get("loader"):
        problems.append("model: give either builtin or loader (the architecture), not both")
    if model.get("loader") and isinstance(model["loader"], str):
        mod, sep, fn = model["loader"].partition(":")
        if not sep or not mod.strip() or not fn.strip():
            problems.append(f"model.loader must look like 'package.module:function', got {model['loader']!r}")
    path = model.get("path")
    if isinstance(path, str):
        p = resolve_path(path, base_dir)
        suffix = p.suffix.lower()
        if suffix not in (".pt", ".pth", ".keras"):
            problems.append(f"model.path {path!r}: unsupported file type {suffix or '(none)'!r}; use a torch "
                            "state dict (.pt/.pth, loaded with weights_only=True) or a Keras .keras file")
        elif not p.exists():
            problems.append(f"model.path: file {str(p)!r} does not exist")
        elif suffix in (".pt", ".pth") and not (model.get("loader") or model.get("builtin")):
            problems.append(f"model.path {path!r} is a torch state dict: also name the architecture with "
                            "model.loader = \"module:function\" (or builtin), since weights_only=True loading "
                            "never unpickles code")


def _check_data(data: dict, base_dir, problems: list[str]) -> None:
    src = data.get("source")
    if not isinstance(src, str) or src == "digits":
        return
    p = resolve_path(src, base_dir)
    if p.suffix.lower() != ".npz":
        problems.append(f"data.source must be \"digits\" or a .npz file, got {src!r}")
    elif not p.exists():
        problems.append(f"data.source: file {str(p)!r} does not exist")


def _check_spec(kind: str, text: Any, where: str, problems: list[str], chain_ok: bool = False) -> None:
    from feint.errors import PluginLoadError, SpecSyntaxError, UnknownComponentError
    from feint.registry import default_registry
    from feint.spec import parse_spec

    if not isinstance(text, str):
        return
    try:
        items = parse_spec(text)
    except SpecSyntaxError as exc:
        problems.append(f"{where} {text!r}: {exc}")
        return
    if len(items) > 1 and not chain_ok:
        problems.append(f"{where} {text!r}: '+' chains are only for defences")
        return
    reg = default_registry()
    for item in items:
        try:
            reg.load(kind, item.name)
        except UnknownComponentError as exc:
            problems.append(f"{where} {text!r}: {exc}")
        except PluginLoadError as exc:
            problems.append(f"{where} {text!r}: {str(exc).splitlines()[0]}")


def _check_components(cfg: dict, problems: list[str]) -> None:
    for i, spec in enumerate(cfg["attacks"] or []):
        _check_spec("attack", spec, f"attacks[{i}]", problems)
    for i, alt in enumerate(cfg["defences"] if isinstance(cfg["defences"], list) else []):
        if alt == "none":
            continue
        for text in alt if isinstance(alt, list) else [alt]:
            _check_spec("defence", text, f"defences[{i}]", problems, chain_ok=True)
    for i, spec in enumerate(cfg["metrics"] if isinstance(cfg["metrics"], list) else []):
        _check_spec("metric", spec, f"metrics[{i}]", problems)
    for i, spec in enumerate(cfg["robust_accuracy"].get("attacks") or []):
        _check_spec("attack", spec, f"robust_accuracy.attacks[{i}]", problems)
    framework = cfg["model"].get("framework")
    if isinstance(framework, str):
        _check_spec("framework", framework, "model.framework", problems)
