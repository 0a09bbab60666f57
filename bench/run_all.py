"""Run every benchmark in one process and print one Markdown report (`fastebm bench`)."""

from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_gibbs  # noqa: E402
from common import machine_floor, machine_line  # noqa: E402

BENCHES = [bench_gibbs]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter timing runs")
    args = parser.parse_args(argv)
    min_run_time = 0.2 if args.quick else 1.0
    print(machine_line(machine_floor(min_run_time)) + "\n")
    for bench in BENCHES:
        print(bench.run(min_run_time) + "\n")


if __name__ == "__main__":
    main()
