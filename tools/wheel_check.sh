#!/usr/bin/env bash
# Proves the package ships whole: builds the sdist and checks that it holds every tracked file
# the build and the package need (csrc/, fastebm/, the build files), builds the wheel from the
# source tree (ninja reuses the objects `make setup` compiled: the extension is built once per CI
# run), installs that into a fresh virtual environment (not editable), then imports every fastebm
# module from outside the source tree and runs one op.
# Usage: tools/wheel_check.sh PYTHON (the project's .venv python: torch, build, ninja).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
OUT=build/wheel-check
rm -rf "$OUT"
mkdir -p "$OUT"

"$PY" -m build --sdist --no-isolation --outdir "$OUT" . >"$OUT/sdist.log"
SDIST=$(ls "$OUT"/fastebm-*.tar.gz)
tar tzf "$SDIST" | sed 's|^[^/]*/||' | sort >"$OUT/sdist.txt"
git ls-files csrc fastebm setup.py pyproject.toml MANIFEST.in README.md | sort >"$OUT/tracked.txt"
MISSING=$(comm -23 "$OUT/tracked.txt" "$OUT/sdist.txt")
if [ -n "$MISSING" ]; then
  echo "wheel-check: tracked files missing from $(basename "$SDIST"):"
  echo "$MISSING"
  exit 1
fi
echo "wheel-check: $(wc -l <"$OUT/sdist.txt") files in $(basename "$SDIST"), every tracked source among them"
FASTEBM_CUDA=0 "$PY" -m pip wheel -q --no-build-isolation --no-deps -w "$OUT" .
WHEEL=$(ls "$OUT"/fastebm-*.whl)

python3 -m venv "$OUT/venv"
# torch first, pinned to the CPU build as the Makefile does (never a CUDA download).
"$OUT/venv/bin/pip" install -q $( [ -d /opt/wheels ] && echo --find-links /opt/wheels ) torch==2.13.0
"$OUT/venv/bin/pip" install -q "$WHEEL"

cd "$OUT"  # away from the source tree: only the installed package can be imported
venv/bin/python - <<'PY'
import importlib, pkgutil
import torch
import fastebm
names = [m.name for m in pkgutil.walk_packages(fastebm.__path__, "fastebm.")
         if not m.name.endswith("__main__")]  # __main__ runs the CLI
for name in names:
    importlib.import_module(name)
assert "site-packages" in fastebm.__file__, fastebm.__file__
W = 0.1 * torch.randn(20, 10)
v, h = fastebm.rbm_gibbs(torch.bernoulli(torch.full((4, 20), 0.5)), W, torch.zeros(20),
                         torch.zeros(10), n_steps=3, generator=torch.Generator().manual_seed(0))
assert v.shape == (4, 20) and h.shape == (4, 10)
print(f"wheel-check: OK, {len(names)} modules import from {fastebm.__file__}; "
      f"rbm_gibbs runs ({fastebm.build_info()['cpu_isa']})")
PY
