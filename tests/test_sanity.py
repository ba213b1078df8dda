"""Honest evaluation: a gradient-masked model triggers the warning signs; a normal one does not;
the same function attacked through a straight-through (BPDA) rule is broken."""

import warnings

import numpy as np
import pytest
import torch

import feint
from feint import Preprocessor
from feint.sanity import FeintEvaluationWarning, check_evaluation
from feint_framework_torch.classifier import PyTorchClassifier

LEVELS = 2  # quantise to {0, 0.5, 1}: zero gradient almost everywhere


class QuantisedInside(torch.nn.Module):
    """The digits CNN behind a rounding step inside the model: its gradient is zero (masked)."""

    def __init__(self, base):
        super().__init__()
        self.base = base

    def forward(self, x):
        return self.base(torch.round(x * LEVELS) / LEVELS)


class Quantise(Preprocessor):
    """The same rounding as a preprocessing defence with a straight-through (BPDA) gradient."""

    name = "t_quantise"
    gradient_rule = "straight-through"

    def __init__(self, levels=LEVELS):
        self.levels = levels

    def transform(self, x, y=None):
        return (np.round(x * self.levels) / self.levels).astype(x.dtype), y


def _rows(clf, x, y, specs):
    rows = []
    for spec in specs:
        atk = feint.create("attack", spec, clf, verbose=False, random_state=0)
        res = atk.run(x, y)
        rows.append({"attack": str(atk), "success_rate": res.success_rate, "success": res.success,
                     "eps": 0.2, "norm": np.inf, "single_step": type(atk).single_step,
                     "threat_model": type(atk).threat_model(), "defence": "none", "target": "untargeted"})
    return rows


@pytest.fixture(scope="module")
def setup(digits_correct):
    clf, x, y = digits_correct
    x, y = x[:60], y[:60]
    masked = PyTorchClassifier((0.0, 1.0), QuantisedInside(clf.model), input_shape=(1, 8, 8), nb_classes=10)
    keep = masked.predict(x).argmax(1) == y
    return clf, masked, x[keep], y[keep]


def _iterative():
    names = set(feint.list("attack"))
    for n in ("pgd", "bim"):
        if n in names:
            return f"{n}(eps=0.2, eps_step=0.02, max_iter=20)"
    pytest.skip("needs the pgd or bim plugin")


def test_normal_model_passes_every_check(setup):
    clf, _, x, y = setup
    rows = _rows(clf, x, y, ["fgsm(eps=0.2)", _iterative()])
    with warnings.catch_warnings():
        warnings.simplefilter("error", FeintEvaluationWarning)
        checks = check_evaluation(rows, clf, x, y)
    assert not [c.name for c in checks if c.warned]
    assert {c.name for c in checks} >= {"one_step_beats_iterative", "zero_gradients", "randomised_predictions",
                                        "large_eps_not_total", "random_beats_attacks", "saturated_softmax"}


def test_masked_model_warns_and_bpda_breaks_it(setup):
    clf, masked, x, y = setup
    rows = _rows(masked, x, y, ["fgsm(eps=0.2)", _iterative()])
    with pytest.warns(FeintEvaluationWarning):
        checks = {c.name: c for c in check_evaluation(rows, masked, x, y)}
    assert checks["zero_gradients"].warned
    assert checks["zero_gradients"].numbers["zero_gradient_fraction"] > 0.5
    assert checks["large_eps_not_total"].warned
    masked_success = max(r["success_rate"] for r in rows)
    # the same function, with the rounding as a straight-through defence: the adaptive attack breaks it
    feint.register("defence", "t_quantise", Quantise, replace=True)
    try:
        bpda = clf.with_defences("t_quantise")
        np.testing.assert_allclose(bpda.predict(x), masked.predict(x), atol=1e-5)
        bpda_rows = _rows(bpda, x, y, [_iterative()])
    finally:
        from feint.registry import default_registry

        default_registry().unregister("defence", "t_quantise")
    assert bpda_rows[0]["success_rate"] > masked_success + 0.5


def test_row_checks_flag_one_step_and_black_box_wins():
    rows = [
        {"attack": "fgsm", "success_rate": 0.6, "single_step": True, "threat_model": "white-box", "eps": 0.1},
        {"attack": "pgd", "success_rate": 0.3, "single_step": False, "threat_model": "white-box", "eps": 0.1},
        {"attack": "hopskipjump", "success_rate": 0.9, "threat_model": "black-box", "eps": 0.1},
    ]
    with pytest.warns(FeintEvaluationWarning) as caught:
        checks = {c.name: c for c in check_evaluation(rows)}
    assert {str(w.message).split("'")[1] for w in caught} == {"one_step_beats_iterative", "black_box_beats_white_box"}
    assert checks["one_step_beats_iterative"].warned
    assert checks["one_step_beats_iterative"].numbers["cells"][0]["one-step_success"] == 0.6
    assert checks["black_box_beats_white_box"].warned
    fine = [dict(r, success_rate=s) for r, s in zip(rows, (0.3, 0.6, 0.5))]
    assert not any(c.warned for c in check_evaluation(fine, warn=False))


def test_randomised_model_is_flagged(setup):
    clf, _, x, y = setup

    class Noisy(torch.nn.Module):
        def __init__(self, base):
            super().__init__()
            self.base = base

        def forward(self, inp):
            return self.base(inp + 0.3 * torch.randn_like(inp))

    noisy = PyTorchClassifier((0.0, 1.0), Noisy(clf.model), input_shape=(1, 8, 8), nb_classes=10)
    checks = {c.name: c for c in check_evaluation([], noisy, x[:20], y[:20], warn=False, large_eps_attack=None)}
    assert checks["randomised_predictions"].warned
    assert "eot_samples" in checks["randomised_predictions"].advice
