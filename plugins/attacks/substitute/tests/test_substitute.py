"""Substitute black-box attack: Jacobian augmentation, oracle access through predict only, transfer on digits."""

import numpy as np
import pytest
import torch

import feint
from feint.errors import CapabilityError, InvalidParameterError, UnknownComponentError
from feint.testing import MLPClassifier, PredictOnly, SoftmaxRegression, trained_reference
from feint_attack_substitute import SubstituteBlackBox, SubstituteResult
from feint_attack_substitute._functional import jacobian_augmentation, train_substitute
from feint_framework_torch import PyTorchClassifier


def test_registered_black_box():
    clf, _, _ = trained_reference("mlp", nb_epochs=2)
    atk = feint.create("attack", "substitute(nb_rounds=2)", clf)
    assert isinstance(atk, SubstituteBlackBox) and atk.requires == {"predict"}
    assert SubstituteBlackBox.threat_model() == "black-box"
    assert atk.budget() == (0.3, np.inf)


def test_jacobian_augmentation_is_a_sign_step_of_the_label_row():
    sub = SoftmaxRegression((4,), 3, clip_values=(-5.0, 5.0), dtype="float64")
    rng = np.random.default_rng(0)
    sub.W, sub.b = rng.normal(size=(4, 3)), rng.normal(size=3)
    x = rng.uniform(-1, 1, (6, 4))
    labels = np.array([0, 1, 2, 0, 1, 2])
    new = jacobian_augmentation(sub, x, labels, 0.1)
    p = sub.predict(x)
    # dF_c/dx = F_c (W_c - sum_j F_j W_j) for a softmax-linear model
    jac = p[np.arange(6), labels][:, None] * (sub.W[:, labels].T - p @ sub.W.T)
    np.testing.assert_allclose(new - x, 0.1 * np.sign(jac))


def test_training_set_doubles_and_only_new_points_are_labelled():
    oracle, x, _ = trained_reference("mlp")
    stub = PredictOnly(oracle)
    sub = MLPClassifier((8,), 3, random_state=0)
    sub, s, labels, queries = train_substitute(stub, sub, x[:20], nb_rounds=4, lmbda=0.1, nb_epochs=3,
                                               batch_size=16, seed=0)
    assert len(s) == 20 * 2**3 and queries == len(s) == stub.counts.forward_samples
    np.testing.assert_array_equal(labels, oracle.predict(s).argmax(1))
    assert oracle.counts.backward == 0


def test_oracle_needs_only_predict_and_substitute_is_reused():
    oracle, x, _ = trained_reference("mlp")
    stub = PredictOnly(oracle)
    atk = SubstituteBlackBox(stub, nb_rounds=3, random_state=0, verbose=False)
    res = atk.run(x[30:60], x_seed=x[:30])
    assert isinstance(res, SubstituteResult)
    assert res.oracle_queries == res.training_size == 30 * 4
    assert 0 <= res.substitute_agreement <= 1 and res.substitute_success > 0.5
    sub = atk.substitute_
    atk.generate(x[60:70])
    assert atk.substitute_ is sub                     # trained once, reused
    atk.set_params(lmbda=0.2)
    assert atk.substitute_ is None                    # a training parameter changed
    # eps = 0 in the white-box attack returns the inputs
    same = SubstituteBlackBox(stub, attack="fgsm(eps=0.0)", nb_rounds=1, verbose=False).generate(x[:5])
    np.testing.assert_array_equal(same, x[:5])


def test_bad_parameters_are_named():
    clf, x, _ = trained_reference("mlp", nb_epochs=2)
    with pytest.raises(UnknownComponentError):
        SubstituteBlackBox(clf, attack="fgsn(eps=0.3)")
    with pytest.raises(InvalidParameterError, match="'substitute' parameter"):
        SubstituteBlackBox(clf, substitute=3.5)
    with pytest.raises(InvalidParameterError, match="oracle's 3 classes"):
        SubstituteBlackBox(clf, substitute=lambda: MLPClassifier((8,), 4), nb_rounds=1, verbose=False).generate(x[:4])
    nofit = PredictOnly(clf)
    with pytest.raises(CapabilityError, match="fit"):
        SubstituteBlackBox(clf, substitute=lambda: nofit, nb_rounds=1, verbose=False).generate(x[:4])


def _torch_mlp():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    return PyTorchClassifier((0.0, 1.0), net, torch.nn.CrossEntropyLoss(), torch.optim.Adam(net.parameters(), lr=1e-2),
                             (1, 8, 8), 10)


@pytest.mark.slow
def test_digits_cnn_transfer_at_eps_03(digits_correct):
    clf, x, y = digits_correct
    oracle = PredictOnly(clf)
    atk = SubstituteBlackBox(oracle, substitute=_torch_mlp, attack="fgsm(eps=0.3)", nb_rounds=6, lmbda=0.1,
                             random_state=0, verbose=False)
    res = atk.run(x[100:200], y[100:200], x_seed=x[:100])   # seed set and attacked inputs are disjoint
    assert res.success_rate > 0.5
    assert res.oracle_queries == 100 * 2**5 and res.passes["backward"] == 0
    assert np.abs(res.x_adv - x[100:200]).max() <= 0.3 + 1e-6
    again = SubstituteBlackBox(oracle, substitute=_torch_mlp, nb_rounds=6, random_state=0, verbose=False)
    np.testing.assert_array_equal(again.generate(x[100:200], y[100:200], x_seed=x[:100]), res.x_adv)


def test_progress_is_reported_through_task_hooks():
    from feint.hooks import get_plugin_manager, hookimpl

    class Recorder:
        def __init__(self):
            self.ended = []

        @hookimpl
        def feint_task_end(self, task):
            self.ended.append((task.name, task.total, task.done, task.depth))

    oracle, x, _ = trained_reference("mlp")
    rec = Recorder()
    get_plugin_manager().register(rec)
    try:
        SubstituteBlackBox(oracle, nb_rounds=3, verbose=False).generate(x[:10])
    finally:
        get_plugin_manager().unregister(rec)
    names = {name: (total, done, depth) for name, total, done, depth in rec.ended}
    assert names["substitute training"] == (3, 3, 1)
    assert names["substitute(nb_rounds=3, verbose=False)"] == (2, 2, 0)
    assert any(name.startswith("fgsm") and depth == 1 for name, _, _, depth in rec.ended)
