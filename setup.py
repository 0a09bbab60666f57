"""Build fastebm's extension: a CUDAExtension when nvcc and a CUDA build of torch are present
(or FASTEBM_CUDA=1), otherwise a CppExtension; FASTEBM_CUDA=0 forces the CPU-only build.

FASTEBM_SKIP_BUILD=1 installs the package without compiling: the Makefile uses it for the
editable install and then builds the extension in place with ninja, incrementally
(`python setup.py build_ext --inplace`), so a one-file change recompiles one file."""

import glob
import os
import sysconfig

import torch
from setuptools import setup
from torch.utils.cpp_extension import CUDA_HOME, BuildExtension, CppExtension, CUDAExtension

ROOT = os.path.dirname(os.path.abspath(__file__))


def want_cuda() -> bool:
    forced = os.environ.get("FASTEBM_CUDA")
    if forced is not None:
        return forced == "1"
    return CUDA_HOME is not None and torch.version.cuda is not None


def nvidia_include_dirs() -> list[str]:
    """Headers of the nvidia-* wheels (cusparse.h and friends live in nvidia/cu13/include)."""
    site = sysconfig.get_paths()["purelib"]
    return sorted(glob.glob(os.path.join(site, "nvidia", "cu*", "include")))


# -fno-trapping-math: lets GCC if-convert the branch-free selects on SSE2 and AVX2 (without it only
# AVX-512 masking vectorises them); it changes no value. -fopenmp-simd: the CPU driver's `omp simd`
# loops (no OpenMP runtime needed for those). -ffp-contract=off: every ISA path computes the same
# bits. No -ffast-math. tools/check_vectorised.py compiles with these flags too.
CXX_FLAGS = ["-O3", "-std=c++20", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math",
             "-fopenmp-simd"]


def extension():
    with_cuda = want_cuda()
    sources = sorted(glob.glob("csrc/*.cpp")) + sorted(glob.glob("csrc/cpu/*.cpp"))
    cxx = list(CXX_FLAGS)
    link = []
    if torch.backends.openmp.is_available():
        cxx.append("-fopenmp")
        link.append("-fopenmp")
    include_dirs = [os.path.join(ROOT, "csrc", "include")]
    if not with_cuda:
        return CppExtension("fastebm._C", sources, include_dirs=include_dirs,
                            extra_compile_args={"cxx": cxx}, extra_link_args=link)
    os.environ.setdefault("TORCH_CUDA_ARCH_LIST", "8.0;9.0")
    sources += sorted(glob.glob("csrc/cuda/*.cu"))
    cxx.append("-DFASTEBM_WITH_CUDA")
    nvcc = ["-O3", "-std=c++20", "-DFASTEBM_WITH_CUDA", "--fmad=false"]
    return CUDAExtension("fastebm._C", sources, include_dirs=include_dirs + nvidia_include_dirs(),
                         extra_compile_args={"cxx": cxx, "nvcc": nvcc}, extra_link_args=link)


if __name__ == "__main__":  # pip's build backend runs this file as __main__ too
    skip = os.environ.get("FASTEBM_SKIP_BUILD") == "1"
    setup(ext_modules=[] if skip else [extension()], cmdclass={"build_ext": BuildExtension})
