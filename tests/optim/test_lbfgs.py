"""L-BFGS as a transformation, and the line searches it relies on."""

import numpy as np
import pytest

import fnn
import fnn.numpy as fnp
from fnn import optim


def rosenbrock(p):
    x, y = p["x"], p["y"]
    return fnp.sum((1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2)


def make_step(opt, loss):
    vg = optim.value_and_grad_from_state(loss)

    def step(params, state):
        value, grad = vg(params, state=state)
        updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=loss)
        return optim.apply_updates(params, updates), state, value

    return step


def run(opt, loss, params, steps, jit=False):
    step = make_step(opt, loss)
    step = fnn.jit(step) if jit else step
    state = opt.init(params)
    values = []
    for _ in range(steps):
        params, state, value = step(params, state)
        values.append(float(value))
    if jit:
        assert step.trace_count == 1  # the state keeps its structure, shapes and dtypes
    return params, state, values


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_rosenbrock_reaches_the_minimum(jit):
    params = {"x": fnp.asarray([-1.2]), "y": fnp.asarray([1.0])}
    assert params["x"].dtype == np.float64
    params, _, values = run(optim.lbfgs(), rosenbrock, params, 60, jit=jit)
    np.testing.assert_allclose(params["x"], [1.0], atol=1e-8)
    np.testing.assert_allclose(params["y"], [1.0], atol=1e-8)
    assert float(rosenbrock(params)) < 1e-16
    # the zoom line search guarantees a monotone decrease
    assert all(b <= a for a, b in zip(values, values[1:], strict=False))


def quadratic_problem():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    a = q @ np.diag(np.logspace(0, 3, 6)) @ q.T  # condition number 1000
    b = rng.normal(size=6)
    a_f, b_f = fnp.asarray(a), fnp.asarray(b)

    def loss(p):
        w = fnp.concatenate([p["u"], p["v"]])
        return 0.5 * fnp.dot(w, fnp.dot(a_f, w)) - fnp.dot(b_f, w)

    return loss, np.linalg.solve(a, b)


@pytest.mark.usefixtures("x64")
def test_quadratic_in_few_iterations():
    c = fnp.asarray([1.0, 3.0, 10.0])

    def loss(p):
        return 0.5 * fnp.sum(c * (p["a"] - 1.0) ** 2) + fnp.sum((p["b"] + 2.0) ** 2)

    params = {"a": fnp.zeros(3), "b": fnp.zeros(2)}
    params, _, values = run(optim.lbfgs(), loss, params, 10)
    np.testing.assert_allclose(params["a"], np.ones(3), rtol=1e-7)
    np.testing.assert_allclose(params["b"], [-2.0, -2.0], rtol=1e-7)


@pytest.mark.usefixtures("x64")
def test_ill_conditioned_quadratic():
    # condition number 1000 in 6 dimensions: scipy's L-BFGS-B needs 29 iterations here
    loss, w_star = quadratic_problem()
    params = {"u": fnp.zeros(4), "v": fnp.zeros(2)}
    params, _, _ = run(optim.lbfgs(), loss, params, 30)
    w = np.concatenate([np.asarray(params["u"]), np.asarray(params["v"])])
    np.testing.assert_allclose(w, w_star, rtol=1e-6, atol=1e-8)


@pytest.mark.usefixtures("x64")
def test_jit_equals_eager():
    loss, _ = quadratic_problem()
    params = {"u": fnp.ones(4), "v": fnp.ones(2)}
    p_e, s_e, v_e = run(optim.lbfgs(memory_size=3), loss, params, 6)
    p_j, s_j, v_j = run(optim.lbfgs(memory_size=3), loss, params, 6, jit=True)
    np.testing.assert_allclose(v_j, v_e, rtol=1e-10)
    for a, b in zip(_leaves((p_e, s_e)), _leaves((p_j, s_j)), strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-9, atol=1e-12)


def test_float32_rosenbrock_gets_close():
    params = {"x": fnp.asarray([-1.2]), "y": fnp.asarray([1.0])}
    params, _, _ = run(optim.lbfgs(), rosenbrock, params, 60)
    assert params["x"].dtype == np.float32
    np.testing.assert_allclose(params["x"], [1.0], atol=1e-3)


@pytest.mark.usefixtures("x64")
def test_two_loop_equals_dense_bfgs_inverse_hessian():
    """The direction after k stored pairs is H_k g with the BFGS recursion
    H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T from H_0 = gamma I."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 4))
    a = a @ a.T + 4 * np.eye(4)
    grad = lambda w: a @ w  # noqa: E731
    opt = optim.scale_by_lbfgs(memory_size=5)
    ws = [rng.normal(size=4) for _ in range(4)]
    state = opt.init(fnp.asarray(ws[0]))
    for w in ws:
        d, state = opt.update(fnp.asarray(grad(w)), state, fnp.asarray(w))
    pairs = [(ws[i + 1] - ws[i], grad(ws[i + 1]) - grad(ws[i])) for i in range(3)]
    s, y = pairs[-1]
    h = (s @ y) / (y @ y) * np.eye(4)
    for s, y in pairs:
        rho = 1 / (s @ y)
        v = np.eye(4) - rho * np.outer(y, s)
        h = v.T @ h @ v + rho * np.outer(s, s)
    np.testing.assert_allclose(d, h @ grad(ws[-1]), rtol=1e-10)


def test_first_direction_is_the_normalized_gradient():
    opt = optim.scale_by_lbfgs()
    g = {"a": fnp.array([3.0]), "b": fnp.array([[4.0]])}
    d, _ = opt.update(g, opt.init(g), g)
    np.testing.assert_allclose(d["a"], [0.6], rtol=1e-6)
    np.testing.assert_allclose(d["b"], [[0.8]], rtol=1e-6)
    # small gradients are not blown up: min(1, 1 / |g|)
    small = fnp.array([0.1])
    d, _ = opt.update(small, opt.init(small), small)
    np.testing.assert_allclose(d, [0.1], rtol=1e-6)


def test_lbfgs_without_linesearch_takes_plain_steps():
    opt = optim.lbfgs(learning_rate=0.5, linesearch=None)
    w = fnp.zeros(2)
    g = fnp.array([3.0, 4.0])
    u, _ = opt.update(g, opt.init(w), w)
    np.testing.assert_allclose(u, [-0.3, -0.4], rtol=1e-6)


# --- line searches ------------------------------------------------------------------


def wavy(w):
    return fnp.sum(w**2) + 0.5 * fnp.sum(fnp.sin(3.0 * w))


@pytest.mark.usefixtures("x64")
@pytest.mark.parametrize("start", [[2.0, -1.0], [0.3, 0.7], [-4.0, 5.0]])
@pytest.mark.parametrize("direction_scale", [0.01, 1.0, 30.0])
def test_zoom_step_satisfies_strong_wolfe(start, direction_scale):
    c1, c2 = 1e-4, 0.9
    w = fnp.asarray(start)
    value, grad = fnn.value_and_grad(wavy)(w)
    direction = -direction_scale * grad
    ls = optim.scale_by_zoom_linesearch(30, slope_rtol=c1, curv_rtol=c2, approx_dec_rtol=None)
    u, state = ls.update(direction, ls.init(w), w, value=value, grad=grad, value_fn=wavy)
    eta = float(state.learning_rate)
    slope0 = float(fnp.vdot(grad, direction))
    new_value, new_grad = fnn.value_and_grad(wavy)(w + u)
    assert float(new_value) <= float(value) + c1 * eta * slope0
    assert abs(float(fnp.vdot(new_grad, direction))) <= c2 * abs(slope0)
    assert float(state.info.decrease_error) == 0.0 and float(state.info.curvature_error) == 0.0
    # the stored value and gradient are those at the new params
    np.testing.assert_allclose(state.value, new_value, rtol=1e-12)
    np.testing.assert_allclose(state.grad, new_grad, rtol=1e-12)


@pytest.mark.usefixtures("x64")
def test_zoom_jit_equals_eager():
    w = fnp.asarray([2.0, -1.0])
    ls = optim.scale_by_zoom_linesearch(20, initial_guess_strategy="one")

    def update(w, state):
        value, grad = fnn.value_and_grad(wavy)(w)
        return ls.update(-30.0 * grad, state, w, value=value, grad=grad, value_fn=wavy)

    u_e, s_e = update(w, ls.init(w))
    u_j, s_j = fnn.jit(update)(w, ls.init(w))
    assert int(s_e.info.num_linesearch_steps) > 1  # it had to zoom
    np.testing.assert_allclose(u_j, u_e, rtol=1e-12)
    assert int(s_j.info.num_linesearch_steps) == int(s_e.info.num_linesearch_steps)


@pytest.mark.usefixtures("x64")
def test_zoom_passes_extra_arguments_to_value_fn():
    def loss(w, target):
        return fnp.sum((w - target) ** 2)

    target = fnp.asarray([1.0, 2.0])
    w = fnp.zeros(2)
    opt = optim.chain(optim.sgd(1.0), optim.scale_by_zoom_linesearch(10))
    value, grad = fnn.value_and_grad(loss)(w, target)
    u, _ = opt.update(grad, opt.init(w), w, value=value, grad=grad, value_fn=loss, target=target)
    np.testing.assert_allclose(optim.apply_updates(w, u), [1.0, 2.0], rtol=1e-12)


def test_zoom_needs_the_objective():
    ls = optim.scale_by_zoom_linesearch(5)
    w = fnp.ones(1)
    with pytest.raises(TypeError, match="value_fn"):
        ls.update(w, ls.init(w), w, value=1.0, grad=w)


@pytest.mark.usefixtures("x64")
def test_backtracking_satisfies_armijo():
    w = fnp.asarray([2.0, -1.0])
    value, grad = fnn.value_and_grad(wavy)(w)
    ls = optim.scale_by_backtracking_linesearch(30, store_grad=True)
    u, state = ls.update(-10.0 * grad, ls.init(w), w, value=value, grad=grad, value_fn=wavy)
    eta = float(state.learning_rate)
    assert 0 < eta <= 1.0
    assert float(wavy(w + u)) <= float(value) - 1e-4 * eta * 10.0 * float(fnp.vdot(grad, grad))
    # the previous trial (eta / 0.8) failed, or eta was the first guess
    assert eta == 1.0 or float(wavy(w - 10.0 * eta / 0.8 * grad)) > float(value) - 1e-4 * (
        eta / 0.8
    ) * 10.0 * float(fnp.vdot(grad, grad))
    np.testing.assert_allclose(state.grad, fnn.grad(wavy)(w + u), rtol=1e-12)


@pytest.mark.usefixtures("x64")
def test_value_and_grad_from_state():
    loss, _ = quadratic_problem()
    params = {"u": fnp.ones(4), "v": fnp.ones(2)}
    opt = optim.lbfgs()
    state = opt.init(params)
    vg = optim.value_and_grad_from_state(loss)
    value, grad = vg(params, state=state)  # nothing stored yet: computed
    exact_value, exact_grad = fnn.value_and_grad(loss)(params)
    np.testing.assert_allclose(value, exact_value)
    updates, state = opt.update(grad, state, params, value=value, grad=grad, value_fn=loss)
    params = optim.apply_updates(params, updates)
    value, grad = vg(params, state=state)  # stored by the line search
    exact_value, exact_grad = fnn.value_and_grad(loss)(params)
    np.testing.assert_allclose(value, exact_value, rtol=1e-12)
    for a, b in zip(_leaves(grad), _leaves(exact_grad), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_value_and_grad_from_state_without_a_linesearch():
    vg = optim.value_and_grad_from_state(lambda w: fnp.sum(w))
    opt = optim.adam(0.1)
    w = fnp.ones(1)
    with pytest.raises(ValueError, match="no line search"):
        vg(w, state=opt.init(w))


def _leaves(tree):
    from fnn.tree_util import tree_leaves

    return tree_leaves(tree)


def test_alternating_objectives_keep_their_compiled_code():
    # lbfgs()'s default line search is shared; two optimizers alternating must not retrace
    from fnn.optim._linesearch import EvalCache

    cache = EvalCache()

    def f1(w):
        return fnp.sum(w**2)

    def f2(w):
        return fnp.sum(w**4)

    first = cache.get(f1, "probe")
    cache.get(f2, "probe")
    assert cache.get(f1, "probe") is first
