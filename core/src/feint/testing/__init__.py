"""Contract kits and reference models for testing feint plugins, ours or a third party's.

``check_classifier``, ``check_attack``, ``check_preprocessor``, ``check_trainer`` and ``check_metric`` raise
``AssertionError`` naming the first property that fails (scikit-learn's ``check_estimator`` in
spirit); ``parametrize_with_checks`` turns them into one pytest test per check.  The numpy
reference classifiers let attack and core tests run without any framework.
"""

from __future__ import annotations

from feint.testing._attack_checks import ATTACK_CHECKS, check_attack
from feint.testing._classifier_checks import CLASSIFIER_CHECKS, check_classifier
from feint.testing._other_checks import check_metric, check_preprocessor
from feint.testing._trainer_checks import TRAINER_CHECKS, check_trainer
from feint.testing.reference import MLPClassifier, SoftmaxRegression, toy_dataset, trained_reference
from feint.testing.wrappers import PredictOnly, without_native_output_gradient

__all__ = [
    "ATTACK_CHECKS", "CLASSIFIER_CHECKS", "TRAINER_CHECKS", "MLPClassifier", "PredictOnly", "SoftmaxRegression", "check_attack",
    "check_classifier", "check_metric", "check_preprocessor", "check_trainer", "parametrize_with_checks",
    "toy_dataset", "trained_reference", "without_native_output_gradient",
]


def parametrize_with_checks(objects, x=None):
    """A ``pytest.mark.parametrize`` over (object, check) pairs, one test per check.

    Attacks get every attack check, classifiers every classifier check, preprocessors the
    preprocessor check.  Use as::

        @parametrize_with_checks([FastGradientMethod(clf), FastGradientMethod(clf, norm=2)])
        def test_contract(obj, check):
            check(obj)
    """
    import functools

    import pytest

    from feint.contracts.attack import Attack
    from feint.contracts.classifier import Classifier
    from feint.contracts.preprocessor import Preprocessor
    from feint.testing._data import default_inputs

    params = []
    for obj in objects:
        if isinstance(obj, Attack):
            data = default_inputs(obj.classifier) if x is None else x
            for chk in ATTACK_CHECKS:
                params.append(pytest.param(obj, functools.partial(chk, x=data), id=f"{obj}-{chk.__name__}"))
        elif isinstance(obj, Classifier):
            data = default_inputs(obj) if x is None else x
            for chk in CLASSIFIER_CHECKS:
                def run(o, chk=chk, data=data):
                    return chk(o, data, o.predict(data).argmax(axis=1))
                params.append(pytest.param(obj, run, id=f"{type(obj).__name__}-{chk.__name__}"))
        elif isinstance(obj, Preprocessor):
            params.append(pytest.param(obj, functools.partial(check_preprocessor, x=x),
                                       id=f"{obj}-check_preprocessor"))
        else:
            raise TypeError(f"parametrize_with_checks got {obj!r}; expected attacks, classifiers or preprocessors")
    return pytest.mark.parametrize("obj, check", params)
