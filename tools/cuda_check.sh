#!/usr/bin/env bash
# Compile and link fastebm's CUDA extension, then import it and check every op has a CUDA kernel.
# Runs no kernel (CI machines have no GPU); the CPU tests vouch for the shared math and Philox.
set -euo pipefail
cd "$(dirname "$0")/.."

# The toolkit's own nvcc (a PATH entry may be a wrapper or link outside the toolkit).
if [ -n "${CUDA_HOME:-}" ] && [ -x "$CUDA_HOME/bin/nvcc" ]; then
  NVCC=$CUDA_HOME/bin/nvcc
elif [ -x /usr/local/cuda/bin/nvcc ]; then
  NVCC=/usr/local/cuda/bin/nvcc
else
  NVCC=$(command -v nvcc || true)
  [ -n "$NVCC" ] && NVCC=$(readlink -f "$NVCC")
fi
if [ -z "$NVCC" ]; then
  echo "cuda-check: no nvcc on this machine; CUDA build not checked (pass)"
  exit 0
fi
export CUDA_HOME=${CUDA_HOME:-$(dirname "$(dirname "$NVCC")")}
export PATH="$CUDA_HOME/bin:$PATH"

VENV=${CUDA_VENV:-.venv-cuda}
PY=$VENV/bin/python
if [ ! -f "$VENV/.deps" ]; then
  python3 -m venv "$VENV"
  # torch 2.14.1 is the CUDA 13 build (from local disk where the machine has it).
  "$VENV/bin/pip" install -q torch==2.14.1 numpy setuptools wheel ninja
  touch "$VENV/.deps"
fi

echo "cuda-check: building with $("$NVCC" --version | tail -1)"
FASTEBM_CUDA=1 TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-8.0;9.0} \
  "$PY" setup.py -q build_ext -b build-cuda/lib -t build-cuda/tmp

"$PY" - <<'PY'
import glob, importlib.util, torch
path = glob.glob("build-cuda/lib/fastebm/_C*.so")[0]
spec = importlib.util.spec_from_file_location("fastebm._C", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
info = module.build_info()
assert info["cuda"], info
ops = [n for n in torch._C._dispatch_get_all_op_names() if n.startswith("fastebm::")]
assert ops, "no fastebm ops registered"
has = torch._C._dispatch_has_kernel_for_dispatch_key
missing = [op for op in ops if not (has(op, "CUDA") or has(op, "CompositeExplicitAutograd"))]
assert not missing, f"ops without a CUDA kernel: {missing}"
print(f"cuda-check: OK, {path} imports with torch {torch.__version__}; CUDA kernels for {sorted(ops)}")
PY
