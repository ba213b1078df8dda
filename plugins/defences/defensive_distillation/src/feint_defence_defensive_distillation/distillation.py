"""Defensive distillation (Papernot et al. 2016; paper 002, "Defensive distillation")."""

from __future__ import annotations

from typing import Any, ClassVar

from feint import Trainer
from feint._params import Boolean, Integer, Real
from feint.contracts.classifier import Classifier
from feint.errors import CapabilityError, InvalidParameterError
from feint_defence_defensive_distillation.classifier import DistilledClassifier

__all__ = ["DefensiveDistillation"]


class DefensiveDistillation(Trainer):
    """Defensive distillation: train a student on a teacher's soft labels at temperature T, deploy at 1.

    Papernot et al. train a first network F at temperature ``T`` (softmax of ``logits / T``), label
    the training set with its soft predictions ``F(x)`` at that temperature, train a second,
    distilled network on these soft labels at the same temperature, and deploy the distilled
    network at temperature 1.  The logits of a network trained at ``T`` are ``T`` times those of the
    same network trained at 1 (the last layer is linear), so with feint's framework-neutral
    classifiers the procedure reads:

    1. the ``classifier`` given here (the teacher, trained as usual) *is* F at temperature ``T``
       up to that scaling, and its soft labels at ``T`` are its ordinary probabilities
       ``softmax(T * Z / T) = classifier.predict(x)``;
    2. the student, a classifier you pass in (any adapter, usually a fresh copy of the teacher's
       architecture with its own optimiser), is trained on these soft labels with its own ``fit``
       (ordinary cross-entropy; the adapters accept probability rows as labels);
    3. the result is a :class:`DistilledClassifier`: the student with its logits multiplied by
       ``T``, i.e. the distilled network at temperature 1.

    The deployed probabilities saturate, so gradients of the probabilities and of the loss vanish
    (exactly, in float32, at large ``T``): gradient attacks on the loss such as FGSM and PGD fail
    on it, while its decisions are the student's.  This is gradient masking, not robustness:
    attacks on the logits (Carlini & Wagner), on the undistilled student, or transferred from
    another model succeed as before (paper 002; Carlini & Wagner 2016).  Evaluate accordingly.

    If your teacher was itself trained with a temperature layer and deployed without it (its
    logits already ``T`` times larger), pass ``DistilledClassifier(teacher, 1 / T)`` as the
    teacher, since step 1 reads the teacher's ordinary probabilities.

    Usage::

        dd = feint.create("defence", "defensive_distillation(temperature=50)", teacher)
        distilled = dd(x_train, student)          # ART's transformer call; or:
        dd.fit(x_train, student=student)          # the Trainer form; dd.predict(...) then uses it

    Spec: ``defensive_distillation``, ``defensive_distillation(temperature=20, nb_epochs=30)``;
    alias ``distillation``.

    Parameters
    ----------
    classifier : Classifier
        The teacher; needs ``predict``.
    temperature : float, default 100.0
        ``T`` > 0 (100 is the paper's strongest MNIST setting).
    batch_size : int, default 128
        Batch size of the teacher's labelling and of the student's training.
    nb_epochs : int, default 20
        Epochs of the student's training.
    verbose : bool, default True

    Attributes
    ----------
    distilled_ : DistilledClassifier
        The distilled network, after :meth:`fit`.
    student_ : Classifier
        The trained student (temperature 1), after :meth:`fit`.

    References
    ----------
    Papernot, McDaniel, Wu, Jha & Swami, "Distillation as a defense to adversarial perturbations
    against deep neural networks", IEEE S&P 2016.
    Carlini & Wagner, "Defensive distillation is not robust to adversarial examples", 2016.
    """

    name: ClassVar[str] = "defensive_distillation"
    requires: ClassVar[frozenset[str]] = frozenset({"predict"})
    _parameter_constraints: ClassVar[dict] = {
        "temperature": [Real(0, None, "neither")],
        "batch_size": [Integer(1, None)],
        "nb_epochs": [Integer(1, None)],
        "verbose": [Boolean()],
    }

    def __init__(self, classifier, temperature: float = 100.0, batch_size: int = 128, nb_epochs: int = 20,
                 verbose: bool = True) -> None:
        super().__init__(classifier)
        self.temperature = temperature
        self.batch_size = batch_size
        self.nb_epochs = nb_epochs
        self.verbose = verbose
        self._validate()

    def fit(self, x, y=None, student=None, **kwargs: Any) -> DefensiveDistillation:
        """Train ``student`` on the teacher's soft labels of ``x``; returns self.

        Parameters
        ----------
        x : ndarray
            Training inputs (the teacher labels them).
        y : ignored
            Accepted for the :class:`~feint.Trainer` signature; distillation trains on the
            teacher's labels only.
        student : Classifier
            The network to distil into (needs ``fit``); trained in place.
        **kwargs
            Further arguments of ``student.fit`` (``random_state=...`` for the reference and
            framework adapters' default loop).
        """
        if not isinstance(student, Classifier):
            raise InvalidParameterError(
                "DefensiveDistillation.fit needs the student network: fit(x, student=<a feint Classifier with "
                f"an optimiser>). Got student={student!r}.")
        if not {"predict", "fit"} <= set(student.provides):
            raise CapabilityError("the student of DefensiveDistillation", {"predict", "fit"}, student.provides,
                                  type(student).__name__)
        teacher = self.classifier
        if student is teacher:
            raise InvalidParameterError("The student must be a different classifier from the teacher.")
        if student.nb_classes != teacher.nb_classes:
            raise InvalidParameterError(
                f"The student has {student.nb_classes} classes and the teacher {teacher.nb_classes}; they must agree.")
        self._validate()
        x = teacher.check_x(x)
        bs = int(self.batch_size)
        from feint.hooks import task

        with task("trainer", self.spec(), total=2, unit="step", verbose=self.verbose) as t:
            soft = teacher.predict(x, batch_size=bs)                 # F(x) at temperature T (see above)
            t.advance()
            student.fit(x, soft, batch_size=bs, nb_epochs=int(self.nb_epochs), **kwargs)
            t.advance()
        self.student_ = student
        self.distilled_ = DistilledClassifier(student, float(self.temperature))
        return self

    def __call__(self, x, student, **kwargs: Any) -> DistilledClassifier:
        """Distil into ``student`` and return the distilled classifier (ART's transformer form)."""
        return self.fit(x, student=student, **kwargs).distilled_

    def predict(self, x, **kwargs: Any):
        """Predictions of the distilled network after :meth:`fit`, of the teacher before."""
        model = getattr(self, "distilled_", None) or self.classifier
        return model.predict(x, **kwargs)
