import feint
from feint.testing import check_metric, trained_reference


def test_contract():
    clf, x, _ = trained_reference("mlp")
    metric = feint.create("metric", "empirical_robustness(attack_name='fgsm', attack_params={'eps': 0.5})")
    value = check_metric(metric, clf, x[:20])
    assert value > 0
    assert feint.create("metric", str(metric)) == metric
