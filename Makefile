# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
# Both create .venv, install the pinned dependencies (torch==2.13.0: the CPU wheel; no CUDA
# download), build the extension in place with --no-build-isolation, and are quick when done.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# Where this machine keeps the CPU torch wheel; used when present so pip never fetches a CUDA build.
WHEELS ?= /opt/wheels
PIP_INSTALL := $(VENV)/bin/pip install $(if $(wildcard $(WHEELS)),--find-links $(WHEELS))
SOURCES := $(shell find csrc -name '*.cpp' -o -name '*.h' -o -name '*.cu') setup.py

.PHONY: setup demo test fuzz docs bench bench-env vec-check wheel-check cuda-check clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.deps: requirements.txt | $(PY)
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.deps
	FASTEBM_SKIP_BUILD=1 $(PIP_INSTALL) --no-build-isolation --no-deps -e .
	touch $@

$(VENV)/.built: $(SOURCES) $(VENV)/.installed
	FASTEBM_CUDA=0 $(PY) setup.py -q build_ext --inplace
	touch $@

setup: $(VENV)/.built

# The main job: a 64-hidden RBM on the embedded digits by parallel-tempering PCD-1 with a cosine
# learning-rate schedule, then AIS, class coverage and pictures (~1 min).
DEMO_OUT ?= runs/demo
demo: setup
	rm -rf $(DEMO_OUT)
	$(PY) -m fastebm train rbm --data digits --hidden 64 --method pcd --epochs 100 \
		--lr 1e-2 --lr-schedule cosine --pt-betas 1,0.9,0.8,0.7,0.6,0.5,0.4 --out $(DEMO_OUT)

test: setup
	$(PY) -m pytest -q

# The property-based tests at length: 2,000 random examples per op (minutes); `make test` runs
# 15 per op with fixed seeds.
fuzz: setup
	FASTEBM_FUZZ_EXAMPLES=2000 FASTEBM_FUZZ_RANDOM=1 $(PY) -m pytest -q tests/test_properties.py

# The documentation site (mkdocs-material, API reference from the docstrings) into build/site,
# warnings as errors; its tools (docs/requirements.txt) go into .venv, never into the package.
$(VENV)/.docs: docs/requirements.txt | $(PY)
	$(PIP_INSTALL) -r docs/requirements.txt
	touch $@

docs: $(VENV)/.docs
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# The bench environment: a venv layered on .venv (its packages and the editable fastebm, through
# a site .pth) plus the peer libraries of bench/requirements.txt, which the package never needs.
BENCH_VENV ?= .venv-bench
$(BENCH_VENV)/.deps: bench/requirements.txt $(VENV)/.built
	$(PYTHON) -m venv $(BENCH_VENV)
	echo "import site; site.addsitedir('$$($(PY) -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")')" \
		> $$($(BENCH_VENV)/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/fastebm-base.pth
	$(BENCH_VENV)/bin/pip install --no-deps -r bench/requirements.txt
	touch $@

bench-env: $(BENCH_VENV)/.deps

bench: bench-env
	$(BENCH_VENV)/bin/python -m fastebm bench

# Proves from GCC's vectoriser report that every ISA copy (SSE2, AVX2, AVX-512) of the CPU
# element-wise driver's loops is vectorised, for every kernel family (~30 s per family file).
vec-check: setup
	$(PY) tools/check_vectorised.py

# Builds the sdist, a wheel from it, installs that into a fresh venv and imports every module.
wheel-check: setup
	bash tools/wheel_check.sh $(PY)

# Compiles and links the CUDA build (nvcc, torch 2.14.1 + CUDA 13 in .venv-cuda) and imports it;
# says so and passes where there is no nvcc.
cuda-check:
	bash tools/cuda_check.sh

clean:
	rm -rf build build-cuda fastebm/_C*.so $(VENV)/.built
