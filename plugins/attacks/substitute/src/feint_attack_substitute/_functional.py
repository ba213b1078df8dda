"""Substitute training with Jacobian-based dataset augmentation (Papernot et al. 2017, Algorithm 1)."""

from __future__ import annotations

import inspect

import numpy as np

__all__ = ["jacobian_augmentation", "oracle_labels", "train_substitute"]


def oracle_labels(oracle, x: np.ndarray, batch_size: int = 512) -> np.ndarray:
    """The oracle's labels ``O~(x)``: the argmax of its predictions (only ``predict`` is used)."""
    return oracle.predict(x, batch_size=batch_size).argmax(axis=1).astype(np.int64)


def jacobian_augmentation(substitute, x: np.ndarray, labels: np.ndarray, lmbda: float,
                          batch_size: int = 128) -> np.ndarray:
    """``{x + lmbda * sign(J_F(x)[O~(x)])}``: one step along the substitute's Jacobian row of the oracle label.

    ``J_F(x)[c]`` is the gradient of the substitute's output probability ``F_c`` (the paper's
    ``F``), taken through ``class_gradient``; the new points are clipped to the substitute's
    ``clip_values``.
    """
    grad = substitute.class_gradient(x, label=labels, logits=False, batch_size=batch_size)[:, 0]
    out = x + np.asarray(lmbda, dtype=x.dtype) * np.sign(grad).astype(x.dtype)
    cv = substitute.clip_values
    return (out if cv is None else np.clip(out, cv[0], cv[1])).astype(x.dtype)


def _fit(substitute, x, y, batch_size: int, nb_epochs: int, seed: int) -> None:
    """``substitute.fit``, seeded where the adapter's training loop takes a ``random_state``."""
    params = inspect.signature(substitute._fit).parameters
    kwargs = {"random_state": seed} if "random_state" in params else {}
    substitute.fit(x, y, batch_size=batch_size, nb_epochs=nb_epochs, **kwargs)


def train_substitute(oracle, substitute, x_seed: np.ndarray, nb_rounds: int, lmbda: float, nb_epochs: int,
                     batch_size: int, seed: int, progress=None):
    """Algorithm 1 of Papernot et al.: label, train, augment, for ``nb_rounds`` substitute epochs.

    Round rho trains the substitute (continuing from the previous round) on ``S_rho`` labelled
    by the oracle; between rounds ``S_{rho+1} = S_rho U {x + lmbda sign(J_F[O~(x)])}``, and only
    the new points are sent to the oracle.  Returns ``(substitute, S, labels, oracle_queries)``.
    """
    s = np.asarray(x_seed)
    labels = oracle_labels(oracle, s)
    queries = len(s)
    for rho in range(nb_rounds):
        _fit(substitute, s, labels, batch_size, nb_epochs, seed + rho)
        if rho < nb_rounds - 1:
            new = jacobian_augmentation(substitute, s, labels, lmbda, batch_size)
            new_labels = oracle_labels(oracle, new)
            queries += len(new)
            s = np.concatenate([s, new])
            labels = np.concatenate([labels, new_labels])
        if progress is not None:
            progress.advance()
    return substitute, s, labels, queries
