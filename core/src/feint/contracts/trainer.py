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

    def _fit_on_the_fly(self, x, y, scheduler, kwargs: dict, make_step, steps_per_batch: int = 1) -> Trainer:
        """The loop shared by trainers that craft adversarial batches on the current model.

        Validates ``fit``'s extra arguments and parameters, shuffles the data each epoch with
        ``np.random.default_rng(self.random_state)``, and calls ``step(x_batch, y_batch, done)`` for
        every minibatch, where ``step = make_step(rng, x)`` is built once per fit and ``done(loss)``
        must be called after every optimiser step (it steps the ``scheduler``).  Records the mean
        loss of each epoch in ``history_`` and reports one progress step per epoch.  Needs the
        parameters ``nb_epochs``, ``batch_size``, ``random_state`` and ``verbose``.
        """
        import math

        import numpy as np

        from feint.errors import InvalidParameterError
        from feint.hooks import task
        from feint.labels import to_indices

        name = type(self).__name__
        if kwargs:
            raise InvalidParameterError(
                f"{name}.fit got unexpected arguments {sorted(kwargs)}; training settings are parameters of the "
                "trainer (nb_epochs, batch_size, ...).")
        if scheduler is not None and not callable(getattr(scheduler, "step", None)):
            raise InvalidParameterError(
                f"The 'scheduler' argument of {name}.fit must have a step() method (e.g. a "
                f"torch.optim.lr_scheduler). Got {scheduler!r} instead.")
        self._validate()
        clf = self.classifier
        x = clf.check_x(x)
        y = to_indices(y, x.shape[0], clf.nb_classes)
        rng = np.random.default_rng(self.random_state)
        step = make_step(rng, x)
        n, bs = x.shape[0], int(self.batch_size)
        self.history_ = []
        losses: list[float] = []

        def done(loss: float) -> None:
            losses.append(float(loss))
            if scheduler is not None:
                scheduler.step()

        with task("trainer", self.spec(), total=int(self.nb_epochs), unit="epoch", verbose=self.verbose,
                  steps_per_epoch=math.ceil(n / bs) * steps_per_batch) as t:
            for _ in range(int(self.nb_epochs)):
                order = rng.permutation(n)
                losses.clear()
                for start in range(0, n, bs):
                    idx = order[start:start + bs]
                    step(x[idx], y[idx], done)
                self.history_.append(float(np.mean(losses)))
                t.advance()
        return self
