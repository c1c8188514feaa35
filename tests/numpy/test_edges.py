"""Edge cases of fnn.numpy that the tables do not reach; each failed before its fix."""

from __future__ import annotations

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp


@pytest.mark.parametrize("f", [np.sum, np.prod, np.mean, np.var, np.std, np.max, np.min, np.all])
def test_numpy_reductions_accept_fnn_arrays(f):
    # numpy calls x.sum(axis=..., out=None): fnn's reductions must accept out=None.
    x = np.arange(1.0, 7.0).reshape(2, 3)
    np.testing.assert_allclose(f(fnp.asarray(x)), f(x.astype(np.float32)), rtol=1e-6)
    np.testing.assert_allclose(f(fnp.asarray(x), axis=1), f(x, axis=1), rtol=1e-6)


def test_out_argument_is_refused():
    with pytest.raises(NotImplementedError, match="immutable"):
        fnp.sum(fnp.ones(3), out=np.zeros(()))


def test_repeat_with_an_empty_list_of_repeats():
    out = fnp.repeat(fnp.zeros((0, 2)), [], axis=0)
    assert out.shape == (0, 2)


def test_integer_power_under_jit():
    # Eager numpy computed int ** int; the traced lax.pow refused integer dtypes.
    a = np.array([2, 3, 0, -2, 1, 0, 5], np.int32)
    b = np.array([2, 3, 0, 3, 100, 5, 0], np.int32)
    out = fnn.jit(fnp.power)(a, b)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, np.power(a, b))


def test_round_half_to_even():
    np.testing.assert_array_equal(
        fnp.round(fnp.asarray([0.5, 1.5, 2.5, -0.5, -1.5])), [0, 2, 2, 0, -2]
    )
