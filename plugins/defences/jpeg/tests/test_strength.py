"""Honest evaluation on the digits CNN: spatial smoothing + JPEG against non-adaptive and BPDA attacks.

Examples crafted on the undefended model mostly stop working once the defended classifier smooths
and re-encodes them; the same attack run against the defended classifier itself (gradients pass
straight through smoothing and JPEG, BPDA) gets most of its success back.  A defence evaluated
only non-adaptively would look far stronger than it is: this test keeps the difference visible.
"""

import pytest

import feint

ATTACKS = {
    "deepfool": "deepfool",
    "carlini_l2": "carlini_l2(targeted=False, confidence=0.0, learning_rate=0.1, binary_search_steps=3, "
                  "max_iter=50, initial_const=1.0)",
}


@pytest.fixture(scope="module")
def setting(digits):
    pytest.importorskip("feint_defence_spatial_smoothing")
    clf, x, y = digits
    defended = clf.with_defences("smooth+jpeg(quality=75)")
    ok = (clf.predict(x).argmax(1) == y) & (defended.predict(x).argmax(1) == y)
    return clf, defended, x[ok][:50], y[ok][:50]


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_non_adaptive_drops_and_bpda_recovers(setting, name):
    if name not in feint.list("attack"):
        pytest.skip(f"attack plugin {name!r} is not installed")
    clf, defended, x, y = setting
    assert [type(p).__name__ for p in defended.preprocessors] == ["SpatialSmoothing", "JpegCompression"]
    x_non = feint.create("attack", ATTACKS[name], clf.without_defences(), verbose=False).generate(x, y)
    on_plain = (clf.predict(x_non).argmax(1) != y).mean()
    non_adaptive = (defended.predict(x_non).argmax(1) != y).mean()
    x_bpda = feint.create("attack", ATTACKS[name], defended, verbose=False).generate(x, y)
    adaptive = (defended.predict(x_bpda).argmax(1) != y).mean()
    assert on_plain > 0.95                      # the attack works on the model it was crafted on
    assert non_adaptive < 0.65                  # ... and mostly stops working through the defence
    assert adaptive > 0.8                       # BPDA gets most of it back
    assert adaptive - non_adaptive > 0.3, (non_adaptive, adaptive)
