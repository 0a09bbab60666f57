#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and a CUDA build of torch (not CI, which has none): builds the
# extension in place for this GPU, runs every CUDA test (CPU vs CUDA bits, no device sync,
# statistical tests on the GPU) and the GPU benchmarks. Logs go to $OUT (default: gpu-check/).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu-check}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # the in-place build, for bench/ too
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
"$PY" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda)"
ARCH=$("$PY" -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")
SECONDS=0
if ! FASTEBM_CUDA=1 TORCH_CUDA_ARCH_LIST=$ARCH MAX_JOBS=${MAX_JOBS:-$(nproc)} \
    timeout "${BUILD_TIMEOUT:-240}" "$PY" setup.py -q build_ext --inplace > "$OUT/build.log" 2>&1; then
  tail -40 "$OUT/build.log"
  exit 1
fi
echo "built for sm_${ARCH/./} in ${SECONDS}s"
"$PY" -c "import fastebm; print(fastebm.build_info())"
# Does an error message reach Python (it crashed the process on one image: docs/tests.md)? If
# not, the same check on a CPU-only build of the extension tells the CUDA build from the toolchain.
if ! "$PY" tools/error_message_check.py; then
  CPU_ONLY="$OUT/cpu-only"
  rm -rf "$CPU_ONLY"; mkdir -p "$CPU_ONLY/lib"; cp -r fastebm "$CPU_ONLY/lib/"
  FASTEBM_CUDA=0 MAX_JOBS=${MAX_JOBS:-$(nproc)} timeout "${BUILD_TIMEOUT:-240}" "$PY" setup.py -q \
    build_ext --build-lib "$CPU_ONLY/lib" --build-temp "$CPU_ONLY/tmp" > "$OUT/build-cpu-only.log" 2>&1
  echo "CPU-only build of the extension:"
  "$PY" tools/error_message_check.py --path "$CPU_ONLY/lib"
fi
# pytest-xdist where it is installed: a test that crashes its worker is reported by name.
XDIST=$("$PY" -c "import xdist" 2>/dev/null && echo "-n ${WORKERS:-8}")
PYTHONUNBUFFERED=1 timeout "${TEST_TIMEOUT:-150}" "$PY" -m pytest -q -rfE $XDIST -k cuda \
  -p no:cacheprovider --continue-on-collection-errors --maxfail=30 tests > "$OUT/pytest_cuda.log" 2>&1
echo "pytest exit $?"; grep -E "FAILED|ERROR|crashed|passed|failed" "$OUT/pytest_cuda.log" | tail -40
for bench in bench_ising bench_bm bench_gibbs bench_diffusion bench_langevin; do
  (cd bench && timeout "${BENCH_TIMEOUT:-60}" "$PY" "$bench.py" --device cuda --quick) > "$OUT/$bench.md" 2>&1
  cat "$OUT/$bench.md"
done
