"""Shadow attack: the penalties and their gradients, layouts, and smooth successful attacks on digits."""

import copy

import numpy as np
import pytest

from feint.errors import InvalidInputError
from feint.testing import trained_reference
from feint_attack_shadow import ShadowAttack
from feint_attack_shadow._functional import colour_penalty, dissimilarity_penalty, total_variation


@pytest.mark.parametrize("penalty", [total_variation, colour_penalty, dissimilarity_penalty])
def test_penalty_gradients_match_finite_differences(penalty):
    rng = np.random.default_rng(0)
    d = rng.normal(0, 0.3, (2, 3, 4, 5))
    value, grad = penalty(d)
    numeric = np.zeros_like(d)
    h = 1e-6
    for idx in np.ndindex(d.shape[1:]):
        e = np.zeros_like(d)
        e[(slice(None), *idx)] = h
        numeric[(slice(None), *idx)] = (penalty(d + e)[0] - penalty(d - e)[0]) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)
    assert value.shape == (2,)


def test_penalties_on_hand_computed_cases():
    flat = np.full((1, 3, 4, 4), 0.2)
    assert total_variation(flat)[0][0] == 0                       # constant: no variation
    assert dissimilarity_penalty(flat)[0][0] == 0                 # same change in every channel
    np.testing.assert_allclose(colour_penalty(flat)[0], [3 * 0.2**2])
    ramp = np.zeros((1, 1, 2, 3))
    ramp[0, 0, :, 2] = 1.0                                        # two horizontal jumps of 1
    np.testing.assert_allclose(total_variation(ramp)[0], [2.0])
    assert dissimilarity_penalty(ramp)[0][0] == 0                 # grey image


def test_penalties_shape_the_perturbation(colour_model):
    clf, x, _ = colour_model
    x = x[:20]
    common = {"sigma": 0.0, "nb_steps": 40, "random_state": 0}

    def delta(**kw):
        return ShadowAttack(clf, **{**common, **kw}).generate(x) - x

    none = delta(lambda_tv=0.0, lambda_c=0.0, lambda_s=0.0)
    assert dissimilarity_penalty(delta(lambda_tv=0.0, lambda_c=0.0, lambda_s=2.0))[0].mean() < \
        0.5 * dissimilarity_penalty(none)[0].mean()
    assert colour_penalty(delta(lambda_tv=0.0, lambda_c=20.0, lambda_s=0.0))[0].mean() < \
        0.5 * colour_penalty(none)[0].mean()
    assert total_variation(delta(lambda_tv=0.3, lambda_c=0.0, lambda_s=0.0))[0].mean() < \
        0.5 * total_variation(none)[0].mean()


def test_channels_last_gives_the_transposed_result(colour_model):
    clf, x, y = colour_model
    # the same network reading (n, H, W, C) inputs: permute the rows of the first layer
    last = copy.copy(clf)
    last.input_shape, last.channel_index = (6, 6, 3), 3
    nchw_index = np.arange(3 * 6 * 6).reshape(3, 6, 6).transpose(1, 2, 0).reshape(-1)
    last.W1 = clf.W1[nchw_index]
    x_last = x[:6].transpose(0, 2, 3, 1).copy()
    np.testing.assert_allclose(last.predict(x_last), clf.predict(x[:6]), rtol=1e-5)
    params = {"sigma": 0.1, "sample_size": 2, "nb_steps": 10, "random_state": 0}
    first = ShadowAttack(clf, **params).generate(x[:6])
    second = ShadowAttack(last, **params).generate(x_last)
    np.testing.assert_allclose(second, first.transpose(0, 2, 3, 1), atol=1e-5)


def test_single_image_equals_its_row_of_a_batch(colour_model):
    clf, x, _ = colour_model
    atk = ShadowAttack(clf, sigma=0.1, sample_size=2, nb_steps=5, random_state=3)
    np.testing.assert_allclose(atk.generate(x[:1]), atk.generate(x[:6])[:1], atol=1e-6)


def test_rejects_non_image_inputs():
    clf, _, _ = trained_reference("mlp")  # flat feature vectors
    with pytest.raises(InvalidInputError, match="images"):
        ShadowAttack(clf)


def test_smooth_successful_perturbations_on_digits(digits_correct):
    clf, x, y = digits_correct
    x, y = x[:50], y[:50]
    params = {"sigma": 0.25, "sample_size": 4, "nb_steps": 50, "random_state": 0, "verbose": False}
    smooth = ShadowAttack(clf, **params).run(x, y)
    rough = ShadowAttack(clf, lambda_tv=0.0, **params).run(x, y)
    assert smooth.success_rate >= 0.9
    tv_smooth = total_variation(smooth.x_adv - x)[0].mean()
    tv_rough = total_variation(rough.x_adv - x)[0].mean()
    assert tv_smooth < 0.75 * tv_rough
    assert np.all((smooth.x_adv >= 0) & (smooth.x_adv <= 1))


def test_grey_images_without_channel_axis():
    from feint.testing import SoftmaxRegression

    clf = SoftmaxRegression((6, 6), 3, random_state=0)
    clf.W = np.random.default_rng(0).normal(0, 1, clf.W.shape).astype(np.float32)
    x = np.random.default_rng(1).uniform(0.2, 0.8, (5, 6, 6)).astype(np.float32)
    out = ShadowAttack(clf, sigma=0.0, nb_steps=10, random_state=0).generate(x)
    assert out.shape == x.shape and out.dtype == np.float32
    assert not np.array_equal(out, x)
