"""fnn.random and the threefry2x32 primitive: known answers, JAX-compatible values,
pinned values, distributions, independence of split keys, jit/vmap invariance."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.stats as st
from hypothesis import given, settings
from hypothesis import strategies as hs

import fnn
import fnn.numpy as fnp
import fnn.random as jr
from fnn.core import FnnTypeError
from fnn.lax.random_bits import random_argsort, threefry2x32

U32 = np.uint32
N = 20_000  # draws for the distribution tests (fixed keys: the tests are deterministic)


@pytest.fixture(autouse=True)
def _reset_x64():
    yield
    fnn.config.update("enable_x64", False)


@pytest.fixture
def x64():
    fnn.config.update("enable_x64", True)
    yield
    fnn.config.update("enable_x64", False)


def _np(x):
    return np.asarray(x)


# ---- the threefry2x32 primitive ------------------------------------------------------------

# Random123's known-answer vectors for threefry2x32 with 20 rounds: (key, counter, output).
KAT = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6B200159, 0x99BA4EFE)),
    ((0xFFFFFFFF, 0xFFFFFFFF), (0xFFFFFFFF, 0xFFFFFFFF), (0x1CB996FC, 0xBB002BE7)),
    ((0x13198A2E, 0x03707344), (0x243F6A88, 0x85A308D3), (0xC4923A9C, 0x483DF7A0)),
]


@pytest.mark.parametrize(("key", "ctr", "want"), KAT)
def test_threefry_known_answers(key, ctr, want):
    out = threefry2x32(U32(key[0]), U32(key[1]), U32(ctr[0]), U32(ctr[1]))
    assert [int(w) for w in out] == list(want)
    assert all(o.dtype == U32 and o.shape == () for o in out)


def test_threefry_vectorized_and_broadcast():
    # JAX's original split of PRNGKey(0) encrypts counters (0, 2) and (1, 3).
    o0, o1 = threefry2x32(U32(0), U32(0), U32([0, 1]), U32([2, 3]))
    assert _np(o0).tolist() == [4146024105, 967050713]
    assert _np(o1).tolist() == [2718843009, 1272950319]
    # Every element equals the scalar computation; shapes broadcast.
    x1 = np.arange(6, dtype=U32).reshape(2, 3)
    b0, b1 = threefry2x32(U32([5, 6]).reshape(2, 1), U32(7), U32(9), x1)
    assert b0.shape == b1.shape == (2, 3)
    for i, j in np.ndindex(2, 3):
        s0, s1 = threefry2x32(U32(5 + i), U32(7), U32(9), U32(x1[i, j]))
        assert (int(b0[i, j]), int(b1[i, j])) == (int(s0), int(s1))


def test_threefry_rejects_non_uint32():
    with pytest.raises(FnnTypeError, match="uint32"):
        threefry2x32(np.int32(0), U32(0), U32(0), U32(0))


def test_threefry_under_transforms():
    ks = U32([[1, 2], [3, 4], [5, 6]])

    def f(k):
        return threefry2x32(k[0], k[1], U32(0), np.arange(4, dtype=U32))

    loop = [np.stack([_np(o) for o in f(k)]) for k in ks]
    batched = fnn.vmap(f)(fnp.asarray(ks))
    assert np.array_equal(np.stack(batched, 1), np.stack(loop))
    assert all(np.array_equal(_np(a), _np(b)) for a, b in zip(fnn.jit(f)(ks[0]), f(ks[0])))
    # Integer outputs: a zero derivative, not an error.
    key = jr.key(0)
    outs, tangents = fnn.jvp(f, (key,), (key,))
    assert [_np(t).tolist() for t in tangents] == [[0] * 4, [0] * 4]
    _, t = fnn.jvp(lambda k: jr.normal(k, (2,)), (key,), (key,))
    assert _np(t).tolist() == [0.0, 0.0]


def test_random_argsort_is_stable_and_batches():
    x = U32([[3, 1, 3, 0], [2, 2, 2, 2]])
    assert _np(random_argsort(x, -1)).tolist() == [[3, 1, 0, 2], [0, 1, 2, 3]]
    assert np.array_equal(_np(fnn.vmap(random_argsort)(x)), _np(random_argsort(x, 1)))
    assert np.array_equal(_np(fnn.vmap(random_argsort, in_axes=1)(x)).T, _np(random_argsort(x, 0)))


# ---- keys ------------------------------------------------------------------------------


def test_key_splits_the_seed_into_high_and_low_words():
    assert _np(jr.key(0)).tolist() == [0, 0]
    assert _np(jr.PRNGKey(42)).tolist() == [0, 42]
    assert _np(jr.key(2**32 + 7)).tolist() == [1, 7]
    assert _np(jr.key(-1)).tolist() == [2**32 - 1, 2**32 - 1]
    assert jr.key(0).dtype == U32 and jr.key(0).shape == (2,)


@given(hs.integers(-(2**63), 2**64 - 1))
@settings(max_examples=50, deadline=None)
def test_key_of_any_int_is_its_low_64_bits(seed):
    s = seed % 2**64
    assert _np(jr.key(seed)).tolist() == [s >> 32, s & 0xFFFFFFFF]


def test_key_from_arrays_matches_python_ints():
    for s in (0, 5, -1, -(2**31)):
        assert np.array_equal(_np(jr.key(fnp.asarray(np.int32(s)))), _np(jr.key(s)))
    seeds = fnp.arange(-2, 3)
    assert np.array_equal(
        _np(fnn.vmap(jr.key)(seeds)), np.stack([_np(jr.key(s)) for s in range(-2, 3)])
    )
    assert np.array_equal(_np(fnn.jit(jr.key)(fnp.asarray(7))), _np(jr.key(7)))
    with pytest.raises(FnnTypeError, match="integer scalar"):
        jr.key(1.5)


def test_jax_compatible_values():
    # jax.random.split(jax.random.key(0), 8) (threefry, partitionable: JAX's default).
    want = [
        [1797259609, 2579123966],
        [928981903, 3453687069],
        [4146024105, 2718843009],
        [2467461003, 3840466878],
        [2285895361, 433833334],
        [1524306142, 1887795613],
        [3792494674, 2909014575],
        [2716826189, 292468403],
    ]
    assert _np(jr.split(jr.key(0), 8)).tolist() == want
    assert _np(jr.split(jr.key(0))).tolist() == want[:2]
    # jax.random.bits(key(0), (3,)) and jax.random.uniform(key(0), (4,)).
    assert _np(jr.bits(jr.key(0), (3,))).tolist() == [4070199207, 4202968722, 1427181096]
    u = _np(jr.uniform(jr.key(0), (4,)))
    assert u.dtype == np.float32
    assert (
        u.tolist() == np.float32([0.9476670027, 0.9785798788, 0.3322914839, 0.4686684608]).tolist()
    )


def test_pinned_values():
    k = jr.key(0)
    np.testing.assert_allclose(
        _np(jr.normal(k, (4,))), [1.622642, 2.0252647, -0.43359438, -0.07861735], rtol=1e-5
    )
    assert _np(jr.randint(k, (8,), 0, 16)).tolist() == [5, 0, 8, 13, 3, 3, 0, 15]
    assert _np(jr.permutation(k, 10)).tolist() == [0, 1, 8, 5, 6, 4, 3, 2, 7, 9]
    assert _np(jr.bernoulli(k, 0.3, (8,))).tolist() == [0, 0, 0, 0, 0, 1, 0, 0]
    assert _np(jr.fold_in(k, 1)).tolist() == [928981903, 3453687069]
    assert _np(jr.key(123)).tolist() == [0, 123]


def test_split_shapes_and_fold_in():
    k = jr.key(1)
    assert jr.split(k, 5).shape == (5, 2)
    assert jr.split(k, (2, 3)).shape == (2, 3, 2)
    assert np.array_equal(_np(jr.split(k, (2, 3))).reshape(6, 2), _np(jr.split(k, 6)))
    folded = {tuple(_np(jr.fold_in(k, d)).tolist()) for d in range(100)}
    assert len(folded) == 100
    assert np.array_equal(_np(jr.fold_in(k, 2**32 + 3)), _np(jr.fold_in(k, 3)))
    assert np.array_equal(_np(jr.fold_in(k, fnp.asarray(3))), _np(jr.fold_in(k, 3)))
    with pytest.raises(FnnTypeError, match="integer scalar"):
        jr.fold_in(k, fnp.arange(2))


def test_bits_dtypes(x64):
    k = jr.key(3)
    b32 = _np(jr.bits(k, (5,)))
    assert jr.bits(k, (5,), np.uint8).dtype == np.uint8
    assert np.array_equal(_np(jr.bits(k, (5,), np.uint16)), (b32 & 0xFFFF).astype(np.uint16))
    assert jr.bits(k, (5,), np.uint64).dtype == np.uint64
    with pytest.raises(FnnTypeError, match="unsigned"):
        jr.bits(k, (2,), np.int32)


# ---- errors ------------------------------------------------------------------------------


def test_bad_keys_are_named():
    with pytest.raises(
        FnnTypeError, match=r"expected a key: a uint32 array of shape \(2,\), got f32\[3\]"
    ):
        jr.normal(fnp.zeros(3), (2,))
    with pytest.raises(FnnTypeError, match="batch of keys"):
        jr.uniform(jr.split(jr.key(0), 3))
    with pytest.raises(FnnTypeError, match="expected a key"):
        jr.split(np.array([0, 0], np.int32))


@pytest.mark.parametrize("shape", [-1, (2, -3), 1.5, "ab", (2.0,), None, True])
def test_bad_shapes_are_named(shape):
    with pytest.raises(FnnTypeError, match="shape must be an int or a tuple"):
        jr.uniform(jr.key(0), shape)


def test_parameter_shapes_must_broadcast_to_shape():
    with pytest.raises(ValueError, match=r"must broadcast to the requested shape \(3,\)"):
        jr.uniform(jr.key(0), (3,), minval=fnp.zeros(4))
    with pytest.raises(ValueError, match="must broadcast"):
        jr.randint(jr.key(0), (2,), fnp.zeros((3, 2), np.int32), 5)
    assert jr.uniform(jr.key(0), (2, 3), minval=fnp.zeros(3)).shape == (2, 3)


def test_dtype_errors():
    with pytest.raises(FnnTypeError, match="floating-point"):
        jr.uniform(jr.key(0), (2,), np.int32)
    with pytest.raises(FnnTypeError, match="integer dtype"):
        jr.randint(jr.key(0), (2,), 0, 3, np.float32)


def test_choice_errors():
    with pytest.raises(ValueError, match="distinct"):
        jr.choice(jr.key(0), 3, (4,), replace=False)
    with pytest.raises(ValueError, match="p must have shape"):
        jr.choice(jr.key(0), 3, (2,), p=fnp.ones(4) / 4)
    with pytest.raises(ValueError, match="empty"):
        jr.choice(jr.key(0), 0, (2,))


# ---- distributions -----------------------------------------------------------------------


def _ks(sample, cdf, *args):
    return st.kstest(np.asarray(sample, np.float64).ravel(), cdf, args=args).pvalue


def test_uniform_distribution_and_range():
    u = _np(jr.uniform(jr.key(10), (N,)))
    assert u.min() >= 0 and u.max() < 1
    assert _ks(u, "uniform") > 1e-3
    v = _np(jr.uniform(jr.key(11), (N,), minval=-2.0, maxval=3.0))
    assert v.min() >= -2 and v.max() < 3
    assert _ks(v, "uniform", -2.0, 5.0) > 1e-3


@given(hs.floats(-1e3, 1e3), hs.floats(1e-3, 1e3), hs.integers(0, 2**32 - 1))
@settings(max_examples=30, deadline=None)
def test_uniform_stays_in_range(lo, width, seed):
    hi = np.float32(lo) + np.float32(width)
    u = _np(jr.uniform(jr.key(seed), (64,), minval=lo, maxval=float(hi)))
    assert u.min() >= np.float32(lo) and u.max() <= hi


def test_normal_distribution():
    x = _np(jr.normal(jr.key(12), (N,)))
    assert abs(x.mean()) < 0.05 and abs(x.var() - 1) < 0.05
    assert _ks(x, "norm") > 1e-3
    assert np.isfinite(x).all()


def test_truncated_normal_distribution():
    x = _np(jr.truncated_normal(jr.key(13), -0.5, 2.0, (N,)))
    assert x.min() > -0.5 and x.max() < 2.0
    assert _ks(x, "truncnorm", -0.5, 2.0) > 1e-3
    # Array bounds broadcast; shape=None takes their shape.
    y = jr.truncated_normal(jr.key(14), fnp.array([-1.0, 0.0]), 1.0)
    assert y.shape == (2,) and float(y[1]) > 0


def test_gumbel_exponential_laplace_distributions():
    assert _ks(jr.gumbel(jr.key(15), (N,)), "gumbel_r") > 1e-3
    e = _np(jr.exponential(jr.key(16), (N,)))
    assert e.min() >= 0 and _ks(e, "expon") > 1e-3
    assert _ks(jr.laplace(jr.key(17), (N,)), "laplace") > 1e-3


def _chi2_ok(counts, probs):
    counts = np.asarray(counts, np.float64)
    return st.chisquare(counts, counts.sum() * np.asarray(probs)).pvalue > 1e-3


def test_bernoulli_frequency():
    b = _np(jr.bernoulli(jr.key(18), 0.3, (N,)))
    assert b.dtype == np.bool_ and abs(b.mean() - 0.3) < 0.015
    per = _np(jr.bernoulli(jr.key(19), fnp.array([0.0, 1.0, 0.5])))
    assert per.shape == (3,) and per[:2].tolist() == [False, True]


def test_randint_frequencies_and_bounds():
    x = _np(jr.randint(jr.key(20), (N,), -3, 7))
    assert x.dtype == np.int32 and x.min() >= -3 and x.max() < 7
    assert _chi2_ok(np.bincount(x + 3, minlength=10), np.full(10, 0.1))
    # An empty range returns minval, as numpy's and JAX's vectorized forms do.
    assert _np(jr.randint(jr.key(21), (4,), 5, 5)).tolist() == [5] * 4
    assert _np(jr.randint(jr.key(21), (4,), 5, 2)).tolist() == [5] * 4
    # Per-element bounds.
    y = _np(jr.randint(jr.key(22), (1000, 2), fnp.array([0, 100]), fnp.array([2, 103])))
    assert set(y[:, 0]) == {0, 1} and set(y[:, 1]) == {100, 101, 102}


def test_randint_full_ranges_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = _np(jr.randint(jr.key(23), (N,), -(2**31), 2**31))
        u8 = _np(jr.randint(jr.key(24), (N,), 0, 256, np.uint8))
    assert x.min() < -(2**30) and x.max() > 2**30
    assert u8.dtype == np.uint8 and _chi2_ok(np.bincount(u8, minlength=256), np.full(256, 1 / 256))


def test_categorical_frequencies():
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    x = _np(jr.categorical(jr.key(25), fnp.log(fnp.asarray(probs)), shape=(N,)))
    assert _chi2_ok(np.bincount(x, minlength=4), probs)
    # Batched logits along axis 0; shape=None gives the batch shape.
    logits = fnp.asarray(np.log([[1.0, 0.5], [0.5, 1.0], [0.5, 0.5]]) * 1e3)  # near-certain
    assert _np(jr.categorical(jr.key(26), logits, axis=0)).tolist() == [0, 1]
    assert jr.categorical(jr.key(26), logits, axis=0, shape=(5, 2)).shape == (5, 2)


def test_choice_frequencies():
    x = _np(jr.choice(jr.key(27), 5, (N,)))
    assert _chi2_ok(np.bincount(x, minlength=5), np.full(5, 0.2))
    p = np.array([0.5, 0.0, 0.25, 0.25])
    y = _np(jr.choice(jr.key(28), 4, (N,), p=fnp.asarray(p)))
    assert (y != 1).all() and _chi2_ok(np.bincount(y, minlength=4)[[0, 2, 3]], p[[0, 2, 3]])
    a = fnp.arange(12.0).reshape(3, 4)
    z = jr.choice(jr.key(29), a, (2, 5), axis=1)
    assert z.shape == (3, 2, 5) and set(_np(z)[0].ravel()) <= {0.0, 1.0, 2.0, 3.0}


@pytest.mark.parametrize("p", [None, np.array([0.1, 0.2, 0.3, 0.1, 0.1, 0.2])])
def test_choice_without_replacement_is_distinct(p):
    for seed in range(20):
        x = _np(jr.choice(jr.key(seed), 6, (4,), replace=False, p=p))
        assert len(set(x.tolist())) == 4 and x.min() >= 0 and x.max() < 6


@given(hs.integers(0, 60), hs.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None)
def test_permutation_is_a_permutation(n, seed):
    assert sorted(_np(jr.permutation(jr.key(seed), n)).tolist()) == list(range(n))


def test_permutation_of_arrays():
    k = jr.key(30)
    x = fnp.arange(20.0).reshape(5, 4)
    rows = _np(jr.permutation(k, x))
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, _np(x).tolist()))
    cols = _np(jr.permutation(k, x, axis=1))
    assert np.array_equal(np.sort(cols, 1), _np(x))
    assert (cols - cols[:1] == np.arange(0.0, 20.0, 4.0)[:, None]).all()  # one column order
    ind = _np(jr.permutation(k, x, axis=1, independent=True))
    assert np.array_equal(np.sort(ind, 1), _np(x))
    assert len({tuple(np.argsort(r)) for r in ind}) > 1  # rows moved independently
    # Uniform over the 6 orders of 3 items.
    orders = [tuple(_np(jr.permutation(jr.key(s), 3)).tolist()) for s in range(600)]
    counts = [orders.count(o) for o in sorted(set(orders))]
    assert len(counts) == 6 and _chi2_ok(counts, np.full(6, 1 / 6))


def test_orthogonal():
    q = _np(jr.orthogonal(jr.key(31), 5))
    np.testing.assert_allclose(q @ q.T, np.eye(5), atol=1e-5)
    wide = _np(jr.orthogonal(jr.key(31), 2, m=4))
    np.testing.assert_allclose(wide @ wide.T, np.eye(2), atol=1e-5)
    tall = _np(jr.orthogonal(jr.key(31), 4, m=2))
    np.testing.assert_allclose(tall.T @ tall, np.eye(2), atol=1e-5)
    assert jr.orthogonal(jr.key(31), 3, (2, 6)).shape == (2, 6, 3, 3)
    # Haar: each entry has mean 0 and variance 1/n; both orientations occur.
    qs = _np(jr.orthogonal(jr.key(32), 3, (4000,)))
    assert abs(qs[:, 1, 2].mean()) < 0.03 and abs((qs[:, 1, 2] ** 2).mean() - 1 / 3) < 0.03
    dets = np.sign(np.linalg.det(qs))
    assert 0.45 < (dets > 0).mean() < 0.55


def test_x64_uses_64_bits(x64):
    u = _np(jr.uniform(jr.key(32), (1000,)))
    assert u.dtype == np.float64
    assert not np.all(u * 2**23 == np.floor(u * 2**23))  # more than float32's 23 bits
    assert jr.normal(jr.key(32), (3,)).dtype == np.float64
    assert jr.randint(jr.key(32), (3,), 0, 5).dtype == np.int64
    assert jr.uniform(jr.key(32), (3,), np.float32).dtype == np.float32
    assert _ks(jr.normal(jr.key(33), (N,)), "norm") > 1e-3


def test_float16():
    u = _np(jr.uniform(jr.key(34), (N,), np.float16))
    assert u.dtype == np.float16 and u.min() >= 0 and u.max() < 1


# ---- independence, determinism, transforms -------------------------------------------------


def test_split_streams_are_uncorrelated():
    keys = jr.split(jr.key(40), 8)
    streams = np.stack([_np(jr.normal(k, (N,))) for k in keys])
    corr = np.corrcoef(streams)
    assert np.abs(corr[~np.eye(8, dtype=bool)]).max() < 0.04
    # Parent and child, and neighbouring fold_ins, do not repeat each other.
    parent = _np(jr.normal(jr.key(40), (N,)))
    assert abs(np.corrcoef(parent, streams[0])[0, 1]) < 0.04
    a, b = (_np(jr.uniform(jr.fold_in(jr.key(40), d), (N,))) for d in (0, 1))
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.04


def test_different_keys_give_different_numbers_and_same_keys_the_same():
    draws = {tuple(_np(jr.uniform(jr.key(s), (4,))).tolist()) for s in range(50)}
    assert len(draws) == 50
    k = jr.key(41)
    assert np.array_equal(_np(jr.normal(k, (100,))), _np(jr.normal(k, (100,))))
    assert np.array_equal(_np(jr.permutation(k, 50)), _np(jr.permutation(k, 50)))
    # Counters are the flat index, so a smaller draw is a prefix of a larger one.
    assert np.array_equal(_np(jr.bits(k, (10,)))[:4], _np(jr.bits(k, (4,))))


SAMPLERS = {
    "uniform": lambda k: jr.uniform(k, (3, 2), minval=-1.0, maxval=2.0),
    "normal": lambda k: jr.normal(k, (4,)),
    "truncated_normal": lambda k: jr.truncated_normal(k, -1.0, 0.5, (4,)),
    "gumbel": lambda k: jr.gumbel(k, (4,)),
    "exponential": lambda k: jr.exponential(k, (4,)),
    "laplace": lambda k: jr.laplace(k, (4,)),
    "bernoulli": lambda k: jr.bernoulli(k, 0.4, (6,)),
    "categorical": lambda k: jr.categorical(k, fnp.array([[0.0, 1.0, 2.0]] * 2), shape=(3, 2)),
    "randint": lambda k: jr.randint(k, (5,), -4, 9),
    "permutation": lambda k: jr.permutation(k, 7),
    "permutation_rows": lambda k: jr.permutation(k, fnp.arange(12.0).reshape(4, 3)),
    "permutation_axis1": lambda k: jr.permutation(k, fnp.arange(12.0).reshape(3, 4), axis=1),
    "permutation_independent": lambda k: jr.permutation(
        k, fnp.arange(12.0).reshape(3, 4), axis=1, independent=True
    ),
    "choice": lambda k: jr.choice(k, 9, (4,)),
    "choice_axis1": lambda k: jr.choice(k, fnp.arange(12.0).reshape(3, 4), (2, 2), axis=1),
    "choice_axis1_no_replace": lambda k: jr.choice(
        k, fnp.arange(12.0).reshape(3, 4), (2,), replace=False, axis=1
    ),
    "choice_no_replace": lambda k: jr.choice(k, 9, (4,), replace=False),
    "choice_p": lambda k: jr.choice(k, 4, (5,), p=fnp.array([0.1, 0.2, 0.3, 0.4])),
    "choice_p_no_replace": lambda k: jr.choice(k, 4, (2,), False, fnp.array([0.1, 0.2, 0.3, 0.4])),
    "orthogonal": lambda k: jr.orthogonal(k, 3),
    "split": lambda k: jr.split(k, 3),
    "fold_in": lambda k: jr.fold_in(k, 17),
    "bits": lambda k: jr.bits(k, (5,)),
}


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_jit_and_vmap_match_a_loop(name):
    f = SAMPLERS[name]
    keys = jr.split(jr.key(50), 4)
    loop = np.stack([_np(f(keys[i])) for i in range(4)])
    assert np.array_equal(_np(fnn.vmap(f)(keys)), loop)
    assert np.array_equal(_np(fnn.jit(f)(keys[2])), loop[2])
    assert np.array_equal(_np(fnn.jit(fnn.vmap(f))(keys)), loop)
    assert np.array_equal(_np(fnn.vmap(fnn.jit(f))(keys)), loop)


def test_vmap_over_parameters_and_fold_in_data():
    k = jr.key(51)
    ps = fnp.array([0.0, 0.5, 1.0])
    got = _np(fnn.vmap(lambda p: jr.bernoulli(k, p, (3,)))(ps))
    assert np.array_equal(got, np.stack([_np(jr.bernoulli(k, p, (3,))) for p in ps]))
    lows = fnp.array([-1.0, 0.0])
    got = _np(fnn.vmap(lambda lo: jr.uniform(k, (2,), minval=lo))(lows))
    assert np.array_equal(got, np.stack([_np(jr.uniform(k, (2,), minval=lo)) for lo in lows]))
    data = fnp.arange(5)
    got = _np(fnn.vmap(lambda d: jr.fold_in(k, d))(data))
    assert np.array_equal(got, np.stack([_np(jr.fold_in(k, d)) for d in range(5)]))


def test_gradients_flow_through_parameters():
    k = jr.key(52)
    u = _np(jr.uniform(k, (10,)))
    g = fnn.grad(lambda lo: fnp.sum(jr.uniform(k, (10,), minval=lo, maxval=3.0)))(1.0)
    assert float(g) == pytest.approx(float(np.sum(1 - u)), rel=1e-5)
    gs = fnn.grad(lambda s: fnp.sum(s * jr.normal(k, (10,))))(2.0)
    assert float(gs) == pytest.approx(float(np.sum(_np(jr.normal(k, (10,))))), rel=1e-5)
