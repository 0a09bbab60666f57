"""The ``fastebm`` command (also ``python -m fastebm``), built from the job registry.

  fastebm train rbm --data digits --hidden 64 --method pcd --epochs 30 --out runs/rbm
  fastebm evaluate runs/rbm          # re-measure a run (the job saved in its checkpoint)
  fastebm sample ising --L 256 --betas 0.3,0.44,0.6   # sample a model without training
  fastebm reproduce svgd-mixture     # a paper's published experiment (docs/papers.md)
  fastebm bench                      # the benchmark tables

Every flag and the output folder are checked before any work; a user's mistake is printed as
one line (FASTEBM_DEBUG=1 shows the traceback).
"""

from __future__ import annotations

import argparse
import os
import re
import sys

from . import __version__
from .jobs import JOBS
from .ops import chunking
from .papers import REPRODUCTIONS
from .runs import RUN_ONLY, Run, UsageError
from .training.checkpoint import CheckpointError
from .training.distributed import leave_process_group



class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``fastebm train rbm: error: argument --k: ...``."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _add_job_parsers(sub, sampling: bool = False) -> None:
    for job in JOBS.values():
        if sampling and job.sample is None:
            continue
        about = job.sample_help if sampling else job.help
        p = sub.add_parser(job.name, help=about, description=about)
        for arg in job.all_sample_args if sampling else job.all_args:
            arg.add_to(p)
        p.set_defaults(job=job)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fastebm", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"fastebm {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train_p = sub.add_parser("train", help="train a model: fastebm train <job> ...",
                             description="jobs: " + "; ".join(f"{j.name}: {j.help}"
                                                               for j in JOBS.values()))
    jobs = train_p.add_subparsers(dest="job_name", required=True, metavar="job",
                                  parser_class=_Parser)
    _add_job_parsers(jobs)
    train_p.set_defaults(func=train)

    sample_p = sub.add_parser("sample", help="sample a model without training: fastebm sample "
                                             "<job> ...")
    samplers = sample_p.add_subparsers(dest="job_name", required=True, metavar="job",
                                       parser_class=_Parser)
    _add_job_parsers(samplers, sampling=True)
    sample_p.set_defaults(func=sample)

    p = sub.add_parser("evaluate", add_help=False,
                       help="re-measure a training run (fastebm evaluate DIR --help lists its "
                            "job's options)")
    p.add_argument("out", nargs="?", help="the run's folder (--out of fastebm train)")
    p.add_argument("-h", "--help", action="store_true", dest="evaluate_help",
                   help="show this help (with DIR: the options of DIR's job)")
    p.set_defaults(func=evaluate, evaluate_parser=p)

    reproduce_p = sub.add_parser("reproduce", help="rerun a paper's experiment: fastebm "
                                                   "reproduce <row> ... (docs/papers.md)")
    rows = reproduce_p.add_subparsers(dest="row_name", required=True, metavar="row",
                                      parser_class=_Parser)
    for row in REPRODUCTIONS.values():
        p = rows.add_parser(row.name, help=row.help, description=row.help)
        for arg in row.args:
            arg.add_to(p)
        p.add_argument("--out", help="the output folder (default: runs/paper-<row>)")
        p.add_argument("--no-progress", action="store_true", help="no progress bars")
        p.set_defaults(row=row)
    reproduce_p.set_defaults(func=reproduce)

    p = sub.add_parser("bench", help="print the benchmark tables (bench/run_all.py)")
    p.add_argument("--quick", action="store_true", help="shorter timing runs")
    p.add_argument("--ais", action="store_true",
                   help="also time AIS, 1,000 chains x 10,000 betas on a 784-500 RBM (minutes)")
    p.add_argument("--out", help="also write the report to this Markdown file")
    p.set_defaults(func=bench)
    return parser


def train(args: argparse.Namespace, rest: list[str]) -> None:
    job = args.job
    config = {a.dest: getattr(args, a.dest) for a in job.all_args if a.dest not in RUN_ONLY}
    job.check(config)
    out = args.out or os.path.join("runs", job.folder(config))
    for arg in job.all_args:  # a flag given where it does not apply would be silently ignored
        if arg.flag in args.given and not arg.applies(config):
            needs = " and ".join(f"--{k.replace('_', '-')} {' / '.join(map(str, v))}"
                                 for k, v in arg.only.items())
            raise UsageError(f"{arg.flag} applies only with {needs}")
    chunking.SHOW_PROGRESS = not args.no_progress
    if args.resume:
        run = Run.existing(out)
        done = run.check_resume(job, config, job.resume_may_change())["trainer"]["epoch"]
        if config["epochs"] < done:
            raise UsageError(f"--epochs {config['epochs']}: {run.checkpoint} has {done} epochs done")
    else:
        run = Run.new(out)
    run.omitted = job.inapplicable(config)
    try:
        metrics = job.train(config, run, not args.no_progress)
    except KeyboardInterrupt:  # the Trainer saved the checkpoint before re-raising
        sys.exit(f"interrupted: {run.checkpoint} is saved; rerun with --resume to continue")
    finally:
        leave_process_group()
    if metrics:
        _report(job, metrics, run)


def sample(args: argparse.Namespace, rest: list[str]) -> None:
    job = args.job
    config = {a.dest: getattr(args, a.dest) for a in job.all_sample_args if a.dest not in RUN_ONLY}
    job.check(config)
    chunking.SHOW_PROGRESS = not args.no_progress
    run = Run.new(args.out or os.path.join("runs", f"{job.name}-sample"), resumable=False)
    try:
        metrics = job.sample(config, run, not args.no_progress)
    except KeyboardInterrupt:
        sys.exit("interrupted: nothing was written")
    _report(job, metrics, run)


def reproduce(args: argparse.Namespace, rest: list[str]) -> None:
    row = args.row
    config = {a.dest: getattr(args, a.dest) for a in row.args}
    chunking.SHOW_PROGRESS = not args.no_progress
    run = Run.new(args.out or os.path.join("runs", f"paper-{row.name}"), resumable=False)
    try:
        metrics = row.reproduce(config, run, not args.no_progress)
    except KeyboardInterrupt:
        sys.exit("interrupted: the row's figures so far are in " + run.out)
    _report(row, metrics, run)


def evaluate(args: argparse.Namespace, rest: list[str]) -> None:
    if args.out is None:
        if args.evaluate_help:
            args.evaluate_parser.print_help()
            sys.exit(0)
        args.evaluate_parser.error("the following arguments are required: out")
    run = Run.existing(args.out)
    state = run.saved(JOBS)
    job = JOBS[state["job"]]
    p = _Parser(prog=f"fastebm evaluate {args.out}",
                description=f"re-measure a {job.name} run; rewrites its metrics.json (options "
                            f"default to the run's own settings)")
    for arg in job.evaluate_args():
        arg.add_to(p)
    p.set_defaults(**{a.dest: state["config"][a.dest] for a in job.evaluate_args()
                      if a.dest in state["config"]})
    options = vars(p.parse_args(rest + (["--help"] if args.evaluate_help else [])))
    run.omitted = job.inapplicable({**state["config"], **options})
    _report(job, job.evaluate(state["config"], options, state, run), run)


def _report(job, metrics: dict, run: Run) -> None:
    """The job's headline metrics, one a line (4 significant digits; every digit is in
    metrics.json), the verdicts against its baselines, and the files written."""
    shown = [k for k in job.summary_keys if k in metrics]
    width = max(map(len, shown), default=0)
    print(f"{job.name} run in {run.out}:")
    for key in shown:
        print(f"  {key:<{width}}  {_readable(metrics[key])}")
    for line in metrics.get("verdicts", []):
        print(f"  {line}")
    print("wrote " + ", ".join(os.path.join(run.out, name) for name in run.written))


def _readable(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return f"{len(value)} rows (metrics.json)"
    return str(value)


def bench(args: argparse.Namespace, rest: list[str]) -> None:
    """Print the benchmark tables: runs bench/run_all.py of the source checkout."""
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "bench" / "run_all.py"
    if not script.exists():
        raise UsageError(f"fastebm bench needs the source checkout's bench/ folder ({script} is missing)")
    flags = [flag for flag, on in (("--quick", args.quick), ("--ais", args.ais)) if on]
    flags += ["--out", args.out] if args.out else []
    runpy.run_path(str(script), run_name="fastebm_bench")["main"](flags)


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    args.given = {token.split("=")[0] for token in (sys.argv[1:] if argv is None else argv)
                  if token.startswith("--")}
    if rest and args.func is not evaluate:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        args.func(args, rest)
    except (UsageError, CheckpointError, ValueError, TypeError, MemoryError, RuntimeError) as exc:
        if os.environ.get("FASTEBM_DEBUG") == "1":
            raise
        memory = _out_of_memory(exc)
        if isinstance(exc, RuntimeError) and not isinstance(exc, CheckpointError) and not memory:
            raise  # a bug: the traceback
        sys.exit(f"fastebm: error: {memory or exc}")


def _out_of_memory(exc: BaseException) -> str:
    """A one-line message for an allocation that failed ('' for any other error)."""
    text = str(exc)
    if not (isinstance(exc, MemoryError) or "allocate" in text or "out of memory" in text):
        return ""
    found = re.search(r"allocate (\d+) bytes", text)
    size = f" ({int(found.group(1)) / 2**30:.1f} GiB asked for one tensor)" if found else ""
    return (f"out of memory{size}: lower the model size (e.g. --hidden) or --batch-size")
