"""Does a fastebm error message reach Python, or does formatting it kill the process?

Runs one refused call in a child process: the C++ svgd op on CPU tensors of mismatched shapes,
whose message formats integers (the path that crashed, with a segfault inside
std::ostream::_M_insert<long>, on an NVIDIA H200 image with torch 2.11.0+cu130 and GCC 13.3;
docs/tests.md). Before the call the child prints what decides such a crash: the libstdc++ and
libgcc_s the process maps (a second or older copy loaded ahead of the one the extension was
built against), the compiler and C++ ABI of torch, and fastebm's build. tools/gpu_check.sh runs
it first; where the child dies it builds the extension CPU-only and runs it again against that
build, which tells the extension's CUDA build apart from the toolchain.

Usage: python tools/error_message_check.py [--path DIR]   (DIR: import fastebm from there)
Exit status 0 when the message reached Python, 1 when the child died.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

CHILD = r'''
import sys
if {path!r}:
    sys.path.insert(0, {path!r})
import re, shutil, subprocess
import torch, fastebm
maps = sorted({{line.split()[-1] for line in open("/proc/self/maps")
                if "libstdc++" in line or "libgcc_s" in line}})
print("mapped:", ", ".join(maps) or "none found")
config = torch.__config__.show()
print("torch", torch.__version__, "| C++11 ABI", torch._C._GLIBCXX_USE_CXX11_ABI, "|",
      re.search(r"GCC [\d.]+", config).group(0) if "GCC" in config else "compiler unknown")
so = fastebm._C.__file__
comment = (subprocess.run(["readelf", "-p", ".comment", so], capture_output=True, text=True).stdout
           if shutil.which("readelf") else "")
print("fastebm", so, "| CUDA build", fastebm.build_info()["cuda"], "| built by",
      sorted(set(re.findall(r"GCC: \(.*", comment))) or "unknown (no readelf)")
sys.stdout.flush()
try:
    torch.ops.fastebm.svgd_rbf(torch.zeros(3, 2), torch.zeros(4, 2), 1.0)
except ValueError as error:
    print("message:", error)
'''


def check(path: str = "") -> int:
    """Runs the child; prints its report and the outcome. 0: the message arrived."""
    child = subprocess.run([sys.executable, "-c", CHILD.format(path=path)], capture_output=True,
                           text=True)
    print(child.stdout, end="")
    arrived = child.returncode == 0 and "message: fastebm:" in child.stdout
    if arrived:
        print("error messages: reach Python")
        return 0
    print(f"error messages: the child died (exit status {child.returncode}); its stderr ends:")
    print("\n".join(child.stderr.splitlines()[-15:]))
    return 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default="", help="import fastebm from this folder")
    sys.exit(check(parser.parse_args().path))
