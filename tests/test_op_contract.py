"""Every contract check over every op in tests/opspec.py: oracle comparison (float32 and float64,
fresh random inputs, under every CPU ISA path), bad inputs naming the argument (and the same error
from the fake kernel), empty batch, non-contiguous and expanded inputs, same seed -> same bits,
1 vs 2 threads, every ISA path bit for bit, opcheck, and CPU vs CUDA / no device sync with a GPU."""

from __future__ import annotations

import contextlib

import pytest
import torch

import fastebm

from conftest import DEVICES, HAS_CUDA, TOL
from opspec import SPECS

ISAS = ["baseline", "avx2", "avx512"]
BEST = fastebm.build_info()["cpu_isa_best"]
HAS_ISA = {isa: ISAS.index(isa) <= ISAS.index(BEST) for isa in ISAS}
ISA_PARAMS = [pytest.param(isa, marks=pytest.mark.skipif(not HAS_ISA[isa], reason=f"CPU lacks {isa}"))
              for isa in ISAS]
ROWS = [(spec, dtype) for spec in SPECS for dtype in spec.dtypes]
ROW_IDS = [f"{spec}-{str(dtype)[6:]}" for spec, dtype in ROWS]


def generator(*key) -> torch.Generator:
    """Fresh inputs per test and row, reproducible from the test's own id."""
    return torch.Generator().manual_seed(hash(key) % 2**31)


def assert_matches(outputs, expected, compare, dtype):
    for out, ref, how in zip(outputs, expected, compare):
        assert out.shape == ref.shape and out.dtype == ref.dtype
        if how == "binary":
            differ = (out != ref).double().mean().item() if out.numel() else 0.0
            assert differ <= (0 if dtype == torch.float64 else 1e-3), f"{differ:.2e} of draws differ"
        elif out.is_floating_point():
            torch.testing.assert_close(out, ref, **TOL[dtype])  # float64 log_w of float32 math too
        else:
            assert torch.equal(out, ref)


def on_meta(args: dict) -> dict:
    return {k: v.to("meta") if isinstance(v, torch.Tensor) else v for k, v in args.items()}


@contextlib.contextmanager
def threads(n: int):
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ---------------------------------------------------------------- against the oracle

@pytest.mark.parametrize("isa", ISA_PARAMS)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec,dtype", ROWS, ids=ROW_IDS)
def test_matches_oracle(spec, dtype, device, isa):
    args = spec.make(device, dtype, generator(spec.name, dtype, "oracle"))
    seed = 12345 + len(spec.name)
    with fastebm.cpu_isa(isa):
        outputs = spec.call(args, seed)
    assert_matches(outputs, spec.oracle(args, seed), spec.compare, dtype)


@pytest.mark.parametrize("spec,dtype", ROWS, ids=ROW_IDS)
def test_every_isa_path_same_bits(spec, dtype):
    args = spec.make("cpu", dtype, generator(spec.name, dtype, "isa"), big=True)
    results = {}
    for isa in (isa for isa in ISAS if HAS_ISA[isa]):
        with fastebm.cpu_isa(isa):
            results[isa] = spec.call(args, 7)
    for isa, out in results.items():
        assert all(torch.equal(x, y) for x, y in zip(out, results["baseline"])), isa


# ---------------------------------------------------------------- determinism

@pytest.mark.parametrize("spec,dtype", ROWS, ids=ROW_IDS)
def test_same_seed_same_bits_any_thread_count(spec, dtype):
    """Draws (binary outputs) are bit for bit the same on 1 and 2 threads; sums that come out of
    MKL's matrix products (gradients, AIS weights, Gaussian states) to MKL's rounding, which may
    split a product differently by thread count."""
    args = spec.make("cpu", dtype, generator(spec.name, dtype, "threads"), big=True)
    runs = []
    for n in (1, 2, 1):
        with threads(n):
            runs.append(spec.call(args, 42))
    for run in runs[1:]:
        for x, y, how in zip(runs[0], run, spec.compare):
            if how == "binary" or not x.is_floating_point():
                assert torch.equal(x, y)
            else:
                torch.testing.assert_close(x, y, **TOL[dtype])
    if spec.seeded:
        other = spec.call(args, 43)
        assert not all(torch.equal(x, y) for x, y in zip(runs[0], other)), "the seed changes nothing"


# ---------------------------------------------------------------- bad input

BAD = [(spec, i) for spec in SPECS for i in range(len(spec.bad))]


@pytest.mark.parametrize("spec,case", BAD, ids=[f"{s}-{s.bad[i].name}-{i}" for s, i in BAD])
def test_bad_input_names_the_argument(spec, case):
    bad = spec.bad[case]
    args = bad.change(spec.make("cpu", spec.dtypes[-1], generator(spec.name, case, "bad")))
    with pytest.raises(ValueError, match=f"'{bad.name}'") as real:
        spec.call(args, 1)
    if not bad.values:  # the fake kernel refuses it too, with the very same message
        with pytest.raises(ValueError) as fake:
            spec.call(on_meta(args), 1)
        assert str(fake.value) == str(real.value)


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_mixed_devices_meta_included_refused(spec):
    args = spec.make("cpu", spec.dtypes[-1], generator(spec.name, "mixed"))
    tensors = [k for k, v in args.items() if isinstance(v, torch.Tensor)]
    if len(tensors) < 2:
        pytest.skip("one tensor argument")
    mixed = {**args, tensors[1]: args[tensors[1]].to("meta")}
    with pytest.raises(ValueError, match="is on"):
        spec.call(mixed, 1)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_empty_batch(spec, device):
    args = spec.make(device, spec.dtypes[-1], generator(spec.name, "empty"))
    for name in spec.batch_args:
        args[name] = args[name][:0]
    if not spec.empty_batch_ok:
        with pytest.raises(ValueError, match=f"'{spec.batch_args[0]}'"):
            spec.call(args, 1)
        return
    outputs = spec.call(args, 1)
    assert all(out.shape[0] == 0 for out in outputs), [tuple(out.shape) for out in outputs]


# ---------------------------------------------------------------- layouts

def non_contiguous(t: torch.Tensor) -> torch.Tensor:
    """The same values with other strides: transposed storage for 2-D, every other element for 1-D."""
    if t.dim() >= 2:
        return t.transpose(0, 1).contiguous().transpose(0, 1)
    return torch.stack([t, t], -1)[..., 0]


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_non_contiguous_and_expanded_inputs(spec):
    args = spec.make("cpu", spec.dtypes[-1], generator(spec.name, "layout"))
    expected = spec.call(args, 5)
    strided = {k: non_contiguous(v) if isinstance(v, torch.Tensor) else v for k, v in args.items()}
    assert all(not v.is_contiguous() for v in strided.values() if isinstance(v, torch.Tensor) and v.numel() > 1)
    assert all(torch.equal(x, y) for x, y in zip(spec.call(strided, 5), expected))
    # Expanded (stride 0): the batch arguments' first rows repeated.
    rows = {name: args[name][:1].expand_as(args[name]) for name in spec.batch_args}
    expanded = spec.call({**args, **rows}, 5)
    dense = spec.call({**args, **{name: r.contiguous() for name, r in rows.items()}}, 5)
    assert all(torch.equal(x, y) for x, y in zip(expanded, dense))


@pytest.mark.parametrize("spec", [s for s in SPECS if not s.differentiable], ids=str)
def test_parameters_that_require_grad_are_accepted(spec):
    """A model's parameters (requires_grad) go into a non-differentiable op as they are: the
    outputs equal a plain call's and carry no graph."""
    args = spec.make("cpu", spec.dtypes[-1], generator(spec.name, "grad"))
    tracked = {k: v.clone().requires_grad_() if isinstance(v, torch.Tensor) and v.is_floating_point()
               else v for k, v in args.items()}
    outputs = spec.call(tracked, 9)
    assert not any(out.requires_grad for out in outputs)
    assert all(torch.equal(x, y) for x, y in zip(outputs, spec.call(args, 9)))


# ---------------------------------------------------------------- registration

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("spec,dtype", ROWS, ids=ROW_IDS)
def test_opcheck(spec, dtype, device):
    args = spec.make(device, dtype, generator(spec.name, dtype, "opcheck"))
    torch.library.opcheck(spec.op, spec.positional(args, 123))


# ---------------------------------------------------------------- CUDA

@pytest.mark.skipif(not HAS_CUDA, reason="no GPU")
@pytest.mark.parametrize("spec,dtype", ROWS, ids=ROW_IDS)
def test_cpu_and_cuda_agree(spec, dtype):
    args = spec.make("cpu", dtype, generator(spec.name, dtype, "cuda"), big=True)
    cpu = spec.call(args, 3)
    gpu = spec.call({k: v.cuda() if isinstance(v, torch.Tensor) else v for k, v in args.items()}, 3)
    assert_matches([g.cpu() for g in gpu], cpu, spec.compare, dtype)


@pytest.mark.skipif(not HAS_CUDA, reason="no GPU")
@pytest.mark.parametrize("spec,dtype", ROWS, ids=ROW_IDS)
def test_cuda_ops_never_synchronise(spec, dtype):
    args = spec.sync_free(spec.make("cuda", dtype, generator(spec.name, dtype, "sync")))
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        spec.call(args, 3)
        fastebm.ops.draw_seed(torch.Generator("cuda").manual_seed(1))
    finally:
        torch.cuda.set_sync_debug_mode("default")
