"""The ``Trainer`` contract (paper 000 §6.1): hardens a classifier by training."""

from __future__ import annotations

from typing import Any, ClassVar

from feint.contracts.component import Component

__all__ = ["Trainer"]


class Trainer(Component):
    """Base class of training defences; ``self.classifier`` is hardened in place by :meth:`fit`."""

    kind = "defence"
    _context_args: ClassVar[tuple[str, ...]] = ("classifier",)
    requires: ClassVar[frozenset[str]] = frozenset({"fit", "train_on_batch"})

    def __init__(self, classifier) -> None:
        from feint.contracts.attack import check_capabilities

        check_capabilities(self, classifier)
        self.classifier = classifier

    def fit(self, x, y, **kwargs: Any) -> Trainer:
        """Train ``self.classifier`` on ``(x, y)``; returns self."""
        raise NotImplementedError

    def predict(self, x, **kwargs: Any):
        """Predictions of the hardened classifier (paper 000 §6.1)."""
        return self.classifier.predict(x, **kwargs)
