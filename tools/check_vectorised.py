"""Proves that every ISA copy of the CPU kernels' loops is vectorised.

Compiles each CPU family file that uses csrc/cpu/elementwise.h with setup.py's flags and GCC's
vectoriser report (-fopt-info-vec-all), then checks every loop marked `#pragma omp simd` in the
files of LOOP_FILES that the family instantiates (elementwise.h: the Philox fill, the words ->
draws loop, the kernel loop; svgd.h and svgd_cpu.cpp: the SVGD tiles, and ising.h: the Boltzmann
machine's lane loops, which run on the driver's rows only): no instantiation may be reported "couldn't vectorize loop", each loop must be
vectorised, and each file's loops as a whole at 16-byte (SSE2 baseline), 32-byte (AVX2) and
64-byte (AVX-512) width (the generic Philox loop serves SSE2 and AVX-512 only: AVX2 has
philox_avx2.h). `make vec-check`; exit 1 on a scalar loop.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from torch.utils.cpp_extension import include_paths

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from setup import CXX_FLAGS  # noqa: E402

DRIVER = os.path.join("csrc", "cpu", "elementwise.h")
LOOP_FILES = (DRIVER, os.path.join("csrc", "include", "fastebm", "svgd.h"),
              os.path.join("csrc", "cpu", "svgd_cpu.cpp"),
              os.path.join("csrc", "include", "fastebm", "stein.h"),
              os.path.join("csrc", "include", "fastebm", "ising.h"))
WIDTHS = {"16": "baseline (SSE2)", "32": "avx2", "64": "avx512"}


def simd_loops(path: str) -> list[range]:
    """The line ranges (1-based) of the loops that follow `#pragma omp simd` in a file: from the
    `for` to its closing brace (GCC reports a loop at a line inside its body)."""
    lines = open(os.path.join(ROOT, path)).read().splitlines()
    loops = []
    for i, line in enumerate(lines):
        if not line.strip().startswith("#pragma omp simd"):
            continue
        depth, end = 0, i + 1
        for end in range(i + 1, len(lines)):
            depth += lines[end].count("{") - lines[end].count("}")
            if depth <= 0 and "{" in "".join(lines[i + 1:end + 1]):
                break
        loops.append(range(i + 2, end + 2))
    return loops


def report(source: str) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "vec.txt")
        includes = [f"-I{p}" for p in include_paths()] + [
            f"-I{os.path.join(ROOT, 'csrc', 'include')}", f"-I{sysconfig.get_paths()['include']}"]
        subprocess.run(["c++", *CXX_FLAGS, "-fPIC", "-DTORCH_EXTENSION_NAME=_C", *includes, "-c",
                        source, "-o", os.devnull, f"-fopt-info-vec-all={out}"], check=True,
                       cwd=ROOT)
        return open(out).read()


def check_file(source: str, path: str, text: str) -> bool:
    """Prints the verdict on each simd loop of `path` as compiled in `source`; True on a failure.
    A loop (or a whole file) the source does not instantiate is left out."""
    entries = [(int(line), what, width) for line, what, width in re.findall(
        re.escape(path) + r":(\d+):\d+: (optimized: loop vectorized using (\d+) byte|"
        r"missed: couldn't vectorize loop)", text)]
    loops = simd_loops(path)
    if not any(line in loop for loop in loops for line, _, _ in entries):
        return False
    failed = False
    all_widths = Counter()
    for loop in loops:
        widths = Counter(w for line, what, w in entries if line in loop and w)
        missed = sum(1 for line, what, w in entries if line in loop and not w)
        if not widths and not missed:  # not instantiated here (a kernel that draws nothing)
            continue
        all_widths += widths
        ok = missed == 0 and bool(widths)
        failed |= not ok
        seen = ", ".join(f"{WIDTHS.get(w, w + '-byte')} x{n}" for w, n in sorted(widths.items()))
        print(f"{os.path.relpath(source, ROOT)}: {path}:{loop.start}-{loop.stop - 1} "
              f"vectorised [{seen}], scalar copies: {missed}  {'ok' if ok else 'FAILED'}")
    missing = [name for w, name in WIDTHS.items() if not all_widths[w]]
    if missing:
        failed = True
        print(f"{os.path.relpath(source, ROOT)}: {path}: no loop vectorised for {', '.join(missing)}  FAILED")
    return failed


def main() -> int:
    sources = [s for s in sorted(glob.glob(os.path.join(ROOT, "csrc", "cpu", "*.cpp")))
               if '#include "elementwise.h"' in open(s).read()]
    failed = False
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # one compiler per core
        for source, text in zip(sources, pool.map(report, sources)):
            for path in LOOP_FILES:
                failed |= check_file(source, path, text)
    if not sources:
        print("no CPU family file uses the driver")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
