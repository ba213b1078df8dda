"""FGSM's strength on the cached digits CNN (inputs in [0, 1], 200 correctly classified inputs)."""

from feint_attack_fgsm import FastGradientMethod


def test_strength_on_digits(digits_correct):
    clf, x, y = digits_correct
    res = FastGradientMethod(clf, eps=0.2, verbose=False).run(x, y)
    assert res.success_rate >= 0.95, res.summary()
    assert res.norms["linf"].max() <= 0.2 + 1e-6
    # the minimal search (its grid ends at eps = 0.2) fools every input FGSM fools, with less
    minimal = FastGradientMethod(clf, minimal=True, eps_step=0.02, eps_max=0.2, verbose=False).run(x, y)
    assert (minimal.success >= res.success).all()
    assert minimal.mean_norm("linf") < res.mean_norm("linf")
