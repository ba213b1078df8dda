import feint
from feint.testing import check_metric, trained_reference


def test_contract():
    clf, x, _ = trained_reference("mlp")
    for spec in ("loss_sensitivity", "loss_sensitivity(gradient='loss')"):
        assert check_metric(feint.create("metric", spec), clf, x[:10]) > 0
