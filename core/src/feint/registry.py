"""The component registry: discovery through entry points, lazy loading, isolation of failures.

Entry-point groups, one per kind: ``feint.attacks``, ``feint.defences``, ``feint.frameworks``,
``feint.metrics``.  Entry-point name = registry name; value = ``module:attr``.  A plugin declares
aliases and compact forms in the group ``feint.aliases``::

    labsmooth   = "defence:label_smoothing"          # plain alias
    featsqueeze = "defence:featsqueeze:bit_depth"    # featsqueeze5 -> featsqueeze(bit_depth=5)

Listing reads metadata only.  Nothing is imported until a component is used.

Conflicts: when two distributions register one name, a :class:`FeintPluginWarning` names both;
the distribution whose name sorts first wins, unless :meth:`Registry.prefer` (or the environment
variable ``FEINT_PREFER="kind:name=distribution,..."``) picks another.
"""

from __future__ import annotations

import difflib
import fnmatch
import logging
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from feint._catalog import CATALOG
from feint.errors import (
    FeintPluginWarning,
    IncompatiblePluginError,
    InvalidParameterError,
    PluginLoadError,
    SpecSyntaxError,
    UnknownComponentError,
)

__all__ = ["KINDS", "Entry", "Registry", "default_registry", "normalize_kind"]

log = logging.getLogger("feint.registry")

KINDS: dict[str, str] = {
    "attack": "feint.attacks",
    "defence": "feint.defences",
    "framework": "feint.frameworks",
    "metric": "feint.metrics",
}
ALIAS_GROUP = "feint.aliases"
HOOK_GROUP = "feint.plugins"
CORE_DIST = "feint-core"

_KIND_SYNONYMS = {
    "attacks": "attack", "defences": "defence", "defense": "defence", "defenses": "defence",
    "frameworks": "framework", "classifier": "framework", "classifiers": "framework",
    "metrics": "metric", "preprocessor": "defence",
}


def normalize_kind(kind: str) -> str:
    """Map ``"attacks"``, ``"classifier"``... to the canonical kind name, or raise."""
    k = _KIND_SYNONYMS.get(kind, kind) if isinstance(kind, str) else kind
    if k not in KINDS:
        raise InvalidParameterError(
            f"The 'kind' argument must be one of {sorted(KINDS)}. Got {kind!r} instead.")
    return k


def _natural_key(text: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


@dataclass
class Entry:
    """One registered component: where it comes from and whether it can be used."""

    kind: str
    name: str
    value: Any                      # "module:attr" or the object itself (in-process)
    dist: str | None = None
    version: str | None = None
    summary: str = ""
    status: str = "ok"              # ok | unavailable | incompatible | broken | shadowed
    reason: str = ""
    aliases: list[str] = field(default_factory=list)
    _obj: Any = None
    _error: BaseException | None = None

    @property
    def entry_point(self) -> str:
        return f"{KINDS[self.kind]}:{self.name} = {self.value}" if isinstance(self.value, str) else \
            f"<in-process {self.kind} {self.name!r}>"

    @property
    def attr_name(self) -> str:
        """The object's name inside its module (``FastGradientMethod``) without importing."""
        if isinstance(self.value, str):
            return self.value.split(":")[-1].split(".")[-1]
        return getattr(self.value, "__name__", self.name)

    @property
    def status_text(self) -> str:
        return self.status if not self.reason else f"{self.status} ({self.reason})"

    def where(self) -> str:
        return f"{self.dist} {self.version}" if self.dist else "registered in-process"


@dataclass
class _Alias:
    kind: str
    target: str
    suffix_param: str | None
    dist: str | None


#: distributions that ship the same import package: a requirement on one is met by any of them
#: (a plugin pinned to tensorflow-cpu works where the GPU wheel "tensorflow" is installed)
EQUIVALENT_DISTRIBUTIONS = [
    {"tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-intel", "tensorflow-macos"},
    {"jax", "jax-cuda12-plugin"},
]


def _installed_version(name: str):
    from importlib.metadata import PackageNotFoundError, version

    key = name.lower().replace("_", "-")
    group = next((g for g in EQUIVALENT_DISTRIBUTIONS if key in g), {key})
    for candidate in [key, *sorted(group - {key})]:
        try:
            return version(candidate)
        except PackageNotFoundError:
            continue
    return None


def _requirement_problems(dist, core_version: str) -> tuple[str, str]:
    """Return (status, reason) from a distribution's Requires-Dist, importing nothing."""
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover - packaging is a core dependency
        return "ok", ""
    missing = []
    for text in dist.requires or []:
        try:
            req = Requirement(text)
        except Exception:  # noqa: BLE001 - a malformed requirement is not ours to judge
            continue
        if req.marker is not None:
            try:
                if not req.marker.evaluate({"extra": ""}):
                    continue
            except Exception:  # noqa: BLE001
                continue
        if req.name.lower().replace("_", "-") == CORE_DIST:
            if req.specifier and not req.specifier.contains(core_version, prereleases=True):
                return "incompatible", f"requires {CORE_DIST}{req.specifier}; running {core_version}"
            continue
        installed = _installed_version(req.name)
        if installed is None:
            missing.append(req.name)
            continue
        if req.specifier and not req.specifier.contains(installed, prereleases=True):
            missing.append(f"{req.name}{req.specifier} (found {installed})")
    if missing:
        return "unavailable", "requires " + ", ".join(missing)
    return "ok", ""


class Registry:
    """A set of components by kind and name.

    ``Registry()`` is isolated: it discovers nothing until :meth:`discover` is called (the
    default registry, used by ``feint.create`` and friends, discovers entry points on first use).
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], Entry] = {}
        self._aliases: dict[tuple[str, str], _Alias] = {}
        self._candidates: dict[tuple[str, str], list[Entry]] = {}
        self._preferred: dict[tuple[str, str], str] = {}
        self._problems: list[str] = []
        self.discovered = False

    # -- discovery --------------------------------------------------------------------------
    def discover(self, *, warn: bool = True) -> Registry:
        """Read every installed distribution's feint entry points (metadata only)."""
        from importlib.metadata import distributions

        from feint._version import __version__ as core_version

        self._read_prefer_env()
        groups = {g: k for k, g in KINDS.items()}
        seen_dists: set[str] = set()
        for dist in distributions():
            try:
                eps = dist.entry_points
                dname = dist.metadata["Name"]
            except Exception:  # noqa: BLE001 - a damaged dist must not break discovery
                continue
            if not dname:
                continue
            relevant = [ep for ep in eps if ep.group in groups or ep.group == ALIAS_GROUP]
            if not relevant or dname.lower() in seen_dists:
                continue
            seen_dists.add(dname.lower())
            status, reason = _requirement_problems(dist, core_version)
            version = dist.version
            summary = dist.metadata.get("Summary") or ""
            for ep in relevant:
                if ep.group == ALIAS_GROUP:
                    self._add_alias_text(ep.name, ep.value, dname)
                    continue
                entry = Entry(groups[ep.group], ep.name, ep.value, dname, version, summary,
                              status, reason)
                self._candidates.setdefault((entry.kind, entry.name), []).append(entry)
        for key, cands in self._candidates.items():
            self._entries[key] = self._choose(key, cands, warn)
        for (kind, alias), spec in self._aliases.items():
            target = self._entries.get((kind, spec.target))
            if target is not None and spec.suffix_param:
                target.aliases.append(f"{alias}<n> ({spec.suffix_param}=n)")
            elif target is not None and alias != spec.target:
                target.aliases.append(alias)
        for entry in self._entries.values():
            if entry.status == "incompatible" and warn:
                self._warn(f"feint: plugin '{entry.where()}' is incompatible and was not loaded: "
                           f"{entry.reason}.")
        self.discovered = True
        return self

    def _read_prefer_env(self) -> None:
        for part in filter(None, os.environ.get("FEINT_PREFER", "").split(",")):
            key, _, dist = part.partition("=")
            kind, _, name = key.strip().partition(":")
            if kind and name and dist:
                self._preferred[(normalize_kind(kind), name.strip())] = dist.strip()

    def _choose(self, key, cands: list[Entry], warn: bool) -> Entry:
        if len(cands) == 1:
            return cands[0]
        cands = sorted(cands, key=lambda e: (e.dist or "").lower())
        preferred = self._preferred.get(key)
        chosen = next((c for c in cands if c.dist and preferred and
                       c.dist.lower() == preferred.lower()), cands[0])
        for c in cands:
            if c is not chosen:
                c.status, c.reason = "shadowed", f"by {chosen.dist}"
        if warn:
            names = " and ".join(f"'{c.where()}'" for c in cands)
            self._warn(f"feint: {key[0]} {key[1]!r} is registered by {names}; using "
                       f"'{chosen.dist}'. Pick another with feint.prefer({key[0]!r}, {key[1]!r}, "
                       f"'<distribution>') or FEINT_PREFER='{key[0]}:{key[1]}=<distribution>'.")
        return chosen

    def _warn(self, message: str) -> None:
        if message not in self._problems:
            self._problems.append(message)
            warnings.warn(message, FeintPluginWarning, stacklevel=4)

    def _add_alias_text(self, alias: str, value: str, dist: str | None) -> None:
        parts = [p.strip() for p in value.split(":")]
        if len(parts) not in (2, 3):
            self._warn(f"feint: ignored malformed alias {alias!r} = {value!r} from '{dist}' "
                       "(expected 'kind:target' or 'kind:target:param').")
            return
        try:
            kind = normalize_kind(parts[0])
        except InvalidParameterError:
            self._warn(f"feint: ignored alias {alias!r} from '{dist}': unknown kind {parts[0]!r}.")
            return
        self._aliases[(kind, alias)] = _Alias(kind, parts[1], parts[2] if len(parts) == 3 else None, dist)

    # -- in-process registration ------------------------------------------------------------
    def register(self, kind: str, name: str, obj: Any, *, aliases=(), suffix_param: str | None = None,
                 replace: bool = False) -> Entry:
        """Register ``obj`` (a class, function or ``"module:attr"`` string) under ``name``.

        ``aliases`` are extra names; ``suffix_param`` makes ``name<int>`` bind that parameter
        (``featsqueeze5``).  A name already taken raises unless ``replace=True``.
        """
        kind = normalize_kind(kind)
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise InvalidParameterError(
                f"The 'name' argument of register must be an identifier such as 'my_attack'. "
                f"Got {name!r} instead.")
        if (kind, name) in self._entries and not replace:
            raise InvalidParameterError(
                f"{kind} {name!r} is already registered by {self._entries[(kind, name)].where()}; "
                "pass replace=True to replace it.")
        doc = "" if isinstance(obj, str) else (getattr(obj, "__doc__", "") or "").strip()
        entry = Entry(kind, name, obj, summary=doc.splitlines()[0] if doc else "")
        if not isinstance(obj, str):
            entry._obj = obj
        self._entries[(kind, name)] = entry
        for alias in aliases:
            self._aliases[(kind, alias)] = _Alias(kind, name, None, None)
            entry.aliases.append(alias)
        if suffix_param:
            self._aliases[(kind, name)] = _Alias(kind, name, suffix_param, None)
            entry.aliases.append(f"{name}<n> ({suffix_param}=n)")
        return entry

    def unregister(self, kind: str, name: str) -> None:
        """Remove an in-process registration (and its aliases)."""
        kind = normalize_kind(kind)
        self._entries.pop((kind, name), None)
        for key in [k for k, a in self._aliases.items() if a.kind == kind and a.target == name]:
            del self._aliases[key]

    def prefer(self, kind: str, name: str, dist: str) -> None:
        """Choose which distribution provides ``name`` when several register it."""
        kind = normalize_kind(kind)
        cands = self._candidates.get((kind, name), [])
        match = [c for c in cands if c.dist and c.dist.lower() == dist.lower()]
        if not match:
            raise InvalidParameterError(
                f"No distribution {dist!r} registers {kind} {name!r}; candidates are "
                f"{[c.dist for c in cands]}.")
        self._preferred[(kind, name)] = dist
        for c in cands:
            c.status, c.reason = ("ok", "") if c is match[0] else ("shadowed", f"by {dist}")
        self._entries[(kind, name)] = match[0]

    # -- queries ----------------------------------------------------------------------------
    def entries(self, kind: str | None = None, pattern: str | list[str] = "*", *,
                include_shadowed: bool = False) -> list[Entry]:
        """Entries of ``kind`` (all kinds if None) whose name matches an fnmatch pattern."""
        kinds = [normalize_kind(kind)] if kind else list(KINDS)
        patterns = [pattern] if isinstance(pattern, str) else list(pattern)
        pool = list(self._entries.values())
        if include_shadowed:
            pool += [c for cs in self._candidates.values() for c in cs if c.status == "shadowed"]
        out = [e for e in pool if e.kind in kinds and any(fnmatch.fnmatchcase(e.name, p) for p in patterns)]
        return sorted(out, key=lambda e: (list(KINDS).index(e.kind), _natural_key(e.name), e.dist or ""))

    def names(self, kind: str | None = None, pattern: str | list[str] = "*") -> list[str]:
        """Registered names (imports nothing)."""
        return [e.name for e in self.entries(kind, pattern)]

    def resolve(self, kind: str, name: str) -> tuple[Entry, dict[str, Any]]:
        """Find the entry for a name, alias or compact form; return it and the bound params."""
        kind = normalize_kind(kind)
        entry = self._entries.get((kind, name))
        if entry is not None:
            return entry, {}
        alias = self._aliases.get((kind, name))
        if alias is not None and alias.suffix_param is None and (kind, alias.target) in self._entries:
            return self._entries[(kind, alias.target)], {}
        m = re.fullmatch(r"([A-Za-z_]*[A-Za-z_])(\d+)", name)
        if m:
            rule = self._aliases.get((kind, m.group(1)))
            if rule is not None and rule.suffix_param and (kind, rule.target) in self._entries:
                return self._entries[(kind, rule.target)], {rule.suffix_param: int(m.group(2))}
        raise self._unknown(kind, name)

    def _unknown(self, kind: str, name: str) -> UnknownComponentError:
        pool = [n for (k, n) in self._entries if k == kind] + [a for (k, a) in self._aliases if k == kind]
        suggestions = difflib.get_close_matches(name, sorted(set(pool)), n=3, cutoff=0.5)
        hint = CATALOG.get((kind, name))
        return UnknownComponentError(kind, name, suggestions, hint)

    def load(self, kind: str, name: str) -> Any:
        """Return the class or function registered under ``name``, importing it if needed."""
        entry, _ = self.resolve(kind, name)
        return self._load_entry(entry)

    def _load_entry(self, entry: Entry) -> Any:
        if entry._obj is not None:
            return entry._obj
        where = f"'{entry.where()}' (entry point {entry.entry_point})"
        if entry.status == "incompatible":
            raise IncompatiblePluginError(
                f"{entry.kind} {entry.name!r} from {where} is incompatible: {entry.reason}. "
                f"Upgrade or downgrade {entry.dist} to a release built for this core.",
                dist=entry.dist, version=entry.version, entry_point=entry.entry_point)
        if entry._error is not None or entry.status == "unavailable":
            reason = entry.reason if entry._error is None else \
                f"{type(entry._error).__name__}: {entry._error}"
            err = PluginLoadError(
                f"{entry.kind} {entry.name!r} from {where} cannot be loaded: {reason}.",
                dist=entry.dist, version=entry.version, entry_point=entry.entry_point)
            raise err from entry._error
        try:
            obj = _import_value(entry.value)
        except Exception as exc:  # noqa: BLE001 - a plugin's failure is reported, not fatal
            entry._error = exc
            entry.status, entry.reason = "broken", f"{type(exc).__name__}: {exc}"
            log.debug("plugin %s failed to load", entry.entry_point, exc_info=True)
            raise PluginLoadError(
                f"{entry.kind} {entry.name!r} from {where} failed to import: "
                f"{type(exc).__name__}: {exc}",
                dist=entry.dist, version=entry.version, entry_point=entry.entry_point) from exc
        if isinstance(obj, type) and getattr(obj, "name", None) is None and hasattr(obj, "spec"):
            obj.name = entry.name
        entry._obj = obj
        return obj

    def try_load_all(self, kind: str | None = None) -> list[Entry]:
        """Import every usable entry (``feint doctor``); each failure becomes one warning."""
        failed = []
        for entry in self.entries(kind):
            if entry.status not in ("ok", "broken"):
                continue
            try:
                self._load_entry(entry)
            except PluginLoadError as exc:
                failed.append(entry)
                self._warn(f"feint: skipped plugin {str(exc).splitlines()[0]}")
        return failed

    def problems(self) -> list[str]:
        """Warnings emitted so far (duplicates, incompatible or broken plugins)."""
        return list(self._problems)

    # -- creation ---------------------------------------------------------------------------
    def create(self, kind: str, spec: Any, *args: Any, **kwargs: Any) -> Any:
        """Create a component from a spec string, a class or an instance.

        Explicit keyword arguments override the spec's.  For defences, a ``+`` chain (or a list)
        gives a :class:`~feint.contracts.preprocessor.PreprocessorChain`.
        """
        from feint.spec import parse_spec

        kind = normalize_kind(kind)
        if isinstance(spec, (list, tuple)):
            if kind != "defence":
                raise InvalidParameterError(
                    f"A list of specs is a chain, which only defences support; got a list for {kind}.")
            parts = [self.create(kind, s, *args) for s in spec]
            return _chain(parts)
        if isinstance(spec, type) or callable(spec) and not isinstance(spec, str) and not hasattr(spec, "get_params"):
            return _instantiate(spec, getattr(spec, "__name__", str(spec)), args, kwargs)
        if not isinstance(spec, str):
            if hasattr(spec, "get_params"):
                if not args and not kwargs:
                    return spec
                return _instantiate(type(spec), type(spec).__name__, args, {**spec.get_params(), **kwargs})
            raise InvalidParameterError(
                f"A {kind} spec must be a string, a class or an instance. Got {spec!r} instead.")
        items = parse_spec(spec)
        if len(items) > 1:
            if kind != "defence":
                raise SpecSyntaxError(spec, items[1].offset, f"'+' chains are only for defences, not {kind}s")
            return _chain([self.create(kind, str(it), *args) for it in items])
        item = items[0]
        entry, bound = self.resolve(kind, item.name)
        obj = self._load_entry(entry)
        params = {**bound, **item.kwargs, **kwargs}
        if kind == "metric" and not isinstance(obj, type):
            from feint.contracts.metric import BoundMetric

            return BoundMetric(obj, entry.name, params)
        return _instantiate(obj, entry.name, args, params)

    def info(self, name_or_spec: str, kind: str | None = None) -> dict[str, Any]:
        """Describe one component: distribution, version, summary, parameters, aliases, needs."""
        from feint.spec import parse_spec

        item = parse_spec(name_or_spec)[0]
        kinds = [normalize_kind(kind)] if kind else list(KINDS)
        found = None
        for k in kinds:
            try:
                found = self.resolve(k, item.name)
                break
            except UnknownComponentError:
                continue
        if found is None:
            raise self._unknown(kinds[0], item.name) if len(kinds) == 1 else UnknownComponentError(
                "component", item.name,
                difflib.get_close_matches(item.name, [n for (_, n) in self._entries], n=3, cutoff=0.5))
        entry, bound = found
        obj = self._load_entry(entry)
        doc = (getattr(obj, "__doc__", "") or "").strip()
        params = _signature_params(obj)
        return {
            "kind": entry.kind, "name": entry.name, "distribution": entry.dist, "version": entry.version,
            "entry_point": entry.entry_point, "status": entry.status_text,
            "summary": doc.splitlines()[0] if doc else entry.summary,
            "parameters": params, "bound": {**bound, **item.kwargs},
            "aliases": sorted(entry.aliases),
            "requires": sorted(getattr(obj, "requires", ()) or ()),
            "provides": sorted(getattr(obj, "provides", ()) or ()),
            "object": f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}",
        }


def _import_value(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    import importlib

    module, _, attr = value.partition(":")
    obj = importlib.import_module(module.strip())
    for part in filter(None, attr.strip().split(".")):
        obj = getattr(obj, part)
    return obj


def _signature_params(obj: Any) -> dict[str, Any]:
    import inspect

    if hasattr(obj, "param_defaults"):
        defaults = obj.param_defaults()
    else:
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            return {}
        defaults = {p.name: p.default for p in sig.parameters.values()
                    if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    from feint.contracts.component import format_value

    return {k: ("<required>" if v is inspect.Parameter.empty else format_value(v)) for k, v in defaults.items()}


def _instantiate(cls: Any, name: str, args: tuple, params: dict) -> Any:
    import inspect

    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        sig = None
    if sig is not None and not any(p.kind == p.VAR_KEYWORD for p in sig.parameters.values()):
        allowed = [p for p in sig.parameters if p != "self"]
        unknown = [k for k in params if k not in allowed]
        if unknown:
            hints = {k: difflib.get_close_matches(k, allowed, n=1) for k in unknown}
            text = ", ".join(f"{k!r}" + (f" (did you mean {h[0]!r}?)" if h else "") for k, h in hints.items())
            raise InvalidParameterError(
                f"{name} has no parameter {text}. Expected some of {allowed}.")
    return cls(*args, **params)


def _chain(parts: list) -> Any:
    from feint.contracts.preprocessor import PreprocessorChain

    flat = []
    for p in parts:
        flat.extend(p.steps if isinstance(p, PreprocessorChain) else [p])
    return flat[0] if len(flat) == 1 else PreprocessorChain(flat)


_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    """The process-wide registry, discovered on first use (plugins' hook modules included)."""
    global _DEFAULT
    if _DEFAULT is None:
        reg = Registry()
        reg.discover()
        _DEFAULT = reg
        from feint.hooks import register_components_from_hooks

        register_components_from_hooks(reg)
    return _DEFAULT


def reset_default_registry() -> None:
    """Forget the process-wide registry (after installing or removing a plugin)."""
    global _DEFAULT
    _DEFAULT = None
    from importlib import invalidate_caches

    invalidate_caches()
