"""Data for ``feint evaluate``: the built-in digits set or a ``.npz`` file, checked against the model."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from feint.errors import InvalidInputError
from feint.pipeline.config import ConfigError, resolve_path

__all__ = ["load_data"]


def load_data(data: dict, classifier, samples: int, base_dir: Path | None) -> tuple[np.ndarray, np.ndarray, dict]:
    """Return ``(x, y, info)``: the first ``samples`` inputs and integer labels, or raise ConfigError.

    The digits set is laid out to fit the model: ``(n, 1, 8, 8)``, ``(n, 8, 8, 1)`` or ``(n, 64)``.
    """
    problems: list[str] = []
    shape = tuple(classifier.input_shape) if classifier.input_shape is not None else None
    if data["source"] == "digits":
        from feint.datasets import load_digits

        train, test = load_digits(channels_first=True)
        x, y = test if data["split"] == "test" else train
        layouts = {(1, 8, 8): lambda a: a, (8, 8, 1): lambda a: a.transpose(0, 2, 3, 1), (64,): lambda a: a.reshape(len(a), 64)}
        if shape in layouts:
            x = layouts[shape](x)
        else:
            problems.append(f"data: the digits images are 8x8 (one channel) but the model expects inputs of shape "
                            f"{shape}; use a model for (1, 8, 8), (8, 8, 1) or (64,) inputs, or a .npz file")
        info = {"source": f"digits ({data['split']} split, scikit-learn)", "split": data["split"]}
    else:
        path = resolve_path(data["source"], base_dir)
        try:
            with np.load(path, allow_pickle=False) as f:
                keys = list(f.keys())
                xk = data["x_key"] if data["x_key"] in keys else next((k for k in ("x_test", "x") if k in keys), None)
                yk = data["y_key"] if data["y_key"] in keys else next((k for k in ("y_test", "y") if k in keys), None)
                if xk is None or yk is None:
                    raise ConfigError([f"data.source {path.name!r} has arrays {keys}; name the inputs and labels "
                                       f"with data.x_key and data.y_key (now {data['x_key']!r}, {data['y_key']!r})"],
                                      "data")
                x, y = f[xk], f[yk]
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - unreadable file
            raise ConfigError([f"data.source {str(path)!r} could not be read: {type(exc).__name__}: {exc}"], "data") from None
        info = {"source": f"file {path.name}", "x_key": xk, "y_key": yk}
    n_avail = len(x)
    x, y = np.asarray(x)[:samples], np.asarray(y)[:samples]
    if not problems:
        _check(x, y, classifier, shape, problems)
    if problems:
        raise ConfigError(problems, "data")
    from feint.labels import to_indices

    info.update({"n": int(len(x)), "available": int(n_avail), "shape": list(x.shape[1:]),
                 "selection": f"the first {len(x)} of {n_avail}"})
    return x.astype(classifier.np_dtype), to_indices(y, len(x), classifier.nb_classes), info


def _check(x, y, classifier, shape, problems: list[str]) -> None:
    from feint.labels import to_indices

    if x.ndim < 2 or not np.issubdtype(x.dtype, np.number):
        problems.append(f"data: inputs must be a numeric array (n, ...), got dtype {x.dtype} and shape {x.shape}")
        return
    if shape is not None and tuple(x.shape[1:]) != shape:
        hint = ""
        if sorted(x.shape[1:]) == sorted(shape):
            hint = " (the channel axis looks transposed)"
        elif int(np.prod(x.shape[1:])) == int(np.prod(shape)):
            hint = " (same size: reshape the data)"
        problems.append(f"data: inputs have shape {tuple(x.shape[1:])} per sample but the model expects "
                        f"{shape}{hint}")
    if len(y) != len(x):
        problems.append(f"data: {len(x)} inputs but {len(y)} labels")
    else:
        try:
            to_indices(y, len(x), classifier.nb_classes)
        except InvalidInputError as exc:
            problems.append(f"data: labels do not fit the model's {classifier.nb_classes} classes: {exc}")
    if not np.all(np.isfinite(x)):
        problems.append("data: inputs contain NaN or infinite values")
    elif classifier.clip_values is not None and x.size:
        lo, hi = classifier.clip_values
        tol = 1e-5 * (hi - lo)
        if x.min() < lo - tol or x.max() > hi + tol:
            problems.append(f"data: input values lie in [{x.min():.4g}, {x.max():.4g}], outside clip_values "
                            f"[{lo}, {hi}]; scale the data or set clip_values")
