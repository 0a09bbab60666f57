"""The ``fastebm`` command (also ``python -m fastebm``)."""

from __future__ import annotations

import argparse
import time

import torch


def demo(args: argparse.Namespace) -> None:
    """Sample from a small random RBM and report sweeps per second."""
    from . import ops

    g = torch.Generator().manual_seed(args.seed)
    V, H, B = args.visible, args.hidden, args.chains
    W = 0.1 * torch.randn(V, H, generator=g)
    b, c = torch.zeros(V), torch.zeros(H)
    v = torch.bernoulli(torch.full((B, V), 0.5), generator=g)
    ops.rbm_gibbs(v, W, b, c, k=1, generator=g)  # warm-up
    start = time.perf_counter()
    v, h = ops.rbm_gibbs(v, W, b, c, k=args.sweeps, generator=g)
    elapsed = time.perf_counter() - start
    print(f"RBM {V}x{H}, {B} chains, {args.sweeps} sweeps in {elapsed:.3f} s: "
          f"{args.sweeps / elapsed:,.0f} sweeps/s ({B * args.sweeps / elapsed:,.0f} chain-sweeps/s); "
          f"mean visible activity {v.mean():.3f}")


def bench(args: argparse.Namespace) -> None:
    """Print the benchmark tables: runs bench/run_all.py of the source checkout."""
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "bench" / "run_all.py"
    if not script.exists():
        raise SystemExit(f"fastebm bench needs the source checkout's bench/ folder ({script} is missing)")
    runpy.run_path(str(script), run_name="fastebm_bench")["main"](["--quick"] if args.quick else [])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fastebm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="sample from a small RBM and print sweeps/s")
    p.add_argument("--visible", type=int, default=784)
    p.add_argument("--hidden", type=int, default=500)
    p.add_argument("--chains", type=int, default=256)
    p.add_argument("--sweeps", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=demo)
    p = sub.add_parser("bench", help="print the benchmark table")
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.set_defaults(func=bench)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)
