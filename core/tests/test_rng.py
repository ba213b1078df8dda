"""Per-sample random streams: pinned numbers, batch invariance, blocks, distributions."""

import numpy as np
import pytest

import feint.rng as rng_module
from feint.rng import SampleRandom


def test_numbers_are_pinned():
    """The streams are part of the results' reproducibility: a change here changes seeded outputs."""
    r = SampleRandom(1234, np.arange(3))
    np.testing.assert_allclose(r.uniform(0, 1, (2,), dtype=np.float64),
                               [[0.33042197, 0.06375166], [0.44010546, 0.88758488], [0.43378949, 0.03144248]],
                               atol=1e-8)
    np.testing.assert_allclose(r.normal(0, 1, (2,), dtype=np.float64),          # feint-core >= 0.3.0
                               [[0.12376997, 0.33213131], [-0.34333538, -1.21519885], [0.16995652, 1.15364687]],
                               atol=1e-8)
    np.testing.assert_array_equal(r.integers(0, 100, (3,)), [[56, 13, 64], [21, 66, 64], [52, 51, 38]])


def test_rows_do_not_depend_on_the_batch():
    """Sample i draws the same numbers alone, in a slice of the batch, or through a subset."""
    whole = SampleRandom(7, np.arange(10))
    part = SampleRandom(7, np.arange(4, 8))
    subset = SampleRandom(7, np.arange(10)).subset(np.arange(4, 8))
    for draw in (lambda r: r.normal(0, 1, (3, 5)), lambda r: r.uniform(-1, 1, (7,)), lambda r: r.integers(0, 9, (4,))):
        a, b, c = draw(whole)[4:8], draw(part), draw(subset)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_a_subset_advances_only_its_rows():
    r = SampleRandom(3, np.arange(6))
    first = SampleRandom(3, np.arange(6)).uniform(0, 1, (2,))
    r.subset(np.array([True, False, True, False, False, False])).uniform(0, 1, (2,))
    again = r.uniform(0, 1, (2,))
    np.testing.assert_array_equal(again[[1, 3, 4, 5]], first[[1, 3, 4, 5]])
    assert not np.any(again[[0, 2]] == first[[0, 2]])


def test_streams_made_on_first_use_give_the_same_numbers():
    """The keys are computed by the first draw or subset (feint-core 0.3.2); a subset of a subset
    taken before any draw shares the parent's counters all the same."""
    r = SampleRandom(5, np.arange(8))
    assert r._state is None and len(r) == 8
    inner = r.subset(np.arange(2, 7)).subset(np.array([0, 2]))          # samples 2 and 4
    a = inner.uniform(0, 1, (3,))
    np.testing.assert_array_equal(a, SampleRandom(5, np.arange(8)).uniform(0, 1, (3,))[[2, 4]])
    b = r.uniform(0, 1, (3,))                                            # 2 and 4 have moved on
    np.testing.assert_array_equal(b[[2, 4]], SampleRandom(5, np.arange(8)).uniform(0, 1, (6,))[[2, 4], 3:])


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 20])
def test_blocks_give_the_same_numbers(monkeypatch, block):
    reference = SampleRandom(11, np.arange(5))
    expected = [reference.normal(0, 1, (3, 50)), reference.uniform(0, 1, (130,)), reference.normal(2.0, 0.5, (9,))]
    monkeypatch.setattr(rng_module, "_BLOCK", block)
    r = SampleRandom(11, np.arange(5))
    got = [r.normal(0, 1, (3, 50)), r.uniform(0, 1, (130,)), r.normal(2.0, 0.5, (9,))]
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def test_distributions():
    r = SampleRandom(0, np.arange(200))
    z = r.normal(0, 1, (500,), dtype=np.float64)
    assert z.dtype == np.float64 and z.shape == (200, 500)
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01
    shifted = r.normal(3.0, 0.5, (500,))
    assert shifted.dtype == np.float32 and abs(shifted.mean() - 3.0) < 0.01 and abs(shifted.std() - 0.5) < 0.01
    u = r.uniform(-2, 1, (500,))
    assert u.min() >= -2 and u.max() < 1 and abs(u.mean() + 0.5) < 0.02
    e = r.standard_exponential((500,))
    assert e.min() >= 0 and abs(e.mean() - 1) < 0.02
    k = r.integers(3, 8, (500,))
    assert set(np.unique(k)) == {3, 4, 5, 6, 7}
    perm = r.permutation(9)
    assert np.all(np.sort(perm, axis=1) == np.arange(9))


def test_normals_come_in_pairs_and_precisions_agree():
    """Draw k gives normals 2k and 2k + 1 (cosine, sine); an odd count drops the last sine."""
    odd = SampleRandom(4, np.arange(6)).normal(0, 1, (7,))
    even = SampleRandom(4, np.arange(6)).normal(0, 1, (8,))
    np.testing.assert_array_equal(odd, even[:, :7])
    r = SampleRandom(4, np.arange(6))
    r.normal(0, 1, (3,))                                     # two draws
    np.testing.assert_array_equal(r.normal(0, 1, (2,)), even[:, 4:6])
    wide = SampleRandom(4, np.arange(6)).normal(0, 1, (8,), dtype=np.float64)
    assert wide.dtype == np.float64
    np.testing.assert_allclose(wide, even, atol=1e-4)
    assert not np.array_equal(wide, even.astype(np.float64))  # computed in float64, not cast


def test_normals_have_normal_tails_and_independent_pairs():
    pytest.importorskip("scipy")
    from scipy import stats

    z = SampleRandom(9, np.arange(400)).normal(0, 1, (2000,), dtype=np.float64)
    assert stats.kstest(z.ravel(), "norm").pvalue > 1e-3
    for k in (2.0, 3.0, 4.0):                                 # 800k draws: tail frequencies within 5 sigma
        p = 2 * stats.norm.sf(k)
        assert abs((np.abs(z) > k).mean() - p) < 5 * np.sqrt(p / z.size)
    assert abs(np.corrcoef(z[:, 0::2].ravel(), z[:, 1::2].ravel())[0, 1]) < 0.01
    assert np.all(np.isfinite(z))


def test_empty_draws():
    r = SampleRandom(0, np.arange(0))
    assert r.normal(0, 1, (4,)).shape == (0, 4)
    assert SampleRandom(0, np.arange(3)).normal(0, 1, (0,)).shape == (3, 0)


def test_the_seed_key_matches_the_vectorised_finaliser():
    for v in (0, 1, 12345, 2**63 + 7, 2**64 - 1):
        assert rng_module._splitmix64_int(v) == int(rng_module._splitmix64(np.array([v], dtype=np.uint64))[0])
