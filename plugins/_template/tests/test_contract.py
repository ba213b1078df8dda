from feint.testing import check_attack, trained_reference
from feint_KIND_NAME import ClassName


def test_contract():
    clf, x, _ = trained_reference("mlp")
    check_attack(ClassName(clf), x[:24])
