"""Behaviour of PyTorchClassifier beyond the contract kit (see also test_torch_classifier.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import feint
from feint.errors import FeintError, InvalidInputError, InvalidParameterError, UnknownComponentError
from feint.testing import check_classifier
from feint_framework_torch.classifier import PyTorchClassifier
from feint_framework_torch.testing import DigitsCNN


@pytest.fixture
def test_defences():
    from feint.testing.preprocessors import registered

    with registered() as classes:
        yield classes


def test_defences_through_strings(digits, test_defences):
    squeeze, affine = test_defences
    clf, x, y = digits
    x, y = x[:16], y[:16]
    sq, aff = squeeze(bit_depth=2).transform(x)[0], affine().transform(x)[0]
    d = PyTorchClassifier((0.0, 1.0), clf.model, input_shape=(1, 8, 8), nb_classes=10, defences="testsqueeze2")
    np.testing.assert_allclose(d.predict(x), clf.predict(sq), atol=1e-6)
    np.testing.assert_allclose(d.loss_gradient(x, y), clf.loss_gradient(sq, y), atol=1e-6)  # straight-through
    np.testing.assert_allclose(d.class_gradient(x, label=y), clf.class_gradient(sq, label=y), atol=1e-6)
    chain = clf.with_defences(["testaffine", "testsqueeze2"])  # a list is a chain, in order
    both = squeeze(bit_depth=2).transform(aff)[0]
    np.testing.assert_allclose(chain.predict(x), clf.predict(both), atol=1e-6)
    np.testing.assert_allclose(chain.loss_gradient(x, y), affine.scale * clf.loss_gradient(both, y), atol=1e-6)
    with pytest.raises(UnknownComponentError) as info:
        clf.with_defences("testsqeeze2")
    assert "testsqueeze" in info.value.suggestions


def test_paper_defence_strings(digits):
    """'featsqueeze5+smooth' through the real defence plugins: applied in order, gradients straight through."""
    pytest.importorskip("feint_defence_featsqueeze")
    pytest.importorskip("feint_defence_spatial_smoothing")
    clf, x, y = digits
    x, y = x[:16], y[:16]
    d = PyTorchClassifier((0.0, 1.0), clf.model, input_shape=(1, 8, 8), nb_classes=10,
                          defences="featsqueeze5+smooth")
    assert d.preprocessors[1].channel_index == 1  # filled in from the classifier
    xp = d.preprocessors[1].transform(d.preprocessors[0].transform(x)[0])[0]
    assert not np.allclose(xp, x)
    np.testing.assert_allclose(d.predict(x), clf.predict(xp), atol=1e-6)
    np.testing.assert_allclose(d.loss_gradient(x, y), clf.loss_gradient(xp, y), atol=1e-6)


def test_bad_inputs_name_the_shapes(digits):
    clf, x, y = digits
    x, y = x[:12], y[:12]
    with pytest.raises(InvalidInputError, match=r"\(n, 1, 8, 8\).*\(12, 8, 8\)"):
        clf.predict(x[:, 0])
    with pytest.raises(InvalidInputError, match=r"\(12, 8, 8, 1\).*channel_index=1"):
        clf.predict(x.transpose(0, 2, 3, 1))
    nan = x.copy()
    nan[0, 0, 0, 0] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        clf.loss_gradient(nan, y)
    with pytest.raises(FeintError, match="12 labels.*Got 13"):
        clf.loss_gradient(x, np.arange(13) % 10)
    with pytest.raises(FeintError, match=r"\[0, 9\]"):
        clf.class_gradient(x, label=np.full(12, 11))


def test_train_and_eval_modes_are_restored():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.BatchNorm1d(32),
                                torch.nn.ReLU(), torch.nn.Dropout(0.5), torch.nn.Linear(32, 10))
    clf = PyTorchClassifier((0.0, 1.0), model, optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
                            input_shape=(1, 8, 8), nb_classes=10)
    x = np.random.default_rng(0).uniform(0, 1, (12, 1, 8, 8)).astype(np.float32)
    y = np.arange(12) % 10
    model.train()
    stats = model[2].running_mean.clone()
    p = clf.predict(x)
    assert np.array_equal(p, clf.predict(x)), "dropout active at inference"
    assert np.array_equal(clf.loss_gradient(x, y), clf.loss_gradient(x, y))
    assert torch.equal(stats, model[2].running_mean), "inference updated batch-norm statistics"
    assert all(m.training for m in model.modules()), "the user's train mode was not restored"
    model.eval()
    clf.train_on_batch(x, y)
    assert not any(m.training for m in model.modules()), "the user's eval mode was not restored"
    assert not torch.equal(stats, model[2].running_mean), "train_on_batch did not train"


def test_modes_are_set_through_nested_shared_and_empty_submodule_slots():
    torch.manual_seed(0)
    drop = torch.nn.Dropout(0.5)                                  # shared: reached twice by the walk
    inner = torch.nn.Sequential(torch.nn.Linear(32, 32), drop)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 32), inner, drop, torch.nn.Linear(32, 10))
    model[1].register_module("unused", None)                      # a slot holding None
    clf = PyTorchClassifier((0.0, 1.0), model, input_shape=(1, 8, 8), nb_classes=10)
    x = np.random.default_rng(1).uniform(0, 1, (6, 1, 8, 8)).astype(np.float32)
    model.train()
    inner.eval()                                                  # a mixed state is restored as it was
    before = {name: m.training for name, m in model.named_modules(remove_duplicate=False)}
    assert np.array_equal(clf.predict(x), clf.predict(x)), "the shared dropout ran in train mode"
    z, g = clf.output_gradient(x, np.ones((6, 10), np.float32), logits=True)
    assert np.array_equal(z, clf.predict(x, logits=True)) and np.isfinite(g).all()
    assert before == {name: m.training for name, m in model.named_modules(remove_duplicate=False)}


def test_modes_follow_submodules_added_or_replaced_after_the_first_call():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 32), torch.nn.Identity(), torch.nn.Linear(32, 10))
    clf = PyTorchClassifier((0.0, 1.0), model, input_shape=(1, 8, 8), nb_classes=10)
    x = np.random.default_rng(2).uniform(0, 1, (6, 1, 8, 8)).astype(np.float32)
    clf.predict(x)                                                # the tree is walked and kept
    model[2] = torch.nn.Sequential(torch.nn.Dropout(0.5))         # replaced: a new module, in train mode
    assert model[2][0].training
    assert np.array_equal(clf.predict(x), clf.predict(x)), "a replaced submodule's dropout ran in train mode"
    model[2][0].add_module("deeper", torch.nn.Dropout(0.9))       # added one level further down
    model[2][0].deeper.train()
    z, g = clf.output_gradient(x, np.ones((6, 10), np.float32), logits=True)
    assert np.array_equal(z, clf.predict(x, logits=True))
    assert model[2][0].training and model[2][0].deeper.training, "the train flags were not restored"
    clf.model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(0.5), torch.nn.Linear(64, 10))
    assert np.array_equal(clf.predict(x), clf.predict(x)), "a model assigned later ran in train mode"


def test_adapt_model_and_keras_models_are_declined():
    from feint_framework_torch.hooks import feint_adapt_model

    model = DigitsCNN()
    clf = feint.classifier(model, clip_values=(0.0, 1.0), input_shape=(1, 8, 8), output_shape=(10,))
    assert isinstance(clf, PyTorchClassifier) and clf.nb_classes == 10
    # A Keras 3 model on the torch backend is a torch module too; it belongs to the Keras plugin.
    keras_like = type("Sequential", (torch.nn.Module,), {"__module__": "keras.src.models.sequential"})
    assert feint_adapt_model(keras_like(), {"clip_values": (0, 1)}) is None


def test_parameter_errors():
    if not torch.cuda.is_available():
        with pytest.raises(InvalidParameterError, match="CUDA"):
            PyTorchClassifier((0.0, 1.0), DigitsCNN(), input_shape=(1, 8, 8), nb_classes=10, device="cuda")
    wrong = PyTorchClassifier((0.0, 1.0), DigitsCNN(), input_shape=(1, 8, 8), nb_classes=7)
    with pytest.raises(InvalidParameterError, match=r"\(n, 7\).*\(2, 10\)"):
        wrong.predict(np.zeros((2, 1, 8, 8), np.float32))


def test_soft_labels_train_with_the_default_loss():
    from feint.datasets import load_digits

    (x_tr, y_tr), _ = load_digits()
    torch.manual_seed(0)
    model = DigitsCNN()
    clf = PyTorchClassifier((0.0, 1.0), model, optimizer=torch.optim.Adam(model.parameters(), lr=3e-3),
                            input_shape=(1, 8, 8), nb_classes=10)
    soft = np.full((64, 10), 0.02, np.float32)
    soft[np.arange(64), y_tr[:64]] = 0.82
    losses = [clf.train_on_batch(x_tr[:64], soft) for _ in range(10)]
    assert losses[-1] < losses[0]


def test_contract_with_training_on_a_smooth_model():
    """A smooth model (tanh, average pooling) passes the whole kit, training included, at its defaults."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.Tanh(), torch.nn.AvgPool2d(2), torch.nn.Flatten(),
                                torch.nn.Linear(36, 10))
    clf = PyTorchClassifier((0.0, 1.0), model, torch.nn.CrossEntropyLoss(),
                            torch.optim.SGD(model.parameters(), lr=0.5), (1, 8, 8), 10)
    check_classifier(clf, training=True)


def test_float64_dtype(digits):
    """dtype='float64' runs a double-precision copy end to end; finite differences agree to 1e-4."""
    import copy

    clf, x, y = digits
    clf64 = PyTorchClassifier((0.0, 1.0), copy.deepcopy(clf.model).double(), input_shape=(1, 8, 8), nb_classes=10,
                              dtype="float64")
    # jitter the flat background: max-pool ties are kinks where finite differences disagree with any gradient
    xj = np.clip(x[:8] + np.random.default_rng(0).uniform(0.0, 0.05, x[:8].shape), 0, 1)
    check_classifier(clf64, xj, y[:8])
    assert clf64.loss_gradient(xj, y[:8]).dtype == np.float64
    np.testing.assert_allclose(clf64.predict(xj), clf.predict(xj), atol=1e-5)


@pytest.mark.parametrize("channels", [1, 3])
def test_memory_formats_give_the_same_results(channels):
    """'auto' (channels-last strides for one channel), 'contiguous' and 'channels_last' agree; gradients come back NCHW."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(channels, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 5))
    x = np.random.default_rng(0).uniform(0, 1, (6, channels, 8, 8)).astype(np.float32)
    y = np.arange(6) % 5
    results = {}
    for fmt in ("auto", "contiguous", "channels_last"):
        clf = PyTorchClassifier((0.0, 1.0), model, input_shape=(channels, 8, 8), nb_classes=5, memory_format=fmt)
        results[fmt] = (clf.predict(x, logits=True), clf.loss_gradient(x, y), clf.class_gradient(x, label=y),
                        clf.output_gradient(x, np.eye(5, dtype=np.float32)[y])[1])
        assert all(r.flags["C_CONTIGUOUS"] for r in results[fmt])
    for fmt in ("auto", "channels_last"):
        for a, b in zip(results[fmt], results["contiguous"]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    with pytest.raises(InvalidParameterError, match=r"memory_format.*Got 'nhwc'"):
        PyTorchClassifier((0.0, 1.0), model, input_shape=(channels, 8, 8), nb_classes=5, memory_format="nhwc")


def test_the_fallback_output_gradient_matches_the_native_one():
    """feint.testing.without_native_output_gradient works on torch: class gradients keep their own loop."""
    from feint.testing import without_native_output_gradient

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 8), torch.nn.Tanh(), torch.nn.Linear(8, 4))
    clf = PyTorchClassifier((0.0, 1.0), model, input_shape=(12,), nb_classes=4)
    slow = without_native_output_gradient(clf)
    assert clf.native_output_gradient and not slow.native_output_gradient
    x = np.random.default_rng(0).uniform(0, 1, (5, 12)).astype(np.float32)
    w = np.random.default_rng(1).normal(size=(5, 2, 4)).astype(np.float32)
    for logits in (False, True):
        for a, b in zip(slow.output_gradient(x, w, logits=logits), clf.output_gradient(x, w, logits=logits)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


class _ItemInBackward(torch.autograd.Function):
    """Doubles its input; its backward reads a Python number, which vmap cannot batch."""

    @staticmethod
    def forward(ctx, x):
        return 2 * x

    @staticmethod
    def backward(ctx, g):
        if float(g.abs().sum().item()) < 0:      # never true: only the .item() matters
            raise AssertionError
        return 2 * g


class _Doubling(torch.nn.Module):
    def forward(self, x):
        return _ItemInBackward.apply(x)


def test_small_batches_take_their_class_gradients_in_one_vmapped_backward():
    """Few samples, several classes: one batched backward, equal to the per-class loop; a model
    vmap cannot batch falls back to the loop for good."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 8), torch.nn.Tanh(), torch.nn.Linear(8, 4))
    x = np.random.default_rng(0).uniform(0, 1, (5, 12)).astype(np.float32)
    clf = PyTorchClassifier((0.0, 1.0), model, input_shape=(12,), nb_classes=4)
    loop = PyTorchClassifier((0.0, 1.0), model, input_shape=(12,), nb_classes=4)
    loop.batched_vjp_max = 0
    for logits in (False, True):
        np.testing.assert_allclose(clf.class_gradient(x, logits=logits), loop.class_gradient(x, logits=logits),
                                   rtol=1e-5, atol=1e-6)
    assert clf._batched_vjp is True and loop._batched_vjp is None
    assert clf.counts.backward_samples == 2 * 5 * 4                  # still m backward passes per sample

    odd = torch.nn.Sequential(_Doubling(), torch.nn.Flatten(), torch.nn.Linear(12, 4))
    clf_odd = PyTorchClassifier((0.0, 1.0), odd, input_shape=(12,), nb_classes=4)
    ref = PyTorchClassifier((0.0, 1.0), odd, input_shape=(12,), nb_classes=4)
    ref.batched_vjp_max = 0
    np.testing.assert_allclose(clf_odd.class_gradient(x), ref.class_gradient(x), rtol=1e-5, atol=1e-6)
    assert clf_odd._batched_vjp is False
