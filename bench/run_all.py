"""Run every benchmark in one process and print one Markdown report (`fastebm bench`); with
``--out FILE`` also write it there (the machine line first: CPU model, ISA paths, floors)."""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_bernoulli  # noqa: E402
import bench_bm  # noqa: E402
import bench_diffusion  # noqa: E402
import bench_gibbs  # noqa: E402
import bench_ising  # noqa: E402
import bench_ksd  # noqa: E402
import bench_langevin  # noqa: E402
import bench_rbm  # noqa: E402
import bench_shapes  # noqa: E402
import bench_svgd  # noqa: E402
import bench_vae  # noqa: E402
from common import machine_floor, machine_line  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter timing runs")
    parser.add_argument("--ais", action="store_true",
                        help="also time AIS, 1,000 chains x 10,000 betas on a 784-500 RBM (minutes)")
    parser.add_argument("--out", help="also write the report to this Markdown file")
    args = parser.parse_args(argv)
    if args.out:  # before any timing: a bad path fails at once
        try:
            open(args.out, "a").close()
        except OSError as exc:
            parser.error(f"argument --out: cannot write {args.out}: {exc.strerror}")
    min_run_time = 0.2 if args.quick else 1.0
    floor = machine_floor(min_run_time)
    sections = [lambda: machine_line(floor),
                lambda: bench_bernoulli.run(min_run_time, floor["copy_gbs"]),
                lambda: bench_gibbs.run(min_run_time),
                lambda: bench_rbm.run(min_run_time, floor["gemm_gflops"], with_ais=args.ais),
                lambda: bench_langevin.run(min_run_time, copy_gbs=floor["copy_gbs"]),
                lambda: bench_diffusion.run(min_run_time, copy_gbs=floor["copy_gbs"]),
                lambda: bench_shapes.run(min_run_time, floor["copy_gbs"]),
                lambda: bench_svgd.run(min_run_time, quick=args.quick),
                lambda: bench_ksd.run(min_run_time, floor["gemm_gflops"], quick=args.quick),
                lambda: bench_ising.run(min_run_time, quick=args.quick),
                lambda: bench_bm.run(min_run_time),
                lambda: bench_vae.run(min_run_time, floor["copy_gbs"])]
    report = []
    for section in sections:  # each table printed as soon as it is measured
        report.append(section() + "\n")
        print(report[-1], flush=True)
    if args.out:
        with open(args.out, "w") as f:
            f.write("\n".join(report))


if __name__ == "__main__":
    main()
