"""The deep Boltzmann machine (Salakhutdinov & Hinton 2009): binary layers x⁰ = v, x¹, .., x^L
(L ≥ 2 hidden layers), each coupled to its neighbours only,

    E(x) = -Σ_l x^l·b^l - Σ_{l<L} (x^l W^l)·x^{l+1},   W^l [n_l, n_{l+1}].

Given the odd layers the even ones are independent, and the reverse: the DBM is an RBM between
the even units e = (x⁰, x², ..) and the odd units o = (x¹, x³, ..) whose weight matrix W_eo
[E, O] holds each W^l in its block (zeros elsewhere). So its block-Gibbs sweeps are the fused
``rbm_gibbs`` op on (e, W_eo), the odd units sum out of the even ones' free energy
F(e) = -e·b_e - Σ softplus(e W_eo + b_o), and log Z is that RBM's (``equivalent_rbm``): AIS
anneals it from the base-rate model on the even units (``even_base_biases``), and a small one
enumerates the smaller side exactly (``partition.exact_log_z``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn.functional import softplus

from .. import ops
from ..checks import check_count, check_generator, check_real
from .base import check_clamp, check_visible
from .rbm import BernoulliRBM, base_rate_biases


class DBM(nn.Module):
    """A binary deep Boltzmann machine with layer sizes ``sizes`` = [V, H₁, .., H_L], L ≥ 2.

    Parameters: ``weights`` (W^l [n_l, n_{l+1}] ~ N(0, weight_std²)) and ``biases`` (b^l [n_l],
    0). The visible layer is x⁰; ``gibbs`` and the chains of ``sample`` run on the even units
    e [B, E] (x⁰ first), the odd units drawn inside each sweep.
    """

    visible_domain = "binary"

    def __init__(self, sizes: Sequence[int], *, weight_std: float = 0.01,
                 dtype: torch.dtype | None = None, device=None,
                 generator: torch.Generator | None = None):
        super().__init__()
        sizes = [check_count(n, "sizes") for n in sizes]
        if len(sizes) < 3:
            raise ValueError(f"a DBM needs a visible and at least 2 hidden layers, got sizes {sizes}")
        check_real(weight_std, "weight_std", low=0.0)
        check_generator(generator)
        dtype = dtype or torch.get_default_dtype()
        self.sizes = sizes
        self.weights = nn.ParameterList(
            nn.Parameter((weight_std * torch.randn(a, b, generator=generator, dtype=dtype)).to(device))
            for a, b in zip(sizes, sizes[1:]))
        self.biases = nn.ParameterList(
            nn.Parameter(torch.zeros(n, dtype=dtype, device=device)) for n in sizes)

    @property
    def n_visible(self) -> int:
        return self.sizes[0]

    @property
    def n_even(self) -> int:
        return sum(self.sizes[0::2])

    @property
    def n_odd(self) -> int:
        return sum(self.sizes[1::2])

    def _offsets(self) -> list[int]:
        """Where layer l starts inside its side (even layers in e, odd ones in o)."""
        starts, ends = [], [0, 0]
        for l, n in enumerate(self.sizes):
            starts.append(ends[l % 2])
            ends[l % 2] += n
        return starts

    def bipartite(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(W_eo [E, O], b_e [E], b_o [O]) of the equivalent RBM between the even and the odd
        units (differentiable in the parameters)."""
        W0 = self.weights[0]
        W = W0.new_zeros(self.n_even, self.n_odd)
        start = self._offsets()
        for l, Wl in enumerate(self.weights):
            a, b = self.sizes[l], self.sizes[l + 1]
            if l % 2 == 0:   # x^l even, x^{l+1} odd
                W[start[l]:start[l] + a, start[l + 1]:start[l + 1] + b] = Wl
            else:            # x^l odd, x^{l+1} even
                W[start[l + 1]:start[l + 1] + b, start[l]:start[l] + a] = Wl.T
        return W, torch.cat(list(self.biases[0::2])), torch.cat(list(self.biases[1::2]))

    def split(self, e: torch.Tensor, o: torch.Tensor) -> list[torch.Tensor]:
        """The layers [x⁰, x¹, .., x^L] of even units e [B, E] and odd units o [B, O]."""
        start = self._offsets()
        return [(e, o)[l % 2][:, start[l]:start[l] + n] for l, n in enumerate(self.sizes)]

    def energy(self, layers: Sequence[torch.Tensor]) -> torch.Tensor:
        """[B] E(x) of the layers [x⁰ [B, V], .., x^L [B, H_L]] (binary, or mean-field values:
        E is linear in each layer, so it is then E_q[E] of the factorised q)."""
        bias = sum(x @ b for x, b in zip(layers, self.biases))
        pairs = sum(((x @ W) * y).sum(-1) for x, W, y in zip(layers, self.weights, layers[1:]))
        return -bias - pairs

    def free_energy_even(self, e: torch.Tensor) -> torch.Tensor:
        """[B] F(e) = -log Σ_o e^{-E(e, o)} = -e·b_e - Σ_j softplus(b_o + (e W_eo)_j)."""
        W, b_e, b_o = self.bipartite()
        return -(e @ b_e) - softplus(e @ W + b_o).sum(-1)

    def equivalent_rbm(self) -> BernoulliRBM:
        """The BernoulliRBM between the even (its visible) and the odd (its hidden) units, a
        detached copy: the same distribution over all units, the same log Z."""
        W, b_e, b_o = (t.detach() for t in self.bipartite())
        rbm = BernoulliRBM(self.n_even, self.n_odd, weight_std=0.0, dtype=W.dtype,
                           device=W.device, generator=torch.Generator())  # no global draws
        with torch.no_grad():
            rbm.W.copy_(W)
            rbm.b.copy_(b_e)
            rbm.c.copy_(b_o)
        return rbm

    def gibbs(self, e: torch.Tensor, n_steps: int = 1, *,
              generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """n_steps block-Gibbs sweeps (odd layers given the even ones, then the even given the
        odd) from the even units e [B, E], one fused ``rbm_gibbs`` call; returns (e_k, o_k)."""
        W, b_e, b_o = (t.detach() for t in self.bipartite())
        return ops.rbm_gibbs(e, W, b_e, b_o, n_steps, generator=generator)

    def random_even(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """[n, E] uniform random even units (a chain start)."""
        p = torch.full((n, self.n_even), 0.5, dtype=self.biases[0].dtype)
        return torch.bernoulli(p, generator=generator).to(self.biases[0].device)

    def random_visible(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """[n, V] uniform random visible states."""
        return self.random_even(n, generator)[:, :self.n_visible]

    @torch.no_grad()
    def mean_field(self, v: torch.Tensor, n_steps: int = 10) -> list[torch.Tensor]:
        """The factorised posterior q(h | v) = Π_l Π_j μ^l_j^{h}(1 - μ^l_j)^{1-h} that maximises
        the variational bound, by ``n_steps`` rounds of the fixed-point equations
        μ^l = σ(b^l + μ^{l-1} W^{l-1} + μ^{l+1} W^{lᵀ}) (odd layers, then even ones), from one
        bottom-up pass; returns [μ¹ [B, H₁], .., μ^L]."""
        check_count(n_steps, "n_steps")
        layers = [v]
        for W, b in zip(self.weights, self.biases[1:]):
            layers.append(torch.sigmoid(layers[-1] @ W + b))
        top = len(self.sizes) - 1
        for _ in range(n_steps):
            for l in [*range(1, top + 1, 2), *range(2, top + 1, 2)]:  # odd layers, then even
                field = self.biases[l] + layers[l - 1] @ self.weights[l - 1]
                if l < top:
                    field = field + layers[l + 1] @ self.weights[l].T
                layers[l] = torch.sigmoid(field)
        return layers[1:]

    @torch.no_grad()
    def variational_bound(self, v: torch.Tensor, log_z, n_steps: int = 30) -> torch.Tensor:
        """[B] the lower bound on log p(v) from the mean-field posterior q:
        log p(v) ≥ -E_q[E(v, h)] + H(q) - log Z (Salakhutdinov & Hinton 2009), with
        E_q[E] = E(v, μ) and H(q) = Σ -μ log μ - (1 - μ) log(1 - μ)."""
        v = check_visible(self, v, "v")
        mu = self.mean_field(v, n_steps)
        entropy = sum((-torch.xlogy(m, m) - torch.xlogy(1 - m, 1 - m)).sum(-1) for m in mu)
        return -self.energy([v, *mu]) + entropy - float(log_z)

    @torch.no_grad()
    def sample(self, n: int, n_steps: int = 1000, *, generator: torch.Generator | None = None,
               known: torch.Tensor | None = None, mask: torch.Tensor | None = None) -> torch.Tensor:
        """[n, V] visible states after n_steps sweeps from random even units. With ``known``
        [n, V] and a bool ``mask`` ([n, V] or [V], True where known): the known visible units
        are put back after each sweep — exact, as for an RBM: a sweep draws the odd units given
        the clamped even ones, then the even ones given the odd — so the rest follow
        p(v_unknown | v_known)."""
        check_count(n, "n")
        check_count(n_steps, "n_steps")
        check_generator(generator)
        e = self.random_even(n, generator)
        V = self.n_visible
        if known is None and mask is None:
            return self.gibbs(e, n_steps, generator=generator)[0][:, :V]
        if known is None or mask is None:
            raise ValueError("clamped sampling takes known and mask together")
        known, mask = check_clamp(self, n, known, mask)
        for _ in range(n_steps):
            e[:, :V] = torch.where(mask, known, e[:, :V])
            e = self.gibbs(e, 1, generator=generator)[0]
        return torch.where(mask, known, e[:, :V])

    def even_base_biases(self, data: torch.Tensor | None = None) -> torch.Tensor:
        """[E] the base-rate model's biases on the even units, AIS's start for log Z
        (``partition.ais(dbm.equivalent_rbm(), base_b=...)``): the visible units at the data's
        (smoothed) log-odds (1/2 without data), the other even layers at 1/2."""
        if data is not None:
            data = check_visible(self, data, "data")
        b = self.biases[0]
        base_v = base_rate_biases(data, self.n_visible, dtype=b.dtype, device=b.device)
        return torch.cat([base_v, base_v.new_zeros(self.n_even - self.n_visible)])
