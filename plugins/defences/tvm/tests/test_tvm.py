"""The reconstruction problem (closed-form limits, optimality), randomness, EOT and strength."""

import numpy as np
import pytest

from feint.errors import InvalidInputError, InvalidParameterError
from feint.testing import SoftmaxRegression
from feint_defence_tvm import TotalVarMin
from feint_defence_tvm._solver import tv_objective, tv_reconstruct


def problems(p=6, h=8, w=7, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((p, h, w))
    return x, rng.random((p, h, w)) < 0.5


def test_all_pixels_kept_and_no_tv_weight_is_the_identity():
    x, _ = problems()
    np.testing.assert_allclose(tv_reconstruct(x, np.ones_like(x, bool), lamb=0.0, max_iter=50), x, atol=1e-12)


@pytest.mark.parametrize("norm", [1, 2])
def test_heavy_tv_weight_gives_the_mean_of_the_kept_pixels(norm):
    # TV dominates: z is constant c, and c minimises ||m (c - x)||_2: the mean of the kept pixels
    x, m = problems(h=5, w=5)
    z = tv_reconstruct(x, m, lamb=5.0, norm=norm, max_iter=3000, tol=1e-9)
    means = np.array([xi[mi].mean() for xi, mi in zip(x, m)])
    np.testing.assert_allclose(z, np.broadcast_to(means[:, None, None], z.shape), atol=2e-3)


@pytest.mark.parametrize("norm", [1, 2])
def test_solution_is_a_minimiser(norm):
    x, m = problems(p=4)
    z = tv_reconstruct(x, m, lamb=0.1, norm=norm, max_iter=3000, tol=1e-10)
    f = tv_objective(z, x, m, 0.1, norm)
    assert np.all(f <= tv_objective(x, x, m, 0.1, norm))
    rng = np.random.default_rng(1)
    for _ in range(20):                      # convex problem: no random nearby point does better
        for scale in (1e-2, 1e-3):
            assert np.all(f <= tv_objective(z + scale * rng.standard_normal(z.shape), x, m, 0.1, norm) + 1e-9)


def test_problems_are_independent_of_the_batch():
    x, m = problems(p=8)
    whole = tv_reconstruct(x, m, lamb=0.05, max_iter=80)
    np.testing.assert_array_equal(whole[3:5], tv_reconstruct(x[3:5], m[3:5], lamb=0.05, max_iter=80))


def test_dropped_pixels_are_inpainted_and_kept_ones_stay_close():
    x = np.tile(np.linspace(0, 1, 8), (8, 1))[None]             # a smooth ramp
    m = np.random.default_rng(0).random(x.shape) < 0.5
    z = tv_reconstruct(x, m, lamb=0.01, max_iter=2000, tol=1e-9)
    assert np.abs(z - x).max() < 0.1


def test_seeds_and_fresh_masks_each_call():
    x = np.random.default_rng(0).random((4, 1, 8, 8)).astype(np.float32)
    a, b = TotalVarMin(random_state=3), TotalVarMin(random_state=3)
    first = a(x)
    np.testing.assert_array_equal(first, b(x))
    assert not np.array_equal(a(x), first)
    assert first.min() >= 0 and first.max() <= 1 and first.dtype == np.float32


def test_range_invariance():
    x = np.random.default_rng(0).random((3, 8, 8)).astype(np.float32)
    unit = TotalVarMin(random_state=0)(x)
    other = TotalVarMin(clip_values=(-2.0, 6.0), random_state=0)(x * 8 - 2)
    np.testing.assert_allclose(other, unit * 8 - 2, atol=1e-4)


def test_errors():
    with pytest.raises(InvalidParameterError, match=r"'prob' parameter of TotalVarMin must be a float in the range "
                                                    r"\(0, 1\]\. Got 0 instead"):
        TotalVarMin(prob=0)
    with pytest.raises(InvalidParameterError, match="'norm'"):
        TotalVarMin(norm=3)
    with pytest.raises(InvalidInputError, match="channel_index"):
        TotalVarMin()(np.zeros((2, 8, 8, 8)))


def test_eot_averages_fresh_draws_in_gradients():
    clf = SoftmaxRegression((1, 6, 6), 3, defences="tvm(random_state=0)", eot_samples=4)
    clf.W = np.random.default_rng(0).normal(size=clf.W.shape).astype(np.float32)
    (tv,) = clf.preprocessors
    assert tv.randomised and clf._eot_draws() == 4
    x = np.random.default_rng(1).random((2, 1, 6, 6)).astype(np.float32)
    g4 = clf.loss_gradient(x, [0, 1])
    clf1 = SoftmaxRegression((1, 6, 6), 3, defences="tvm(random_state=0)")
    clf1.W = clf.W
    g1 = clf1.loss_gradient(x, [0, 1])
    assert g4.shape == x.shape and not np.allclose(g4, g1)


def test_strength_on_the_digits_cnn(digits):
    """Non-adaptive minimal FGSM examples mostly fail once TVM reconstructs the input."""
    import feint

    clf, x, y = digits
    defended = clf.with_defences("tvm(prob=0.8, lamb=0.1, random_state=0)")
    assert (defended.predict(x).argmax(1) == y).mean() > 0.9
    ok = (clf.predict(x).argmax(1) == y) & (defended.predict(x).argmax(1) == y)
    xs, ys = x[ok][:100], y[ok][:100]
    adv = feint.create("attack", "fgsm(minimal=True, eps_step=0.01, eps_max=0.5)", clf, verbose=False).generate(xs, ys)
    assert (clf.predict(adv).argmax(1) != ys).mean() > 0.95
    assert (defended.predict(adv).argmax(1) != ys).mean() < 0.75
