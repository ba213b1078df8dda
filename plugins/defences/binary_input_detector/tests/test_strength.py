"""A PyTorch detector network learns to spot PGD examples against the digits CNN."""

import pytest

import feint


def test_detects_pgd_examples_on_held_out_inputs(digits):
    torch = pytest.importorskip("torch")
    if "pgd" not in feint.list("attack"):
        pytest.skip("attack plugin 'pgd' is not installed")
    from feint.datasets import load_digits
    from feint_framework_torch import PyTorchClassifier

    clf, x_te, y_te = digits
    (x_tr, y_tr), _ = load_digits(channels_first=True)
    attack = feint.create("attack", "pgd(eps=0.1, eps_step=0.02, max_iter=10, random_state=0)", clf, verbose=False)
    adv_tr = attack.generate(x_tr[:400], y_tr[:400])
    adv_te = attack.generate(x_te[:200], y_te[:200])

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(8 * 64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
    det_clf = PyTorchClassifier((0.0, 1.0), net, optimizer=torch.optim.Adam(net.parameters(), lr=3e-3),
                                input_shape=(1, 8, 8), nb_classes=2)
    det = feint.create("defence", "binary_input_detector", det_clf)
    det.fit(x_tr[:400], x_adv=adv_tr, nb_epochs=12, batch_size=64, random_state=0)
    assert det(adv_te).mean() >= 0.9
    assert det(x_te[:200]).mean() <= 0.1
