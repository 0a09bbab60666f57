"""Property-based tests (Hypothesis) over the op-spec table: random batch sizes (empty and
size 1 included), dtypes, memory layouts and argument values from the whole float range
(subnormals, ±1e±300, ±Inf, NaN). Every call either matches its oracle or raises a ValueError /
TypeError that names an argument; never a NaN / Inf out of finite arguments, never an internal
assert. ``make test`` runs a few examples per op (FASTEBM_FUZZ_EXAMPLES, default 15, fixed
seeds); ``make fuzz`` runs many more at random."""

from __future__ import annotations

import math
import os

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opspec import SPECS
from test_op_contract import assert_matches

EXAMPLES = int(os.environ.get("FASTEBM_FUZZ_EXAMPLES", "15"))
RANDOM = os.environ.get("FASTEBM_FUZZ_RANDOM") == "1"
#: Values from the whole float range: subnormals, the float32 edges, ±1e±300, ±Inf, NaN.
EXTREMES = [0.0, -0.0, 5e-324, 1e-45, 1e-40, 1e-38, 1e-20, 1e-3, 2.5, -7.0, 1e20, 3e38, 3.5e38,
            1e39, 1e300, -1e300, math.inf, -math.inf, math.nan]
KINDS = ("plain", "layout", "batch", "tensor", "element", "scalar")


def float_tensors(args: dict) -> list[str]:
    return [k for k, v in args.items() if isinstance(v, torch.Tensor) and v.is_floating_point()]


def all_finite(args: dict) -> bool:
    return all(math.isfinite(v) if isinstance(v, float) else
               bool(torch.isfinite(v).all()) if isinstance(v, torch.Tensor) and v.is_floating_point()
               else True for v in args.values())


@st.composite
def calls(draw, spec):
    """(kind, args, dtype) of one call of ``spec``'s op."""
    dtype = draw(st.sampled_from(spec.dtypes))
    args = spec.make("cpu", dtype, torch.Generator().manual_seed(draw(st.integers(0, 2**31))))
    kind = draw(st.sampled_from(KINDS))
    tensors, scalars = float_tensors(args), [k for k, v in args.items() if isinstance(v, float)]
    if kind == "layout":  # the same values in column-major strides
        args = {k: (v.T.contiguous().T if k in tensors and v.dim() == 2 else v)
                for k, v in args.items()}
    elif kind == "batch" and spec.batch_args:
        n = draw(st.sampled_from([0, 1, 2]))
        args = {k: (v[:n] if k in spec.batch_args else v) for k, v in args.items()}
    elif kind in ("tensor", "element") and tensors:
        name, value = draw(st.sampled_from(tensors)), draw(st.sampled_from(EXTREMES))
        t = args[name].double()  # values beyond the dtype become ±Inf there, as a user's would
        if kind == "tensor":
            t = t * value
        elif t.numel():
            t.view(-1)[draw(st.integers(0, t.numel() - 1))] = value
        t = t.to(args[name].dtype)
        args = {**args, name: t}
    elif kind == "scalar" and scalars:
        args = {**args, draw(st.sampled_from(scalars)): draw(st.sampled_from(EXTREMES))}
    else:
        kind = "plain"
    return kind, args, dtype


def check_call(spec, kind: str, args: dict, dtype) -> None:
    finite_in = all_finite(args)
    try:
        out = spec.call(args, 7)
    except (ValueError, TypeError) as exc:
        message = str(exc)
        assert "INTERNAL ASSERT" not in message, message
        assert any(f"'{name}'" in message or f"{name} " in message for name in args), \
            f"names no argument of {list(args)}: {message}"
        return
    if finite_in and not spec.may_overflow:
        for o in out:
            assert not o.is_floating_point() or bool(torch.isfinite(o).all()), \
                f"NaN / Inf out of finite arguments ({kind})"
    if kind in ("plain", "layout", "batch"):
        assert_matches(out, spec.oracle(args, 7), spec.compare, dtype)


def property_test(spec):
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not RANDOM, database=None,
              suppress_health_check=list(HealthCheck))
    @given(calls(spec))
    def run(call):
        check_call(spec, *call)
    return run


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_matches_the_oracle_or_names_the_argument(spec):
    property_test(spec)()
