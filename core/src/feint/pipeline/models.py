"""Model loaders for ``feint evaluate``: the built-in digits CNN, a ``module:function``, a saved file.

* ``builtin = "digits_cnn"`` -- the seeded, disk-cached digits CNN of the torch plugin
  (:func:`feint_framework_torch.testing.digits_cnn`); trained on first use (a few seconds).
* ``loader = "pkg.module:function"`` -- called with ``loader_args``; returns a feint
  ``Classifier`` (used as is) or a raw model (a ``torch.nn.Module``, a Keras model), which is
  wrapped by ``framework`` (a framework plugin name) or by whichever plugin recognises it
  (:func:`feint.classifier`).  The config file's folder is importable.
* ``path = "weights.pt"`` with a loader or builtin -- a torch state dict, read with
  ``torch.load(..., weights_only=True)`` (never unpickles code) into that architecture;
  ``path = "model.keras"`` -- a Keras file (``keras.saving.load_model``, safe mode).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

from feint.errors import FeintError
from feint.pipeline.config import ConfigError, resolve_path

__all__ = ["load_classifier"]


def load_classifier(model: dict, clip_values, base_dir: Path | None) -> tuple[Any, dict]:
    """Return ``(classifier, info)`` for the ``[model]`` section, or raise :class:`ConfigError`."""
    problems: list[str] = []
    try:
        clf, info = _load(model, clip_values, base_dir, problems)
    except _Stop:
        clf, info = None, {}
    if problems:
        raise ConfigError(problems, "model")
    return clf, info


class _Stop(Exception):
    pass


def _fail(problems: list[str], text: str) -> None:
    problems.append(text)
    raise _Stop


def _load(model: dict, clip_values, base_dir, problems):
    from feint.contracts.classifier import Classifier

    path = resolve_path(model["path"], base_dir) if model.get("path") else None
    if model.get("builtin") == "digits_cnn":
        try:
            from feint_framework_torch.testing import digits_cnn
        except ImportError as exc:
            _fail(problems, f"model.builtin 'digits_cnn' needs the PyTorch plugin: pip install "
                            f"feint-framework-torch (and torch) ({type(exc).__name__}: {exc})")
        clf, _, _ = digits_cnn()
        if path is not None:
            _load_state_dict(clf.model, path, problems)
        if clip_values is not None and tuple(map(float, clip_values)) != tuple(map(float, clf.clip_values)):
            _fail(problems, f"clip_values {list(clip_values)}: the built-in digits CNN works on data in "
                            f"{list(clf.clip_values)}")
        return clf, {"source": "builtin digits_cnn" + (f" with weights {path.name}" if path else ""),
                     "framework": "torch"}
    if model.get("loader"):
        obj = _call_loader(model["loader"], model.get("loader_args") or {}, base_dir, problems)
        if path is not None:
            _load_state_dict(obj, path, problems)
        source = f"loader {model['loader']}" + (f" with weights {path.name}" if path else "")
        if isinstance(obj, Classifier):
            if clip_values is not None and obj.clip_values is not None and \
                    tuple(map(float, clip_values)) != tuple(map(float, obj.clip_values)):
                _fail(problems, f"clip_values {list(clip_values)} differ from the classifier's own "
                                f"{list(obj.clip_values)} returned by {model['loader']}")
            if obj.clip_values is None and clip_values is not None:
                obj.clip_values = tuple(float(v) for v in clip_values)
            return obj, {"source": source, "framework": _framework_name(obj)}
        return _adapt(obj, model, clip_values, problems), {"source": source, "framework": model.get("framework")}
    if path is not None and path.suffix.lower() == ".keras":
        try:
            import keras
        except ImportError as exc:
            _fail(problems, f"model.path {path.name!r} is a Keras file but keras is not installed ({exc})")
        try:
            raw = keras.saving.load_model(str(path))
        except Exception as exc:  # noqa: BLE001 - any loading failure is a config problem
            _fail(problems, f"model.path {str(path)!r}: Keras could not load it: {type(exc).__name__}: {exc}")
        return _adapt(raw, model, clip_values, problems), {"source": f"file {path.name}", "framework":
                                                            model.get("framework") or "keras"}
    _fail(problems, "model: nothing to load (give builtin, loader or path)")


def _framework_name(clf) -> str | None:
    return getattr(type(clf), "name", None) or type(clf).__name__


def _call_loader(text: str, args: dict, base_dir, problems):
    mod_name, _, fn_name = text.partition(":")
    added = base_dir is not None and str(base_dir) not in sys.path
    if added:
        sys.path.insert(0, str(base_dir))
    try:
        module = importlib.import_module(mod_name.strip())
    except Exception as exc:  # noqa: BLE001
        _fail(problems, f"model.loader {text!r}: cannot import {mod_name!r}: {type(exc).__name__}: {exc}")
    finally:
        if added:
            sys.path.remove(str(base_dir))
    fn = module
    for part in fn_name.strip().split("."):
        fn = getattr(fn, part, None)
        if fn is None:
            _fail(problems, f"model.loader {text!r}: module {mod_name!r} has no attribute {fn_name!r}")
    if not callable(fn):
        _fail(problems, f"model.loader {text!r} is not callable")
    try:
        return fn(**args)
    except Exception as exc:  # noqa: BLE001 - user code: report, do not crash
        _fail(problems, f"model.loader {text!r} raised {type(exc).__name__}: {exc}")


def _load_state_dict(module, path: Path, problems) -> None:
    try:
        import torch
    except ImportError:
        _fail(problems, f"model.path {path.name!r} is a torch file but torch is not installed")
    if not isinstance(module, torch.nn.Module):
        inner = getattr(module, "model", None)
        if not isinstance(inner, torch.nn.Module):
            _fail(problems, f"model.path {path.name!r} holds torch weights, but the loader returned a "
                            f"{type(module).__name__}, not a torch.nn.Module (or a classifier around one)")
        module = inner
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - pickle errors for files that hold code, corrupt files...
        _fail(problems, f"model.path {str(path)!r}: torch.load(weights_only=True) refused it ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''}). Save model.state_dict(), not the module.")
    if not isinstance(state, dict):
        _fail(problems, f"model.path {str(path)!r} holds a {type(state).__name__}, not a state dict")
    try:
        module.load_state_dict(state)
    except Exception as exc:  # noqa: BLE001
        _fail(problems, f"model.path {str(path)!r} does not fit the architecture: {str(exc).splitlines()[0]}")


def _adapt(raw, model: dict, clip_values, problems):
    import feint

    if clip_values is None:
        _fail(problems, "clip_values: required for a raw model (the data range, e.g. clip_values = [0.0, 1.0])")
    kwargs: dict[str, Any] = {"clip_values": tuple(float(v) for v in clip_values)}
    if model.get("input_shape"):
        kwargs["input_shape"] = tuple(model["input_shape"])
    if model.get("nb_classes"):
        kwargs["nb_classes"] = int(model["nb_classes"])
    kwargs.update(model.get("classifier_args") or {})
    try:
        if model.get("framework"):
            return feint.create("framework", model["framework"], model=raw, **kwargs)
        return feint.classifier(raw, **kwargs)
    except FeintError as exc:
        _fail(problems, f"model: could not wrap the {type(raw).__name__} as a classifier: {exc}")
    except Exception as exc:  # noqa: BLE001 - adapter constructors may raise anything on a bad model
        _fail(problems, f"model: could not wrap the {type(raw).__name__}: {type(exc).__name__}: {exc}")
