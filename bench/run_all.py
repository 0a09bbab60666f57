"""Run every benchmark in one process and print one Markdown report (`fastebm bench`)."""

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
import bench_langevin  # noqa: E402
import bench_rbm  # noqa: E402
import bench_svgd  # noqa: E402
import bench_vae  # noqa: E402
from common import machine_floor, machine_line  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter timing runs")
    parser.add_argument("--ais", action="store_true",
                        help="also time AIS, 1,000 chains x 10,000 betas on a 784-500 RBM (minutes)")
    args = parser.parse_args(argv)
    min_run_time = 0.2 if args.quick else 1.0
    floor = machine_floor(min_run_time)
    print(machine_line(floor) + "\n")
    print(bench_bernoulli.run(min_run_time, floor["copy_gbs"]) + "\n")
    print(bench_gibbs.run(min_run_time) + "\n")
    print(bench_rbm.run(min_run_time, floor["gemm_gflops"], with_ais=args.ais) + "\n")
    print(bench_langevin.run(min_run_time, floor["copy_gbs"]) + "\n")
    print(bench_diffusion.run(min_run_time, floor["copy_gbs"]) + "\n")
    print(bench_svgd.run(min_run_time) + "\n")
    print(bench_ising.run(min_run_time) + "\n")
    print(bench_bm.run(min_run_time) + "\n")
    print(bench_vae.run(min_run_time, floor["copy_gbs"]) + "\n")


if __name__ == "__main__":
    main()
