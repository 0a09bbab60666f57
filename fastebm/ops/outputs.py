"""The step ops' two forms: a fresh output (the op's ``.default`` overload) or one written into
a given tensor (its ``.out`` overload), so a sampling loop reuses one buffer."""

from __future__ import annotations

import torch


def into(op, out: torch.Tensor | None, *args):
    """``op.default(*args)``, or ``op.out(*args, out=out)`` writing into ``out``: the first
    argument's shape, dtype and device, contiguous; it may be an input itself (each element is
    read before it is written), but may not overlap one in part. Returns the result (``out``;
    the ``.out`` overloads return nothing: a custom op may not return an alias of an input)."""
    if out is None:
        return op.default(*args)
    op.out(*args, out=out)
    return out
