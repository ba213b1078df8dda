"""A small CNN trained on scikit-learn's digits, cached on disk: the fixture of strength tests.

``digits_cnn()`` returns ``(classifier, (x_train, y_train), (x_test, y_test))`` with inputs in
[0, 1], shape ``(n, 1, 8, 8)``.  Training is seeded and takes a few seconds on one CPU core; the
weights are cached under ``$FEINT_CACHE`` (default ``<repo>/.feint-cache`` or
``~/.cache/feint``) and reloaded with ``weights_only=True``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from feint.datasets import load_digits
from feint_framework_torch.classifier import PyTorchClassifier

__all__ = ["DigitsCNN", "cache_dir", "digits_cnn", "fresh_digits_cnn"]

_VERSION = "digits-cnn-v1"


class DigitsCNN(torch.nn.Module):
    """conv(1->16, 3x3) -> relu -> maxpool -> conv(16->32, 3x3) -> relu -> maxpool -> dense 64 -> dense 10."""

    def __init__(self) -> None:
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        )
        self.head = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(32 * 2 * 2, 64), torch.nn.ReLU(),
                                        torch.nn.Linear(64, 10))

    def forward(self, x):
        return self.head(self.features(x))


def cache_dir() -> Path:
    env = os.environ.get("FEINT_CACHE")
    if env:
        return Path(env)
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / ".git").exists() or (parent / "Makefile").exists() and (parent / "core").is_dir():
            return parent / ".feint-cache"
    return Path.home() / ".cache" / "feint"


def fresh_digits_cnn(seed: int = 0, lr: float = 3e-3, weights_from=None, defences=None) -> PyTorchClassifier:
    """A new ``DigitsCNN`` as a ``PyTorchClassifier`` with an Adam optimiser, ready to train.

    Initialised with ``torch.manual_seed(seed)``, or with a copy of the weights of
    ``weights_from`` (a ``PyTorchClassifier`` or a module) when given.
    """
    torch.manual_seed(seed)
    model = DigitsCNN()
    if weights_from is not None:
        model.load_state_dict(getattr(weights_from, "model", weights_from).state_dict())
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    return PyTorchClassifier((0.0, 1.0), model, torch.nn.CrossEntropyLoss(), opt, (1, 8, 8), 10, defences=defences)


def digits_cnn(seed: int = 0, nb_epochs: int = 30, defences=None, train: bool = True):
    """The seeded digits CNN as a ``PyTorchClassifier`` (trained once, then loaded from cache)."""
    (x_tr, y_tr), (x_te, y_te) = load_digits(channels_first=True)
    clf = fresh_digits_cnn(seed, defences=defences)
    model = clf.model
    if not train:
        return clf, (x_tr, y_tr), (x_te, y_te)
    key = hashlib.sha1(f"{_VERSION}-{seed}-{nb_epochs}-{torch.__version__}".encode()).hexdigest()[:12]
    path = cache_dir() / f"digits_cnn_{key}.pt"
    if path.exists():
        model.load_state_dict(torch.load(path, weights_only=True))
    else:
        clf.without_defences().fit(x_tr, y_tr, batch_size=64, nb_epochs=nb_epochs, random_state=seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        torch.save(model.state_dict(), tmp)
        os.replace(tmp, path)
    clf.reset_counts()
    return clf, (x_tr, y_tr), (x_te, y_te)


def accuracy(clf, x: np.ndarray, y: np.ndarray) -> float:
    return float((clf.predict(x).argmax(axis=1) == y).mean())
