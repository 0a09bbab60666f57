"""Shared benchmark plumbing: timing, the machine's floor, Markdown tables."""

from __future__ import annotations

import contextlib
import inspect
import platform
import statistics
import time

import torch
from torch.utils import benchmark

import fastebm

ISAS = ("avx512", "avx2", "baseline")


def median_seconds(fn, min_run_time: float = 1.0) -> float:
    """Median wall time of fn() over torch.utils.benchmark's blocked auto-range, on all of
    torch's threads (the Timer's default is one)."""
    fn()  # warm-up
    timer = benchmark.Timer(stmt="fn()", globals={"fn": fn}, num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time).median


#: Seconds to wait after a contender whose thread pool keeps spinning when its call returns
#: (NumPy's OpenBLAS, under scikit-learn: about 0.1 s), so the next one has the cores.
SETTLE_SECONDS = 0.2


def side_by_side(fns: dict, min_run_time: float = 1.0, rounds: int = 5,
                 settle_after: tuple[str, ...] = ()) -> dict:
    """{name: seconds} for each fn(): the median over `rounds` interleaved rounds of each one's
    blocked median, so a slow spell of the machine hits every contender alike. After each
    contender named in ``settle_after`` the next waits SETTLE_SECONDS: without it, the one
    timed after scikit-learn ran at half speed beside OpenBLAS's spinning threads (fastebm's
    AVX-512 path read 2× slower than its AVX2 path on Zen 4; both are as fast)."""
    for fn in fns.values():
        fn()  # warm-up
    times = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(median_seconds(fn, min_run_time / rounds))
            if name in settle_after:
                time.sleep(SETTLE_SECONDS)
    return {name: statistics.median(ts) for name, ts in times.items()}


def alternating(fns: dict, rounds: int = 40, calls: int = 2) -> dict:
    """{name: seconds} for whole loops (an epoch, a sampling run): each round times ``calls``
    back-to-back calls of every contender in turn, in a rotated order, with the garbage collector
    on (as a user's loop runs; timeit's turns it off); the median over the rounds, so a slow
    spell of the machine (this VM has ~30 s ones) shifts every contender alike."""
    for fn in fns.values():
        fn()  # warm-up
    names = list(fns)
    times = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            for _ in range(calls):
                fns[name]()
            times[name].append((time.perf_counter() - start) / calls)
    return {name: statistics.median(ts) for name, ts in times.items()}


def machine_floor(min_run_time: float = 1.0) -> dict:
    """The machine's float32 GEMM rate (GFLOP/s, 1024³ matmul) and copy bandwidth (GB/s,
    read + write of a 128 MiB tensor), measured now, beside the results."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    out = torch.empty(1024, 1024)
    gemm = median_seconds(lambda: torch.mm(a, b, out=out), min_run_time)
    src = torch.randn(32 * 1024 * 1024)
    dst = torch.empty_like(src)
    copy = median_seconds(lambda: dst.copy_(src), min_run_time)
    return {"gemm_gflops": 2 * 1024**3 / gemm / 1e9, "copy_gbs": 2 * src.numel() * 4 / copy / 1e9}


def cpu_name() -> str:
    """The CPU's model name, family / model numbers and vector flags (/proc/cpuinfo), or what
    platform knows: a VM's model name alone ("AMD EPYC") does not say which CPU it is."""
    info = {}
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            info.setdefault(key.strip(), value.strip())
    if "model name" not in info:
        return platform.processor() or platform.machine()
    flags = set(info.get("flags", "").split())
    vector = "+".join(f for f in ("avx2", "fma", "avx512f") if f in flags) or "no AVX2"
    return (f"{info['model name']} (family {info.get('cpu family', '?')}, model "
            f"{info.get('model', '?')}; {vector})")


def isa_paths() -> list[str]:
    """The CPU ISA paths this machine runs, best first (fastebm.set_cpu_isa names)."""
    best = fastebm.build_info()["cpu_isa_best"]
    return list(ISAS[ISAS.index(best):])


def on_path(isa: str, fn):
    """fn, run on CPU ISA path `isa`, then back on the path in use when it was wrapped (the
    machine's best unless FASTEBM_CPU_ISA says otherwise): each such contender sets its own
    path (one cheap call each way), so contenders on different paths interleave in one
    side_by_side run, and a fastebm contender that is not wrapped runs on the path a user gets."""
    restore = fastebm.build_info()["cpu_isa"]

    def run():
        fastebm.set_cpu_isa(isa)
        try:
            return fn()
        finally:
            fastebm.set_cpu_isa(restore)
    return run


def machine_line(floor: dict) -> str:
    return (f"Machine: {cpu_name()} (fastebm ISA paths: {', '.join(isa_paths())}), "
            f"{torch.get_num_threads()} threads, torch {torch.__version__}; floor: float32 GEMM "
            f"{floor['gemm_gflops']:.0f} GFLOP/s, copy {floor['copy_gbs']:.1f} GB/s.")


def markdown_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def script_main(run, doc: str) -> None:
    """A family bench run as a script: ``--device cpu|cuda`` and ``--quick``; the machine's line
    (CPU and floor) or the GPU's name, then ``run(min_run_time, device)``'s table, given
    ``quick=True`` (a smaller grid) and the CPU's ``copy_gbs`` where run takes them."""
    import argparse

    parser = argparse.ArgumentParser(description=doc)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    takes = inspect.signature(run).parameters
    extra = {"quick": True} if args.quick and "quick" in takes else {}
    if args.device == "cpu":
        floor = machine_floor()
        print(machine_line(floor) + "\n")
        if "copy_gbs" in takes:
            extra["copy_gbs"] = floor["copy_gbs"]
    else:
        print(f"Device: {torch.cuda.get_device_name()}, torch {torch.__version__}\n")
    print(run(0.2 if args.quick else 1.0, args.device, **extra))
