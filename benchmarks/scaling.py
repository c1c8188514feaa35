"""Data-parallel scaling over MPI processes: steps per second of the MLP and the PINN
training step at 1 and 2 processes, the bytes each step communicates, the time of
that communication, and a model of the efficiency at 8, 64 and 512 processes.

Usage (needs the [mpi] extra; one BLAS thread per process):
    flock /tmp/fnn_cpu.lock python benchmarks/scaling.py            # prints the tables
    flock /tmp/fnn_cpu.lock python benchmarks/scaling.py --repeats 50 --json PATH

The driver launches ``mpiexec -n P python benchmarks/scaling.py --worker ...``; each
worker times jitted steps whose gradient average (``dist.pmean``) is inside the step.
Results: benchmarks/README.md, "Scaling over processes".
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(ROOT / "examples"))  # the PINN's model and loss

import numpy as np  # noqa: E402
from _pinn import collocation_points, initial_boundary_points  # noqa: E402
from pinn_burgers import make_loss_terms, make_mlp, make_u  # noqa: E402

import fnn  # noqa: E402
import fnn.numpy as fnp  # noqa: E402
from fnn import distributed as dist  # noqa: E402
from fnn import nn, optim  # noqa: E402
from fnn.distributed.protocol import HEADER_LEN  # noqa: E402

# Networks of the model (bandwidth in bytes/s, latency of a small message in s).
NETWORKS = {
    "InfiniBand HDR-class, 100 Gb/s": (12.5e9, 2e-6),
    "10 Gb Ethernet": (1.25e9, 25e-6),
}
PROCESSES = (8, 64, 512)


def _median_seconds(fn, repeats: int) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        dist.psum(np.int32(0))  # start together: each time is one whole step
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def _mlp(batch: int):
    """mlp_mnist's step: 784-512-512-10 ReLU, Adam, loss and gradients averaged."""
    model = nn.Sequential([nn.Dense(512), nn.relu, nn.Dense(512), nn.relu, nn.Dense(10)])
    params = model.init(fnn.random.key(0), (1, 784))
    opt = optim.adam(1e-3)

    @fnn.jit
    def step(params, state, x, y):
        def loss_fn(p):
            logits = model.apply(p, x)
            return fnp.mean(nn.losses.softmax_cross_entropy_with_integer_labels(logits, y))

        loss, grads = fnn.value_and_grad(loss_fn)(params)
        loss, grads = dist.pmean((loss, grads))
        updates, state = opt.update(grads, state, params)
        return optim.apply_updates(params, updates), state, loss

    rng = np.random.default_rng(dist.process_index())
    x = rng.random((batch, 784), dtype=np.float32)
    y = rng.integers(0, 10, batch).astype(np.int32)
    return step, [params, opt.init(params), x, y], params


def _pinn(points: int):
    """pinn_burgers's Adam step: 2-20x8-1 tanh, 100 data points, ``points`` of the
    collocation points on this process, loss terms averaged with pvary/pmean."""
    model = make_mlp(8, 20)
    params = model.init(fnn.random.key(0), (1, 2))
    terms = make_loss_terms(make_u(model))
    opt = optim.adam(1e-3)

    def total(p, *d):
        return sum(dist.pmean(terms(dist.pvary(p), *d)).values())

    @fnn.jit
    def step(p, state, *d):
        loss, grads = fnn.value_and_grad(total)(p, *d)
        updates, state = opt.update(grads, state, p)
        return optim.apply_updates(p, updates), state, loss

    tx_u, u_u = initial_boundary_points(100, np.random.default_rng(0))
    tx_f = collocation_points(points * dist.process_count(), 0)
    tx_f = np.array_split(tx_f, dist.process_count())[dist.process_index()]
    data = [np.asarray(a, np.float32) for a in (tx_u, u_u, tx_f)]
    return step, [params, opt.init(params), *data], params


def worker(args) -> None:
    dist.initialize()
    n = dist.process_count()
    out = {"processes": n}
    for name, make, size in (("mlp", _mlp, args.mlp_batch), ("pinn", _pinn, args.pinn_points)):
        step, inputs, params = make(size // n)
        seconds = _median_seconds(lambda s=step, i=inputs: s(*i), args.repeats)
        grads = fnn.tree_util.tree_map(np.asarray, params)
        nbytes = sum(a.nbytes for a in fnn.tree_util.tree_leaves(grads)) + 4  # + the loss
        comm = latency = 0.0
        if n > 1:  # the eager average of the gradients (pack, header, Allreduce, unpack)
            comm = _median_seconds(lambda g=grads: dist.pmean(g), args.repeats)
            latency = _median_seconds(lambda: dist.psum(np.float32(1)), args.repeats)
        out[name] = {
            "global_size": size,
            "per_process": size // n,
            "step_seconds": seconds,
            "steps_per_second": 1 / seconds,
            "allreduce_bytes": nbytes,
            "allreduce_seconds": comm,
            "small_collective_seconds": latency,
        }
    if dist.is_main_process():
        Path(args.out).write_text(json.dumps(out))


def launch(processes: int, mlp_batch: int, pinn_points: int, repeats: int) -> dict:
    out = ROOT / "benchmarks" / "results" / f".scaling-{processes}-{mlp_batch}.json"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", FNN_JIT_THREADS="1")
    env.pop("FNN_JIT_CHECK", None)
    mpiexec = Path(sys.executable).parent / "mpiexec"
    command = [
        str(mpiexec if mpiexec.exists() else "mpiexec"), "-n", str(processes),
        sys.executable, __file__, "--worker", "--out", str(out), "--repeats", str(repeats),
        "--mlp-batch", str(mlp_batch), "--pinn-points", str(pinn_points),
    ]  # fmt: skip
    subprocess.run(command, check=True, env=env, cwd=ROOT)
    result = json.loads(out.read_text())
    out.unlink()
    return result


def allreduce_model(nbytes: int, p: int, bandwidth: float, latency: float) -> float:
    """Seconds of one gradient average on ``p`` processes: the header allgather
    (recursive doubling: log2 p rounds) and a reduce-scatter + allgather Allreduce
    (MPICH's choice for large messages: 2 log2 p latencies, 2 (p-1)/p of the bytes)."""
    rounds = math.ceil(math.log2(p))
    header = rounds * latency + (p - 1) * HEADER_LEN * 8 / bandwidth
    return header + 2 * rounds * latency + 2 * (p - 1) / p * nbytes / bandwidth


def report(results: dict) -> str:
    one, two, half = results["1"], results["2"], results["1-half"]
    lines = [
        "| step | global batch | 1 process, steps/s | 2 processes, steps/s | speed-up | "
        "bytes averaged per step | measured average, 2 processes (shared memory) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, unit in (("mlp", "examples"), ("pinn", "collocation points")):
        a, b = one[name], two[name]
        lines.append(
            f"| {name} | {a['global_size']} {unit} | {a['steps_per_second']:.1f} | "
            f"{b['steps_per_second']:.1f} | {b['steps_per_second'] / a['steps_per_second']:.2f} | "
            f"{b['allreduce_bytes']:,} | {1e3 * b['allreduce_seconds']:.3f} ms "
            f"(a scalar: {1e6 * b['small_collective_seconds']:.0f} us) |"
        )
    lines += [
        "",
        "Model, weak scaling (each process keeps the per-process share of the 2-process "
        "run; compute = the 1-process step at that size): efficiency = compute / (compute "
        "+ local + network(P)), where local = the measured 2-process average (packing, "
        "header, reduction and copies, through shared memory: a pessimistic stand-in for "
        "the work that stays on each node) and network(P) = the modelled Allreduce.",
        "",
        "| step | per process | compute per step | local | network | "
        + " | ".join(f"{p} processes" for p in PROCESSES)
        + " |",
        "|---|---|---|---|---|" + "---|" * len(PROCESSES),
    ]
    for name in ("mlp", "pinn"):
        compute = half[name]["step_seconds"]
        nbytes = two[name]["allreduce_bytes"]
        local = two[name]["allreduce_seconds"]
        for net, (bw, lat) in NETWORKS.items():
            cells = []
            for p in PROCESSES:
                comm = local + allreduce_model(nbytes, p, bw, lat)
                cells.append(f"{100 * compute / (compute + comm):.0f} % ({1e3 * comm:.2f} ms)")
            lines.append(
                f"| {name} | {half[name]['per_process']} | {1e3 * compute:.2f} ms | "
                f"{1e3 * local:.2f} ms | {net} | " + " | ".join(cells) + " |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="")
    parser.add_argument("--repeats", type=int, default=30, help="timed steps per cell")
    parser.add_argument("--mlp-batch", type=int, default=256, help="the MLP's global batch")
    parser.add_argument("--pinn-points", type=int, default=10_000, help="collocation points")
    parser.add_argument("--json", default=str(ROOT / "benchmarks/results/scaling.json"))
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    results = {
        "1": launch(1, args.mlp_batch, args.pinn_points, args.repeats),
        "2": launch(2, args.mlp_batch, args.pinn_points, args.repeats),
        # One process with one process's share of the 2-process run: the compute alone.
        "1-half": launch(1, args.mlp_batch // 2, args.pinn_points // 2, args.repeats),
    }
    Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    print(report(results))


if __name__ == "__main__":
    main()
