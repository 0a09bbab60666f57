"""A sampler's whole loop as one CUDA graph (the samplers' ``cuda_graph=True``): captured once per
input shape, dtype, device and generator, then replayed, so a loop of small steps costs one
launch. The ops take a CUDA generator's Philox state on the device (ops.seeds.op_seed), so every
replay draws fresh noise, with the bits of the same loop run eagerly from the generator's state.
The model's parameters are read where they lie when the graph replays: update them in place (as
optimizers do), never by assigning new tensors.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def graph_generator(x: torch.Tensor, generator: torch.Generator | None) -> torch.Generator:
    """The CUDA generator a graphed loop draws from: ``generator``, or x's device's default CUDA
    generator for None; ValueError for CPU tensors or a CPU generator (a seed drawn on the host
    would be captured as a constant: every replay would draw the same noise)."""
    if not x.is_cuda:
        raise ValueError(f"cuda_graph=True runs on CUDA tensors; the chains are on {x.device}")
    if generator is None:
        return torch.cuda.default_generators[x.device.index]
    if generator.device.type != "cuda":
        raise ValueError("cuda_graph=True needs a CUDA generator (or None: the device's default "
                         "one): a CPU generator's seeds would be captured as constants, and every "
                         "replay would draw the same noise")
    return generator


class GraphedLoops:
    """A cache of captured loops ``loop(x) -> tuple of tensors``, keyed by the caller."""

    def __init__(self):
        self._graphs: dict = {}

    def run(self, key, x: torch.Tensor, loop: Callable, generator: torch.Generator) -> tuple:
        """loop(x)'s outputs (copies) by replaying the graph captured for ``key``. The first
        call for a key warms the loop up on a side stream (as torch.cuda.graph asks) and captures
        it, then puts the generator back to its state before the warm-up, so the first replay's
        draws are those of an eager run from that state."""
        entry = self._graphs.get(key)
        if entry is None:
            entry = self._graphs[key] = self._capture(x, loop, generator)
        graph, static_in, static_out, _ = entry
        static_in.copy_(x)
        graph.replay()
        return tuple(t.clone() for t in static_out)

    @staticmethod
    def _capture(x: torch.Tensor, loop: Callable, generator: torch.Generator) -> tuple:
        static_in = x.clone()
        state = generator.get_state()
        stream = torch.cuda.current_stream(x.device)
        side = torch.cuda.Stream(device=x.device)
        side.wait_stream(stream)
        with torch.cuda.stream(side):
            loop(static_in.clone())
        stream.wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        if generator is not torch.cuda.default_generators[x.device.index]:
            graph.register_generator_state(generator)
        with torch.cuda.graph(graph):
            static_out = loop(static_in)
        generator.set_state(state)
        return graph, static_in, static_out, loop  # the loop keeps what the graph reads alive
