"""Cross-framework equivalence: one small CNN, the same weights, equal outputs and gradients.

The CNN (conv 3x3 -> relu -> max-pool 2 -> dense 10) is built channels-last in Keras on each
backend (by the backend workers, see ``conftest.py``) and channels-first in PyTorch here, with
the weights copied across (conv kernels HWIO -> OIHW, the dense matrix re-ordered for the other
flattening order).  Predictions, logits, ``loss_gradient`` and ``class_gradient`` must agree to
1e-5 in float32 after transposing PyTorch's NCHW layout to NHWC.  TensorFlowClassifier and
TFClassifier are held to the same PyTorch reference in the tensorflow plugin's tests.
"""

from __future__ import annotations

import numpy as np
import pytest

BACKENDS = ("tensorflow", "torch", "jax")
ATOL = 1e-5
KEYS = ("probs", "logits", "loss_grad", "cg_logits", "cg_probs", "cg_select")


def torch_outputs(job_file) -> dict[str, np.ndarray]:
    """The PyTorchClassifier's outputs on the shared CNN, moved to channels-last layout."""
    torch = pytest.importorskip("torch")
    from feint_framework_torch.classifier import PyTorchClassifier

    data = np.load(job_file)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                torch.nn.Linear(36, 10))
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(data["k"].transpose(3, 2, 0, 1)))
        model[0].bias.copy_(torch.from_numpy(data["b"]))
        # Keras flattens (h, w, c); torch flattens (c, h, w)
        model[4].weight.copy_(torch.from_numpy(data["w"].reshape(3, 3, 4, 10).transpose(3, 2, 0, 1).reshape(10, 36)))
        model[4].bias.copy_(torch.from_numpy(data["c"]))
    clf = PyTorchClassifier((0.0, 1.0), model, input_shape=(1, 8, 8), nb_classes=10)
    x, y, labels = data["x"].transpose(0, 3, 1, 2), data["y"], data["labels"]
    out = {"probs": clf.predict(x), "logits": clf.predict(x, logits=True), "loss_grad": clf.loss_gradient(x, y),
           "cg_logits": clf.class_gradient(x, logits=True), "cg_probs": clf.class_gradient(x),
           "cg_select": clf.class_gradient(x, label=labels)}
    return {k: (v if v.ndim == 2 else np.moveaxis(v, -3, -1)) for k, v in out.items()}


@pytest.fixture(scope="module")
def reference(keras_job):
    return torch_outputs(keras_job / "job.npz")


def _outputs_of(keras_runs, backend, name):
    if backend not in keras_runs:
        pytest.skip(f"the {backend} backend is not installed")
    outputs = {k.split("/", 1)[1]: v for k, v in keras_runs[backend]["outputs"].items()
               if k.split("/", 1)[0] == name}
    assert outputs, f"the {backend} worker wrote no outputs for {name}:\n{keras_runs[backend]['log']}"
    return outputs


@pytest.mark.parametrize("backend", BACKENDS)
def test_keras_logits_model_equals_pytorch(keras_runs, reference, backend):
    got = _outputs_of(keras_runs, backend, f"keras_{backend}")
    for key in KEYS:
        assert got[key].dtype == np.float32, key
        np.testing.assert_allclose(got[key], reference[key], rtol=0, atol=ATOL, err_msg=f"{key} ({backend})")


@pytest.mark.parametrize("backend", BACKENDS)
def test_keras_probability_model_equals_pytorch(keras_runs, reference, backend):
    """use_logits=False: the log-probabilities stand in for the logits (see KerasClassifier)."""
    got = _outputs_of(keras_runs, backend, f"keras_softmax_{backend}")
    p, z, gz = reference["probs"], reference["logits"], reference["cg_logits"]
    log_p = z - np.log(np.exp(z - z.max(1, keepdims=True)).sum(1, keepdims=True)) - z.max(1, keepdims=True)
    expect = {**reference, "logits": log_p,
              # d log p_k = dz_k - sum_j p_j dz_j
              "cg_logits": gz - np.einsum("nj,nj...->n...", p, gz)[:, None]}
    for key in KEYS:
        np.testing.assert_allclose(got[key], expect[key], rtol=0, atol=ATOL, err_msg=f"{key} ({backend})")


def test_backends_agree_with_each_other(keras_runs):
    names = [b for b in BACKENDS if b in keras_runs and keras_runs[b]["outputs"]]
    if len(names) < 2:
        pytest.skip("fewer than two Keras backends ran")
    first = _outputs_of(keras_runs, names[0], f"keras_{names[0]}")
    for other in names[1:]:
        got = _outputs_of(keras_runs, other, f"keras_{other}")
        for key in KEYS:
            np.testing.assert_allclose(got[key], first[key], rtol=0, atol=ATOL, err_msg=f"{key}: {names[0]} vs {other}")
