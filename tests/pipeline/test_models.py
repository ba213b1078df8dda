"""Model loaders: the built-in digits CNN, torch state dicts (weights_only), raw modules, Keras files."""

import textwrap

import numpy as np
import pytest

from feint.pipeline import ConfigError
from feint.pipeline.data import load_data
from feint.pipeline.models import load_classifier

torch = pytest.importorskip("torch")


def _model(**kw):
    return {"builtin": None, "loader": None, "path": None, "framework": None, "input_shape": None,
            "nb_classes": None, "loader_args": {}, "classifier_args": {}, **kw}


def test_builtin_digits_cnn_and_its_data(digits):
    clf, info = load_classifier(_model(builtin="digits_cnn"), None, None)
    assert info["framework"] == "torch" and clf.input_shape == (1, 8, 8)
    x, y, data = load_data({"source": "digits", "split": "test", "x_key": "x", "y_key": "y"}, clf, 50, None)
    assert x.shape == (50, 1, 8, 8) and data["n"] == 50
    np.testing.assert_array_equal(x, digits[1][:50])
    assert (clf.predict(x).argmax(1) == y).mean() > 0.9


def test_state_dict_into_the_builtin_architecture(tmp_path, digits):
    clf0 = digits[0]
    state = {k: torch.zeros_like(v) for k, v in clf0.model.state_dict().items()}
    torch.save(state, tmp_path / "zeros.pt")
    clf, info = load_classifier(_model(builtin="digits_cnn", path=str(tmp_path / "zeros.pt")), None, None)
    assert "zeros.pt" in info["source"]
    x = digits[1][:4]
    assert np.allclose(clf.predict(x, logits=True), 0.0)
    # the cached fixture model is a different object and is not touched
    assert not np.allclose(clf0.predict(x, logits=True), 0.0)


def test_pickled_module_is_refused_with_weights_only(tmp_path):
    torch.save(torch.nn.Linear(64, 10), tmp_path / "module.pt")
    with pytest.raises(ConfigError, match=r"weights_only=True\) refused it .*Save model.state_dict\(\)"):
        load_classifier(_model(builtin="digits_cnn", path=str(tmp_path / "module.pt")), None, None)


def test_loader_returning_a_raw_module(tmp_path, monkeypatch):
    (tmp_path / "feint_raw_module.py").write_text(textwrap.dedent('''
        import torch

        def build(hidden=16):
            torch.manual_seed(0)
            return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, 10))
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = _model(loader="feint_raw_module:build", loader_args={"hidden": 8}, input_shape=[1, 8, 8], nb_classes=10)
    clf, info = load_classifier(cfg, [0.0, 1.0], None)
    assert type(clf).__name__ == "PyTorchClassifier" and clf.nb_classes == 10
    clf2, _ = load_classifier({**cfg, "framework": "torch"}, [0.0, 1.0], None)
    assert clf2.clip_values == (0.0, 1.0)
    with pytest.raises(ConfigError, match="clip_values: required for a raw model"):
        load_classifier(cfg, None, None)
    with pytest.raises(ConfigError, match="input_shape"):
        load_classifier({**cfg, "input_shape": None}, [0.0, 1.0], None)


@pytest.mark.slow
def test_keras_file(tmp_path):
    import feint

    if "keras" not in feint.list("framework"):
        pytest.skip("the Keras framework plugin (feint-framework-keras) is not installed")
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)])
    model.save(tmp_path / "m.keras")
    cfg = _model(path=str(tmp_path / "m.keras"), classifier_args={"use_logits": True})
    clf, info = load_classifier(cfg, [0.0, 1.0], None)
    assert clf.nb_classes == 3 and info["source"] == "file m.keras"
    x = np.random.default_rng(0).uniform(0, 1, (5, 8)).astype(np.float32)
    np.testing.assert_allclose(clf.predict(x, logits=True), model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
