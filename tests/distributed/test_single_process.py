"""fnn.distributed in one process (no MPI needed): the collectives are the identity,
the primitives' rules hold, ``batches`` shards exactly, and rank-aware writers."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fnn
import fnn.numpy as fnp
from fnn import distributed as dist
from fnn.backend import passes
from fnn.core import FnnTypeError
from fnn.data import batches
from fnn.distributed import protocol
from fnn.distributed.collectives import all_gather_p, psum_p, pvary_p
from fnn.lowering import lowering_of

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_import_fnn_loads_no_mpi_and_initialize_without_a_launcher_is_one_process():
    code = (
        "import sys, fnn, fnn.data, fnn.train, fnn.distributed as d; "
        "assert 'mpi4py' not in sys.modules; d.initialize(); "
        "assert 'mpi4py' not in sys.modules; "
        "print(d.process_index(), d.process_count(), d.is_main_process(), d.is_initialized())"
    )
    env = {k: v for k, v in os.environ.items() if d_launch(k) is None}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["0", "1", "True", "True"]


def d_launch(name: str):
    return dist.mpi_launcher({name: "1"})


def test_an_mpi_launch_without_mpi4py_says_what_to_install():
    code = "import sys; sys.modules['mpi4py'] = None; import fnn.distributed as d; d.initialize()"
    env = dict(os.environ, PMI_SIZE="2", PMI_RANK="0")
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode != 0
    assert "started by an MPI-family mpiexec" not in out.stderr  # names the launcher as is
    assert "this process was started by an MPICH-family mpiexec" in out.stderr
    assert "pip install 'fnn[mpi]'" in out.stderr


def test_launchers_are_recognised_from_their_environment():
    assert dist.mpi_launcher({"OMPI_COMM_WORLD_SIZE": "4"}) == "Open MPI's mpirun"
    assert "PMIx" in dist.mpi_launcher({"PMIX_RANK": "0"})
    assert dist.mpi_launcher({"SLURM_PROCID": "0"}) is None  # srun without an MPI plugin


def test_one_process_collectives_return_their_input():
    tree = {"a": fnp.arange(3.0), "b": (fnp.ones((2, 2)), fnp.array(4))}
    assert dist.psum(tree) is tree and dist.pmean(tree) is tree and dist.pvary(tree) is tree
    assert dist.broadcast(tree) is tree
    gathered = dist.all_gather(tree)
    np.testing.assert_array_equal(gathered["a"], [[0.0, 1.0, 2.0]])
    assert dist.all_gather(tree["b"][0], tiled=True).shape == (2, 2)
    # No primitive is bound: a one-process program is what it was without them.
    jaxpr = fnn.make_jaxpr(lambda t: dist.pmean(dist.pvary(t)))(fnp.ones(3))
    assert [e.primitive.name for e in jaxpr.jaxpr.eqns] == []
    with pytest.raises(ValueError, match="root must be a process index"):
        dist.broadcast(tree, root=1)


def _psum(*xs):
    return psum_p.bind(*xs, tree="test")


def test_the_primitives_rules_in_one_process():
    # With one process psum and pvary are identities, all_gather adds an axis of 1: the
    # rules (jvp, transpose, batching, jit) must agree with that.
    x = fnp.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(fnn.jit(lambda a: _psum(a, a * 2)[1])(x), 2 * x)
    g = fnn.grad(lambda a: fnp.sum(_psum(a)[0] ** 2))(x)
    np.testing.assert_allclose(g, 2 * x)
    g = fnn.grad(lambda a: fnp.sum(pvary_p.bind(a, tree="t")[0] ** 2))(x)
    np.testing.assert_allclose(g, 2 * x)
    g = fnn.grad(lambda a: fnp.sum(all_gather_p.bind(a, tree="t", count=1)[0] ** 3))(x)
    np.testing.assert_allclose(g, 3 * x**2)
    _, t = fnn.jvp(lambda a: _psum(a)[0] * a, (x,), (fnp.ones_like(x),))
    np.testing.assert_allclose(t, 2 * x)
    np.testing.assert_array_equal(fnn.vmap(lambda a: _psum(a)[0], in_axes=1)(x), x.T)
    out = fnn.vmap(lambda a: all_gather_p.bind(a, tree="t", count=1)[0], in_axes=1)(x)
    np.testing.assert_array_equal(out, x.T[:, None])
    hess = fnn.hessian(lambda a: fnp.sum(_psum(a)[0] ** 3))(fnp.array([1.0, 2.0]))
    np.testing.assert_allclose(hess, np.diag([6.0, 12.0]))


def test_the_primitives_have_lowering_records_and_check_dtypes():
    for p in (psum_p, all_gather_p, pvary_p):
        assert lowering_of(p) is not None and p in fnn.rules.transpose_rules
        assert lowering_of(p).split is None  # never run per chunk on threads
    with pytest.raises(FnnTypeError, match="psum: expected arrays of int, float32/64"):
        _psum(fnp.array([True]))
    with pytest.raises(FnnTypeError, match="expected a pytree of arrays"):
        dist.collectives._flat("pmean", {"a": "text"})


def test_collectives_are_never_folded_at_compile_time():
    # Two processes may compile at different moments (one hits jit's cache, one does
    # not): a collective on constants must still run in step, at run time.
    from_consts = fnn.make_jaxpr(lambda: psum_p.bind(fnp.ones(3), tree="x"))()
    folded = passes.fold_constants(from_consts.jaxpr, from_consts.consts)[0]
    assert [e.primitive for e in folded.eqns] == [psum_p]
    assert lowering_of(psum_p).collective and lowering_of(all_gather_p).collective


def test_disagreeing_headers_explain_themselves():
    h = np.stack([protocol.header(1, 4, "psum", 7, 3), protocol.header(1, 4, "psum", 8, 3)])
    assert not protocol.check_headers(h)
    e = protocol.disagreement(h, ["psum of a", "psum of b"])
    assert isinstance(e, protocol.CollectiveMismatchError) and isinstance(e, FnnTypeError)
    assert "process 1: collective #4: psum of b" in str(e)
    h[1, protocol.STATUS] = protocol.FAILED
    e = protocol.disagreement(h, ["", "KeyError: 'x'"])
    assert isinstance(e, dist.ProcessFailedError) and e.failed == (1,)
    assert str(e).startswith("process 1 of 2 failed: KeyError: 'x'")
    same = np.stack([protocol.header(1, 4, "psum", 7, 3)] * 3)
    assert protocol.check_headers(same)


# ---- sharded batches -----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 60),
    per=st.integers(1, 9),
    count=st.integers(1, 4),
    drop_last=st.booleans(),
    shuffle=st.booleans(),
)
def test_shards_partition_every_batch_of_the_one_process_epoch(n, per, count, drop_last, shuffle):
    data = {"x": np.arange(n) * 10, "y": np.arange(n)}
    key = fnn.random.key(3) if shuffle else None
    whole = list(batches(data, per * count, key=key, shuffle=shuffle, drop_last=drop_last))
    shards = [
        list(batches(data, key=key, shuffle=shuffle, drop_last=drop_last, shard=(k, count),
                     per_process_batch_size=per))
        for k in range(count)
    ]  # fmt: skip
    for k in range(count):
        assert len(shards[k]) == len(whole)  # every process takes the same number of steps
    for i, batch in enumerate(whole):
        parts = [shards[k][i] for k in range(count)]
        np.testing.assert_array_equal(np.concatenate([p["y"] for p in parts]), batch["y"])
        for p in parts:
            np.testing.assert_array_equal(p["x"], p["y"] * 10)
        sizes = [len(p["y"]) for p in parts]
        assert max(sizes) - min(sizes) <= 1
        if len(batch["y"]) == per * count:
            assert sizes == [per] * count


def test_batches_sizes_and_errors():
    data = np.arange(12)
    b = batches(data, 6, shuffle=False, shard=(1, 3))
    assert b.batch_size == 2 and b.global_batch_size == 6 and len(b) == 2
    assert b[0].tolist() == [2, 3] and b[-1].tolist() == [8, 9]
    with pytest.raises(IndexError):
        b[2]
    with pytest.raises(ValueError, match="not a multiple of the 3 processes"):
        batches(data, 4, shuffle=False, shard=(0, 3))
    with pytest.raises(TypeError, match="exactly one of batch_size"):
        batches(data, 4, shuffle=False, per_process_batch_size=2)
    with pytest.raises(ValueError, match=r"shard must be \(index, count\)"):
        batches(data, 4, shuffle=False, shard=(2, 2))
    # The default shard is (process_index(), process_count()): one process, everything.
    assert batches(data, 4, shuffle=False).shard == (0, 1)
