"""PyTorchClassifier against the contract kit, on the digits CNN and a float64 copy."""

import copy

import numpy as np
import pytest
import torch

import feint
from feint.errors import InvalidInputError, InvalidParameterError
from feint.testing import check_classifier
from feint_framework_torch.classifier import PyTorchClassifier
from feint_framework_torch.testing import DigitsCNN


def test_contract_on_digits_cnn(digits):
    clf, x, y = digits
    check_classifier(clf, x[:32], y[:32])


def test_gradients_match_finite_differences_in_float64(digits):
    clf, x, y = digits
    model64 = copy.deepcopy(clf.model).double()

    class F64(PyTorchClassifier):
        def _tensor(self, xx, grad=False):
            return torch.from_numpy(np.ascontiguousarray(xx, dtype=np.float64)).requires_grad_(grad)

    c64 = F64((0.0, 1.0), model64, input_shape=(1, 8, 8), nb_classes=10)
    c64.dtype = "float64"
    # jitter the flat (all-zero) regions: ties in max-pooling are points where the network is not
    # differentiable, and finite differences across them disagree with any gradient
    xj = np.clip(x[:8] + np.random.default_rng(0).uniform(0.0, 0.05, x[:8].shape), 0, 1)
    check_classifier(c64, xj, y[:8], fd_tol=1e-4)


def test_mode_restored_and_fit_trains():
    torch.manual_seed(0)
    model = DigitsCNN()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    clf = PyTorchClassifier((0, 1), model, torch.nn.CrossEntropyLoss(), opt, (1, 8, 8), 10)
    (xtr, ytr), (xte, yte) = feint.datasets.load_digits()
    clf.predict(xte[:4])
    assert model.training
    model.eval()
    first = clf.train_on_batch(xtr[:128], ytr[:128])
    assert not model.training
    clf.fit(xtr, ytr, batch_size=64, nb_epochs=8, random_state=0)
    assert (clf.predict(xte).argmax(1) == yte).mean() > 0.9
    assert clf.train_on_batch(xtr[:128], ytr[:128]) < first


def test_paper_output_shape_and_errors():
    model = DigitsCNN()
    clf = PyTorchClassifier((0, 1), model, None, None, (1, 8, 8), output_shape=(10,))
    assert clf.nb_classes == 10
    with pytest.raises(InvalidParameterError, match="torch.nn.Module"):
        PyTorchClassifier((0, 1), "not a model", input_shape=(1, 8, 8), nb_classes=10)
    with pytest.raises(InvalidParameterError, match="input_shape"):
        PyTorchClassifier((0, 1), model)
    with pytest.raises(InvalidInputError, match="channel_index=1"):
        clf.predict(np.zeros((2, 8, 8, 1), np.float32))
    with pytest.raises(InvalidParameterError, match="optimizer"):
        clf.train_on_batch(np.zeros((2, 1, 8, 8), np.float32), [0, 1])


def test_adapt_hook_wraps_raw_modules():
    clf = feint.classifier(DigitsCNN(), clip_values=(0, 1), input_shape=(1, 8, 8), nb_classes=10)
    assert isinstance(clf, PyTorchClassifier)
    from feint.classifiers import PyTorchClassifier as Facade

    assert Facade is PyTorchClassifier
