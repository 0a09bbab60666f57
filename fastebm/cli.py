"""The ``fastebm`` command (also ``python -m fastebm``).

  fastebm train rbm --data digits --hidden 64 --method pcd --epochs 30 --out runs/rbm
  fastebm evaluate runs/rbm          # rerun AIS on the checkpoint
  fastebm bench                      # the benchmark tables
"""

from __future__ import annotations

import argparse
import json
import sys


def _betas(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


def train(args: argparse.Namespace) -> None:
    from .rbm_job import train_rbm

    try:
        metrics = train_rbm(
            data=args.data, hidden=args.hidden, method=args.method, k=args.k, epochs=args.epochs,
            batch_size=args.batch_size, lr=args.lr, optimizer=args.optimizer,
            momentum=args.momentum, weight_decay=args.weight_decay, chains=args.chains,
            pt_betas=args.pt_betas, seed=args.seed, out=args.out, resume=args.resume,
            checkpoint_every=args.checkpoint_every, ais_chains=args.ais_chains,
            ais_betas=args.ais_betas, progress=not args.no_progress)
    except KeyboardInterrupt:  # the Trainer saved the checkpoint before re-raising
        sys.exit(f"interrupted: {args.out}/checkpoint.pt is saved; rerun with --resume to continue")
    if metrics:
        _report(metrics, args.out)


def evaluate(args: argparse.Namespace) -> None:
    from .rbm_job import evaluate as evaluate_run

    _report(evaluate_run(args.out, ais_chains=args.ais_chains, ais_betas=args.ais_betas,
                         seed=args.seed), args.out)


def _report(metrics: dict, out: str) -> None:
    keys = ["log_z_ais", "log_z_ais_stderr", "log_z_reverse_ais", "log_z_exact",
            "train_log_likelihood", "test_log_likelihood", "base_rate_test_log_likelihood",
            "test_pseudo_log_likelihood", "train_seconds"]
    print(json.dumps({k: metrics[k] for k in keys if k in metrics}, indent=2))
    print(f"wrote {out}/checkpoint.pt, {out}/samples.png, {out}/curves.png, {out}/metrics.json")


def bench(args: argparse.Namespace) -> None:
    """Print the benchmark tables: runs bench/run_all.py of the source checkout."""
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "bench" / "run_all.py"
    if not script.exists():
        raise SystemExit(f"fastebm bench needs the source checkout's bench/ folder ({script} is missing)")
    flags = [flag for flag, on in (("--quick", args.quick), ("--ais", args.ais)) if on]
    runpy.run_path(str(script), run_name="fastebm_bench")["main"](flags)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fastebm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a model")
    p.add_argument("model", choices=["rbm"])
    p.add_argument("--data", default="digits", choices=["digits", "mnist5k"])
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--method", default="pcd", choices=["cd", "pcd", "pl", "spl"],
                   help="CD-k, PCD-k (SML), exact or stochastic pseudo-likelihood")
    p.add_argument("--k", type=int, default=1, help="Gibbs sweeps per update (CD / PCD)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--optimizer", default="adam", choices=["adam", "sgd"])
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum")
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--chains", type=int, default=100, help="persistent chains (PCD)")
    p.add_argument("--pt-betas", type=_betas, default=None,
                   help="parallel tempering inverse temperatures for PCD, e.g. 1,0.9,0.8")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="runs/rbm")
    p.add_argument("--resume", action="store_true", help="continue the checkpoint in --out")
    p.add_argument("--checkpoint-every", type=int, default=0, help="steps; 0 = every epoch")
    p.add_argument("--ais-chains", type=int, default=100)
    p.add_argument("--ais-betas", type=int, default=14500)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=train)

    p = sub.add_parser("evaluate", help="rerun AIS on a training run's checkpoint")
    p.add_argument("out", help="the run's folder (--out of fastebm train)")
    p.add_argument("--ais-chains", type=int, default=1000)
    p.add_argument("--ais-betas", type=int, default=14500)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=evaluate)

    p = sub.add_parser("bench", help="print the benchmark tables (bench/run_all.py)")
    p.add_argument("--quick", action="store_true", help="shorter timing runs")
    p.add_argument("--ais", action="store_true",
                   help="also time AIS, 1,000 chains x 10,000 betas on a 784-500 RBM (minutes)")
    p.set_defaults(func=bench)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)
