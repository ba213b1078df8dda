import pytest

import feint
from feint.testing import check_metric, trained_reference


def test_contract():
    clf, x, y = trained_reference("mlp")
    x, y = x[:20], y[:20]
    adv = feint.create("attack", "fgsm(eps=0.3)", clf).generate(x)
    assert 0 <= check_metric(feint.create("metric", "success_rate"), clf, x, x_adv=adv, y=y) <= 1
    assert 0 <= check_metric(feint.create("metric", "robust_accuracy(attack='fgsm(eps=0.3)')"), clf, x, y=y) <= 1
    assert check_metric(feint.create("metric", "perturbation_norm(norm=inf, statistic='max')"), clf, x,
                        x_adv=adv) == pytest.approx(0.3, abs=1e-6)
    assert check_metric(feint.create("metric", "rho2"), clf, x) > 0
