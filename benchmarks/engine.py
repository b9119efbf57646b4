"""Engine throughput: training steps per second, against the machine's matmul limit and PyTorch.

Run from the repository root::

    python -m benchmarks.engine            # the default grid, about 5-10 minutes on 2 cores
    python -m benchmarks.engine --quick    # a small subset, under a minute
    python -m benchmarks.engine --full     # the whole grid, more and longer rounds

It prints four tables and writes them to ``benchmarks/results/engine.json``:

1. the BLAS configuration NumPy runs with (threadpoolctl, when installed; the OPENBLAS_* and
   *_NUM_THREADS environment variables that are set);
2. the machine's limit: NumPy matmul GFLOP/s for the shapes a hidden layer multiplies (forward
   ``h @ W``, weight gradient ``hᵀ @ dz``, signal ``dz @ Wᵀ``) and for a large square product, and
   how much slower a product gets when its operands are subnormal;
3. throughput: ``Network.train_step`` (forward + backward + SGD update + every per-step statistic
   the GUI draws) in steps per second, for each case, with

   * FLOPs per step from the matmuls alone: forward 2·B·in·out per layer, backward twice that;
   * the fraction of the large-square matmul peak that reaches (``%peak``), and the fraction of
     the *matmul ceiling* — the step rate if a step cost only its matmuls, each at the speed
     measured for its exact shape (``%ceil``): what is left is Python and element-wise work;
   * the same network and step in PyTorch on the CPU (``torch.nn.Linear`` stack, the same
     activation, norm and residual path, ``torch.optim.SGD``, the same dtype, the same initial
     weights, as many threads as NumPy's BLAS), when ``torch`` is importable. Both are timed in
     alternating rounds in this one process, and ``ours/torch`` is the median of the per-round
     ratios, so load from other processes affects both sides alike;
   * ``lean``: our same step without the per-layer statistics (``Network.train_step_lean``,
     the same parameters after it, bit for bit) — the work PyTorch's step does, and how the app
     trains the steps whose statistics nobody will see; ``lean/torch`` in the same rounds.

4. optimizers: the same step with SGD, RMSprop and Adam (full and lean), depth 100, and each
   one's cost relative to SGD's step (target for Adam at depth 100: at most 1.3x).

BLAS threads are as in the app (``vg_desktop.limit_blas_threads``): one, unless
OPENBLAS_NUM_THREADS, OMP_NUM_THREADS or MKL_NUM_THREADS is set; ``--threads N`` overrides.

``--ref-engine DIR`` adds a third contestant: an engine package copied to ``DIR`` (for example
the engine as it was before a change), timed in the same alternating rounds; ``ours/ref`` is
what an optimization bought.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from vg_desktop import limit_blas_threads

_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_SET_BY_USER = {var for var in _THREAD_VARS if var in os.environ}
# BLAS threads as the app has them: one per training thread, unless OPENBLAS_NUM_THREADS,
# OMP_NUM_THREADS or MKL_NUM_THREADS is set (then that wins); must run before NumPy loads.
# ``--threads N`` changes it afterwards. PyTorch always gets as many threads as NumPy's BLAS.
limit_blas_threads()

import numpy as np  # noqa: E402

from vg_desktop.engine import Network, NetworkConfig, make_dataset  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "engine.json"
ENV_VARS = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
)
VARIANTS = {
    "plain": {"normalization": "none", "residual": False},
    "batchnorm": {"normalization": "batch", "residual": False},
    "residual": {"normalization": "none", "residual": True},
}
LEARNING_RATE = 0.05
N_INPUTS, N_CLASSES = 2, 2


@dataclass(frozen=True)
class Case:
    """One benchmarked network: sigmoid, Xavier init, SGD on one fixed spiral batch."""

    variant: str
    dtype: str
    depth: int
    width: int
    batch: int

    @property
    def name(self) -> str:
        return f"{self.variant}/{self.dtype}/d{self.depth}/w{self.width}/b{self.batch}"

    def config(self) -> NetworkConfig:
        return NetworkConfig(
            depth=self.depth,
            width=self.width,
            activation="sigmoid",
            dtype=self.dtype,
            **VARIANTS[self.variant],
        )

    def layer_shapes(self) -> list[tuple[int, int]]:
        """(fan_in, fan_out) of every layer, the output layer last."""
        hidden = [(N_INPUTS, self.width)] + [(self.width, self.width)] * (self.depth - 1)
        return [*hidden, (self.width, N_CLASSES)]

    def flops_per_step(self) -> int:
        """Matmul FLOPs of one step: 2·B·in·out per layer forward, twice that backward."""
        return sum(3 * 2 * self.batch * fan_in * fan_out for fan_in, fan_out in self.layer_shapes())


def full_grid() -> list[Case]:
    return [
        Case(variant, dtype, depth, width, batch)
        for dtype in ("float64", "float32")
        for variant in VARIANTS
        for depth in (10, 30, 100, 200)
        for width in (16, 64, 256)
        for batch in (64, 256)
    ]


# The headless target (depth 100, width 32, batch 64, float64) is always measured too.
TARGET_CASE = Case("plain", "float64", 100, 32, 64)

QUICK_CASES = [
    TARGET_CASE,
    Case("plain", "float64", 10, 16, 64),
    Case("plain", "float64", 30, 64, 64),
    Case("plain", "float64", 30, 64, 256),
    Case("plain", "float64", 30, 256, 256),
    Case("batchnorm", "float64", 30, 64, 64),
    Case("residual", "float64", 30, 64, 64),
    Case("plain", "float32", 100, 64, 64),
    Case("plain", "float32", 30, 256, 256),
]


@dataclass(frozen=True)
class Settings:
    rounds: int  # alternating timing rounds per case (the median is reported)
    min_time: float  # seconds each contestant runs per round, at least ...
    min_steps: int  # ... and at least this many steps
    warmup_steps: int


QUICK = Settings(rounds=5, min_time=0.08, min_steps=2, warmup_steps=3)
DEFAULT = Settings(rounds=5, min_time=0.12, min_steps=2, warmup_steps=3)
FULL = Settings(rounds=9, min_time=0.3, min_steps=3, warmup_steps=5)


# ---------------------------------------------------------------------------------- timing
# The clock every rate is measured with: wall time by default. ``--clock cpu`` switches to the
# process's CPU time, which other processes' load does not inflate (it still counts every thread
# of this process, so with multi-threaded BLAS it is CPU cost, not latency).
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}
clock = CLOCKS["wall"]


def steps_per_second(step: Callable[[], object], min_time: float, min_steps: int) -> float:
    """Run ``step`` until both ``min_time`` seconds and ``min_steps`` calls have passed."""
    count = 0
    start = clock()
    while True:
        step()
        count += 1
        elapsed = clock() - start
        if count >= min_steps and elapsed >= min_time:
            return count / elapsed


def seconds_per_call(call: Callable[[], object], min_time: float = 0.05, repeats: int = 3) -> float:
    call()
    return statistics.median(1.0 / steps_per_second(call, min_time, 3) for _ in range(repeats))


# ---------------------------------------------------------------------------------- machine
def blas_threads() -> int:
    """How many threads NumPy's BLAS uses (threadpoolctl when installed, else the environment)."""
    try:
        import threadpoolctl

        for pool in threadpoolctl.threadpool_info():
            if pool["user_api"] == "blas" and "numpy" in pool["filepath"]:
                return int(pool["num_threads"])
    except ImportError:
        pass
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return os.cpu_count() or 1


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_configuration() -> dict:
    info: dict = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "environment": {var: os.environ[var] for var in ENV_VARS if var in os.environ},
        "numpy_blas_threads": blas_threads(),
    }
    try:
        config = np.show_config(mode="dicts")
        info["numpy_build_blas"] = config["Build Dependencies"]["blas"]
        info["numpy_simd"] = config["SIMD Extensions"]
    except Exception as error:  # the dict layout is not a stable NumPy API
        info["numpy_build_blas"] = f"unavailable ({error})"
    try:
        import threadpoolctl

        info["threadpools"] = threadpoolctl.threadpool_info()
    except ImportError:
        info["threadpools"] = "threadpoolctl not installed (pip install -e '.[bench]')"
    return info


def print_blas_configuration(info: dict) -> None:
    print("== BLAS configuration")
    print(f"python {info['python']}, numpy {info['numpy']}, {info['platform']}")
    print(f"cpu: {info['cpu']} ({info['logical_cpus']} logical cpus)")
    blas = info.get("numpy_build_blas")
    if isinstance(blas, dict):
        print(f"numpy built with: {blas.get('name')} {blas.get('version')}")
        if "openblas configuration" in blas:
            print(f"  {blas['openblas configuration']}")
    pools = info.get("threadpools")
    if isinstance(pools, list):
        for pool in pools:
            arch = pool.get("architecture") or ""
            print(
                f"threadpool: {pool['internal_api']} {pool.get('version') or ''} {arch} "
                f"threads={pool['num_threads']} ({Path(pool['filepath']).name})"
            )
    else:
        print(f"threadpools: {pools}")
    env = {
        var: value if var in _SET_BY_USER or var not in _THREAD_VARS else f"{value} (as the app)"
        for var, value in info["environment"].items()
    }
    print(
        "environment: "
        + (
            ", ".join(f"{k}={v}" for k, v in env.items())
            or "none of " + "/".join(ENV_VARS) + " set"
        )
    )
    print(f"NumPy BLAS threads: {info['numpy_blas_threads']}")
    print()


def _operands(kind: str, batch: int, fan_in: int, fan_out: int, dtype: str, rng):
    """The two operands of one of a layer's three products, laid out as the engine has them."""
    h = rng.standard_normal((batch, fan_in)).astype(dtype)
    w = rng.standard_normal((fan_in, fan_out)).astype(dtype)
    dz = rng.standard_normal((batch, fan_out)).astype(dtype)
    if kind == "forward":  # z = h @ W          (B, in) @ (in, out)
        return h, w, (batch, fan_out)
    if kind == "weight_grad":  # dW = hᵀ @ dz  (in, B) @ (B, out), hᵀ a transposed view
        return h.T, dz, (fan_in, fan_out)
    return dz, w.T, (batch, fan_in)  # dh = dz @ Wᵀ  (B, out) @ (out, in), Wᵀ a view


MATMUL_KINDS = ("forward", "weight_grad", "signal")


class MatmulTimer:
    """Seconds per NumPy matmul for a layer's product, measured once per shape and dtype."""

    def __init__(self, min_time: float) -> None:
        self.min_time = min_time
        self.cache: dict[tuple, float] = {}

    def seconds(self, kind: str, batch: int, fan_in: int, fan_out: int, dtype: str) -> float:
        key = (kind, batch, fan_in, fan_out, dtype)
        if key not in self.cache:
            a, b, out_shape = _operands(
                kind, batch, fan_in, fan_out, dtype, np.random.default_rng(0)
            )
            out = np.empty(out_shape, dtype=dtype)
            self.cache[key] = seconds_per_call(lambda: np.matmul(a, b, out=out), self.min_time)
        return self.cache[key]

    def ceiling_steps_per_second(self, case: Case) -> float:
        """Steps per second if a step cost only its matmuls (the first layer has no signal)."""
        total = 0.0
        for layer, (fan_in, fan_out) in enumerate(case.layer_shapes()):
            for kind in MATMUL_KINDS:
                if kind == "signal" and layer == 0:
                    continue
                total += self.seconds(kind, case.batch, fan_in, fan_out, case.dtype)
        return 1.0 / total


def square_gflops(n: int, dtype: str, min_time: float) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    out = np.empty_like(a)
    return 2 * n**3 / seconds_per_call(lambda: np.matmul(a, b, out=out), min_time) / 1e9


def subnormal_penalty(batch: int, width: int, dtype: str) -> dict:
    """How much slower ``dz @ Wᵀ`` gets when dz has fallen into the subnormal range."""
    rng = np.random.default_rng(0)
    w = rng.standard_normal((width, width)).astype(dtype)
    tiny = float(np.finfo(dtype).tiny)
    normal = (rng.standard_normal((batch, width)) * 1e-3).astype(dtype)
    subnormal = (rng.standard_normal((batch, width)) * tiny / 16).astype(dtype)
    out = np.empty((batch, width), dtype=dtype)
    t_normal = seconds_per_call(lambda: np.matmul(normal, w.T, out=out), 0.03)
    t_sub = seconds_per_call(lambda: np.matmul(subnormal, w.T, out=out), 0.03)
    return {"batch": batch, "width": width, "dtype": dtype, "normal_us": t_normal * 1e6,
            "subnormal_us": t_sub * 1e6, "slowdown": t_sub / t_normal}  # fmt: skip


def machine_limits(cases: list[Case], timer: MatmulTimer, square: int) -> dict:
    print("== Machine limit: NumPy matmul GFLOP/s")
    peak = {dtype: square_gflops(square, dtype, 0.2) for dtype in ("float64", "float32")}
    for dtype, value in peak.items():
        print(f"{square}x{square} @ {square}x{square} {dtype}: {value:7.1f} GFLOP/s")
    shapes = []
    print(f"{'dtype':8} {'B':>4} {'width':>5}  " + "  ".join(f"{k:>12}" for k in MATMUL_KINDS))
    for dtype, batch, width in sorted({(c.dtype, c.batch, c.width) for c in cases}):
        row = {"dtype": dtype, "batch": batch, "width": width}
        for kind in MATMUL_KINDS:
            seconds = timer.seconds(kind, batch, width, width, dtype)
            row[f"{kind}_gflops"] = 2 * batch * width * width / seconds / 1e9
            row[f"{kind}_us"] = seconds * 1e6
        shapes.append(row)
        print(
            f"{dtype:8} {batch:>4} {width:>5}  "
            + "  ".join(f"{row[f'{k}_gflops']:7.1f} GF/s" for k in MATMUL_KINDS)
        )
    print(
        "(forward: (B,w)@(w,w); weight_grad: (w,B)@(B,w) from a transposed view; "
        "signal: (B,w)@(w,w)ᵀ)"
    )
    penalties = [
        subnormal_penalty(batch, width, dtype)
        for dtype in ("float64", "float32")
        for batch, width in ((64, 32), (256, 256))
    ]
    for p in penalties:
        print(
            f"subnormal operand, dz @ Wᵀ {p['dtype']} B={p['batch']} w={p['width']}: "
            f"{p['normal_us']:.1f} us -> {p['subnormal_us']:.1f} us ({p['slowdown']:.0f}x)"
        )
    print()
    return {"square_size": square, "square_gflops": peak, "layer_shapes": shapes,
            "subnormal_penalty": penalties}  # fmt: skip


# ---------------------------------------------------------------------------------- contestants
def load_engine_copy(path: Path):
    """Import an engine package from ``path`` under another name (``vg_ref_engine``)."""
    init = path / "__init__.py"
    if not init.exists():
        raise SystemExit(f"--ref-engine: {init} does not exist")
    spec = importlib.util.spec_from_file_location(
        "vg_ref_engine", init, submodule_search_locations=[str(path)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["vg_ref_engine"] = module
    spec.loader.exec_module(module)
    return module


def numpy_stepper(network_cls, config_cls, case: Case, x, y) -> Callable[[], object]:
    fields = asdict(case.config())
    # An older engine (--ref-engine) may predate some settings; at their defaults they mean
    # what that engine computes, so they are left out.
    known = set(config_cls.__dataclass_fields__)
    defaults = NetworkConfig()
    for name in set(fields) - known:
        if fields[name] != getattr(defaults, name):
            raise SystemExit(f"--ref-engine has no setting {name!r} (this case sets it)")
        del fields[name]
    net = network_cls(config_cls(**fields), n_inputs=N_INPUTS, n_classes=N_CLASSES)

    def step():
        return net.train_step(x, y, LEARNING_RATE)

    step.network = net
    return step


def lean_stepper(case: Case, x, y) -> Callable[[], object]:
    """Our same step without the per-layer statistics (``Network.train_step_lean``): the work
    PyTorch's step does, and what the app trains the steps nobody will see with."""
    net = Network(NetworkConfig(**asdict(case.config())), n_inputs=N_INPUTS, n_classes=N_CLASSES)

    def step():
        return net.train_step_lean(x, y, LEARNING_RATE)

    return step


def torch_stepper(
    torch, case: Case, reference: Network, x, y, flush_denormal: bool = False
) -> Callable[[], object]:
    """The same network, initial weights and SGD step, in PyTorch.

    With ``flush_denormal``, each step runs with the CPU's flush-to-zero / denormals-are-zero
    modes on (``torch.set_flush_denormal``), switched off again before NumPy runs: the mode is
    per thread, and it would change our engine's numbers too.
    """
    nn = torch.nn
    dtype = {"float64": torch.float64, "float32": torch.float32}[case.dtype]
    norm = VARIANTS[case.variant]["normalization"]
    residual = VARIANTS[case.variant]["residual"]

    class Peer(nn.Module):
        def __init__(self):
            super().__init__()
            self.linears = nn.ModuleList(
                nn.Linear(fan_in, fan_out, dtype=dtype) for fan_in, fan_out in case.layer_shapes()
            )
            self.norms = nn.ModuleList(
                nn.BatchNorm1d(case.width, eps=1e-5, momentum=0.1, dtype=dtype)
                for _ in range(case.depth if norm == "batch" else 0)
            )

        def forward(self, h):
            for layer, linear in enumerate(self.linears[:-1]):
                u = linear(h)
                if norm == "batch":
                    u = self.norms[layer](u)
                a = torch.sigmoid(u)
                h = h + a if (residual and layer > 0) else a
            return self.linears[-1](h)

    model = Peer()
    with torch.no_grad():
        for linear, p in zip(model.linears, reference.params, strict=True):
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(p["W"].T)))
            linear.bias.copy_(torch.from_numpy(p["b"]))
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    xt = torch.from_numpy(np.asarray(x, dtype=case.dtype))
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
    loss_fn = torch.nn.functional.cross_entropy

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(xt), yt)
        loss.backward()
        optimizer.step()
        return loss

    if not flush_denormal:
        return step

    def step_flushing():
        torch.set_flush_denormal(True)
        try:
            return step()
        finally:
            torch.set_flush_denormal(False)

    return step_flushing


def measure_case(
    case: Case, settings: Settings, contestants: dict, flush_denormal: bool = False
) -> dict:
    """Steps/s of every contestant, timed in alternating rounds; per-round ratios to ``ours``."""
    x, y = make_dataset("spiral", n=case.batch, noise=0.1, seed=0)
    steppers = {}
    ours = numpy_stepper(Network, NetworkConfig, case, x, y)
    steppers["ours"] = ours
    steppers["lean"] = lean_stepper(case, x, y)
    if "ref" in contestants:
        module = contestants["ref"]
        steppers["ref"] = numpy_stepper(module.Network, module.NetworkConfig, case, x, y)
    if "torch" in contestants:
        steppers["torch"] = torch_stepper(
            contestants["torch"], case, ours.network, x, y, flush_denormal
        )
    for step in steppers.values():
        for _ in range(settings.warmup_steps):
            step()
    rates: dict[str, list[float]] = {name: [] for name in steppers}
    order = list(steppers)
    for round_index in range(settings.rounds):
        # Rotate who goes first, so a drift in machine load does not favour one side.
        shift = round_index % len(order)
        for name in order[shift:] + order[:shift]:
            rates[name].append(
                steps_per_second(steppers[name], settings.min_time, settings.min_steps)
            )
    result = {"case": asdict(case), "name": case.name}
    for name, values in rates.items():
        result[f"{name}_steps_per_s"] = statistics.median(values)
        result[f"{name}_rounds"] = values
        if name != "ours":
            ratios = [a / b for a, b in zip(rates["ours"], values, strict=True)]
            result[f"ours_over_{name}"] = statistics.median(ratios)
    if "torch" in rates:
        ratios = [a / b for a, b in zip(rates["lean"], rates["torch"], strict=True)]
        result["lean_over_torch"] = statistics.median(ratios)
    last = ours()
    result["ours_finite"] = bool(last.finite)
    return result


OPTIMIZER_CASES = [TARGET_CASE, Case("plain", "float32", 100, 64, 64)]
OPTIMIZER_LEARNING_RATE = 0.01  # Adam's and RMSprop's usual scale; the cost does not depend on it


def measure_optimizers(case: Case, settings: Settings) -> dict:
    """Steps/s of the same network with SGD, RMSprop and Adam (full and lean steps), timed in
    alternating rounds; ``cost_over_sgd`` is the median per-round ratio of step times."""
    x, y = make_dataset("spiral", n=case.batch, noise=0.1, seed=0)
    steppers = {}
    for optimizer in ("sgd", "rmsprop", "adam"):
        for lean in (False, True):
            net = Network(case.config(), n_inputs=2, n_classes=2)
            method = net.train_step_lean if lean else net.train_step

            def step(method=method, optimizer=optimizer):
                return method(x, y, OPTIMIZER_LEARNING_RATE, optimizer=optimizer)

            steppers[f"{optimizer}{' lean' if lean else ''}"] = step
    for step in steppers.values():
        for _ in range(settings.warmup_steps):
            step()
    rates: dict[str, list[float]] = {name: [] for name in steppers}
    order = list(steppers)
    for round_index in range(settings.rounds):
        shift = round_index % len(order)
        for name in order[shift:] + order[:shift]:
            rates[name].append(
                steps_per_second(steppers[name], settings.min_time, settings.min_steps)
            )
    result = {"case": asdict(case), "name": case.name, "learning_rate": OPTIMIZER_LEARNING_RATE}
    for name, values in rates.items():
        base = "sgd lean" if name.endswith("lean") else "sgd"
        result[name] = {
            "steps_per_s": statistics.median(values),
            "rounds": values,
            "cost_over_sgd": statistics.median(
                [b / a for a, b in zip(values, rates[base], strict=True)]
            ),
        }
    return result


def measure_headless(settings: Settings) -> dict:
    """The issue's headless target: TrainingRun.step (minibatch draw included), depth 100,
    width 32, batch 64, float64, plain sigmoid; at least 300 steps per second."""
    from vg_desktop.engine import DataConfig, ExperimentConfig, TrainConfig, TrainingRun

    config = ExperimentConfig(
        network=TARGET_CASE.config(),
        data=DataConfig(name="spiral", n_samples=512, noise=0.1, seed=0),
        train=TrainConfig(learning_rate=LEARNING_RATE, batch_size=TARGET_CASE.batch),
    )
    run = TrainingRun(config)
    for _ in range(settings.warmup_steps):
        run.step()
    rates = [
        steps_per_second(run.step, settings.min_time, settings.min_steps)
        for _ in range(settings.rounds)
    ]
    return {"config": config.to_dict(), "steps_per_s": statistics.median(rates), "rounds": rates}


# ---------------------------------------------------------------------------------- report
def print_row_header(contestants: dict) -> None:
    cols = f"{'case':34} {'ours st/s':>10}"
    if "ref" in contestants:
        cols += f" {'ref st/s':>10} {'ours/ref':>8}"
    if "torch" in contestants:
        cols += f" {'torch st/s':>10} {'ours/torch':>10}"
    cols += f" {'lean st/s':>10}"
    if "torch" in contestants:
        cols += f" {'lean/torch':>10}"
    cols += f" {'MFLOP/st':>9} {'GFLOP/s':>8} {'%peak':>6} {'%ceil':>6}"
    print(cols)


def print_row(result: dict, contestants: dict) -> None:
    line = f"{result['name']:34} {result['ours_steps_per_s']:10.1f}"
    if "ref" in contestants:
        line += f" {result['ref_steps_per_s']:10.1f} {result['ours_over_ref']:8.2f}"
    if "torch" in contestants:
        line += f" {result['torch_steps_per_s']:10.1f} {result['ours_over_torch']:10.2f}"
    line += f" {result['lean_steps_per_s']:10.1f}"
    if "torch" in contestants:
        line += f" {result['lean_over_torch']:10.2f}"
    line += (
        f" {result['flops_per_step'] / 1e6:9.2f} {result['gflops']:8.2f}"
        f" {100 * result['fraction_of_peak']:6.1f} {100 * result['fraction_of_ceiling']:6.1f}"
    )
    if not result["ours_finite"]:
        line += "  (diverged)"
    print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.engine",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a small subset (< 1 minute)")
    size.add_argument("--full", action="store_true", help="the whole grid, longer rounds")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TEXT",
        help="keep cases whose name contains TEXT (repeatable; any match), "
        "e.g. --only plain/float64/d100",
    )
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch peer")
    parser.add_argument(
        "--ref-engine",
        type=Path,
        metavar="DIR",
        help="also time the engine package copied to DIR (before/after)",
    )
    parser.add_argument("--rounds", type=int, help="override the number of timing rounds")
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="limit NumPy's BLAS (needs threadpoolctl) and PyTorch to N threads",
    )
    parser.add_argument(
        "--torch-flush-denormal",
        action="store_true",
        help="run the PyTorch steps with torch.set_flush_denormal(True), which NumPy cannot do",
    )
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall time (default), or CPU time of this process: steadier on a loaded machine, "
        "and equal to wall time on an idle one when single-threaded (--threads 1)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"JSON output ({RESULTS})")
    args = parser.parse_args(argv)

    if args.quick:
        settings, cases = QUICK, list(QUICK_CASES)
    elif args.full:
        settings, cases = FULL, [TARGET_CASE, *full_grid()]
    else:
        settings, cases = DEFAULT, [TARGET_CASE, *full_grid()]
    if args.rounds:
        settings = Settings(
            args.rounds, settings.min_time, settings.min_steps, settings.warmup_steps
        )
    if args.only:
        cases = [c for c in cases if any(text in c.name for text in args.only)]
        if not cases:
            parser.error("--only matched no case")

    global clock
    clock = CLOCKS[args.clock]
    started = time.time()
    limiter = None
    if args.threads:
        try:
            import threadpoolctl
        except ImportError:
            parser.error("--threads needs threadpoolctl (pip install -e '.[bench]')")
        limiter = threadpoolctl.threadpool_limits(limits=args.threads, user_api="blas")
    info = blas_configuration()  # before torch is imported: its own OpenMP/MKL pools come later
    print_blas_configuration(info)
    threads = info["numpy_blas_threads"]

    contestants: dict = {}
    if args.ref_engine:
        contestants["ref"] = load_engine_copy(args.ref_engine.resolve())
    if not args.no_torch:
        # PyTorch's OpenMP workers busy-wait between parallel regions by default. Sharing two
        # cores with NumPy's BLAS threads in this one process, that starves whichever runs next
        # (measured here: a 256x256 NumPy matmul went from 0.27 ms to 16 ms after a torch step).
        # Passive waiting makes the alternating rounds measure each engine, not the other's spin.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        info["omp_wait_policy"] = os.environ["OMP_WAIT_POLICY"]
        try:
            import torch

            torch.set_num_threads(threads)
            contestants["torch"] = torch
            info["torch"] = {"version": torch.__version__, "threads": torch.get_num_threads()}
            print(
                f"PyTorch {torch.__version__} on the CPU, {torch.get_num_threads()} threads, "
                f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}\n"
            )
        except ImportError:
            print("PyTorch is not installed: no peer column (pip install -e '.[bench]')\n")

    timer = MatmulTimer(min_time=0.03 if args.quick else 0.06)
    limits = machine_limits(cases, timer, square=1024 if args.quick else 2048)

    print(
        f"== Throughput ({args.clock} clock): Network.train_step, sigmoid, Xavier init, "
        f"SGD lr {LEARNING_RATE}, {settings.rounds} alternating rounds of >= "
        f"{settings.min_time}s, medians"
    )
    print_row_header(contestants)
    results = []
    for case in cases:
        result = measure_case(case, settings, contestants, args.torch_flush_denormal)
        result["flops_per_step"] = case.flops_per_step()
        result["gflops"] = result["flops_per_step"] * result["ours_steps_per_s"] / 1e9
        result["fraction_of_peak"] = result["gflops"] / limits["square_gflops"][case.dtype]
        ceiling = timer.ceiling_steps_per_second(case)
        result["matmul_ceiling_steps_per_s"] = ceiling
        result["fraction_of_ceiling"] = result["ours_steps_per_s"] / ceiling
        print_row(result, contestants)
        results.append(result)
    print(
        f"\n== Optimizers ({args.clock} clock): the same step with SGD, RMSprop and Adam, lr "
        f"{OPTIMIZER_LEARNING_RATE}; cost = step time / SGD's step time (median of rounds)"
    )
    print(f"{'case':34} {'optimizer':>12} {'steps/s':>10} {'cost/SGD':>9}")
    optimizer_results = []
    for case in OPTIMIZER_CASES:
        result = measure_optimizers(case, settings)
        optimizer_results.append(result)
        for name in ("sgd", "rmsprop", "adam", "sgd lean", "rmsprop lean", "adam lean"):
            row = result[name]
            print(
                f"{case.name:34} {name:>12} {row['steps_per_s']:10.1f} {row['cost_over_sgd']:9.2f}",
                flush=True,
            )
    headless = measure_headless(settings)
    print(
        f"\nheadless target, TrainingRun.step, {TARGET_CASE.name}: "
        f"{headless['steps_per_s']:.0f} steps/s (target >= 300)"
    )
    elapsed = time.time() - started
    print(f"{len(results)} cases in {elapsed:.0f} s")

    report = {
        "command": " ".join(
            ["python -m benchmarks.engine", *(argv if argv is not None else sys.argv[1:])]
        ),
        "settings": asdict(settings),
        "clock": args.clock,
        "learning_rate": LEARNING_RATE,
        "elapsed_s": elapsed,
        "configuration": info,
        "machine_limits": limits,
        "matmul_seconds": [
            {"kind": k, "batch": b, "fan_in": i, "fan_out": o, "dtype": d, "seconds": s}
            for (k, b, i, o, d), s in timer.cache.items()
        ],
        "results": results,
        "headless_target": headless,
        "optimizers": optimizer_results,
        "torch_flush_denormal": args.torch_flush_denormal,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=str))
    print(f"wrote {args.out}")
    del limiter
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
