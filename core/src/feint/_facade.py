"""Lazy name resolution behind the ``feint.attacks``/``defences``/``classifiers``/``metrics`` facades."""

from __future__ import annotations

from typing import Any

_BUILTINS = {
    "attack": {"Attack": ("feint.contracts.attack", "Attack"),
               "AttackResult": ("feint.contracts.attack", "AttackResult")},
    "defence": {"Preprocessor": ("feint.contracts.preprocessor", "Preprocessor"),
                "PreprocessorChain": ("feint.contracts.preprocessor", "PreprocessorChain"),
                "Detector": ("feint.contracts.detector", "Detector"),
                "Trainer": ("feint.contracts.trainer", "Trainer")},
    "framework": {"Classifier": ("feint.contracts.classifier", "Classifier")},
}


def resolve(kind: str, name: str, module: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    from feint.registry import default_registry

    reg = default_registry()
    if name in _BUILTINS.get(kind, {}):
        import importlib

        mod, attr = _BUILTINS[kind][name]
        return getattr(importlib.import_module(mod), attr)
    for entry in reg.entries(kind):
        if entry.attr_name == name or entry.name == name:
            return reg._load_entry(entry)
    import difflib

    pool = [e.attr_name for e in reg.entries(kind)]
    close = difflib.get_close_matches(name, pool, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f". Run 'feint list --kind {kind}'."
    raise AttributeError(f"module {module!r} has no {kind} {name!r} installed{hint}")


def names(kind: str) -> list[str]:
    from feint.registry import default_registry

    return sorted({e.attr_name for e in default_registry().entries(kind)})
