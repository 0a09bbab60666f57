"""Sohl-Dickstein, Weiss, Maheswaranathan & Ganguli 2015, "Deep Unsupervised Learning using
Nonequilibrium Thermodynamics": what the Gaussian and the binomial diffusion share.

Steps t = 1..T (index k = t - 1 in tensors). A forward process q(xᵗ | xᵗ⁻¹) with a stationary
law π slowly turns data into p(xᵀ) = π; a reverse process p(xᵗ⁻¹ | xᵗ) from a network turns it
back. Each family's q(xᵗ | xᵗ⁻¹) and q(xᵗ | x⁰) lose a "noise level": the variance βₜ and
1 - ᾱₜ (Gaussian) or the re-drawn fraction (binomial), with ᾱₜ = Π_{s<=t}(1-βₛ).

The last reverse step is the paper's edge rule, p(x⁰ | x¹) = q(x¹ | x⁰) π(x⁰) / π(x¹) (the
forward step run backwards under π; the network's output is not used there), so that the bound
K of eq. 14 is a lower bound on the model's own log p(x⁰), which the trajectory estimate and the
sampler draw from.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..checks import check_choice, check_count, check_samples
from ..ops.chunking import progress
from .diffusion import KNOWN_AT, R_POWERS, check_inpainting, r_weight


class NonequilibriumDiffusion(nn.Module):
    """The bound, the trajectory likelihood, sampling with multiplied distributions (inpainting,
    denoising) and the entropy bounds of a 2015 diffusion model.

    A family defines ``binary`` (its data domain), ``noise_vars()`` [T], and the hooks
    ``_noise_entropy(level)`` (H of one step losing ``level``, summed over D), ``_marginal(x0, ab,
    generator)`` (a draw of q(xᵗ | x⁰)), ``_forward_log_prob(nxt, x, noise_var)``, ``_prior(n, like,
    generator)``, ``_prior_log_prob(x)``, ``_step_kl(x0, x_t, k, alpha_bar, noise_vars)``,
    ``_reverse_log_prob(x_prev, x_t, k, noise_vars)``, ``_check_observation_noise(noise)`` and
    ``_reverse_draw(x_t, k, noise_vars, generator, observation, noise, power, log_r)`` (r^power); a model
    whose last step is
    not the edge rule overrides ``_edge`` (K's terms beside the KLs).
    """

    binary: bool

    def __init__(self, net: nn.Module, dim: int, n_timesteps: int):
        super().__init__()
        if not isinstance(net, nn.Module):
            raise TypeError(f"net must be a torch.nn.Module, got {type(net).__name__}")
        self.net = net
        self.event_shape = (check_count(dim, "dim"),)
        self.n_timesteps = check_count(n_timesteps, "n_timesteps", 2)

    def noise_vars(self) -> torch.Tensor:
        raise NotImplementedError

    def network(self, x_t: torch.Tensor, k: torch.Tensor, width: int) -> torch.Tensor:
        """[B, width] the network's output at step index k [B], zero where k = 0 (the edge rule)."""
        out = self.net(x_t, k)
        if out.shape != (x_t.shape[0], width):
            raise ValueError(f"the reverse network must map [B, {x_t.shape[1]}] to [B, {width}], "
                             f"got {list(out.shape)}")
        return torch.where((k > 0)[:, None], out, torch.zeros((), dtype=out.dtype, device=out.device))

    def check_data(self, x0, name: str = "x0") -> torch.Tensor:
        return check_samples(x0, name, self.event_shape[0], binary=self.binary)

    def _schedule(self) -> tuple[torch.Tensor, torch.Tensor]:
        noise_vars = self.noise_vars()
        return noise_vars, torch.cumprod(1 - noise_vars, 0)

    def bound(self, x0: torch.Tensor, generator=None, *, every_step: bool = False,
              steps: torch.Tensor | None = None) -> torch.Tensor:
        """[B] the lower bound K on log p(x⁰) (nats per sample; paper eq. 14):

            K = -Σ_{t=2}^T E_q[KL(q(xᵗ⁻¹ | xᵗ, x⁰) ‖ p(xᵗ⁻¹ | xᵗ))]
                + H_q(Xᵀ | X⁰) - H_q(X¹ | X⁰) - H_p(Xᵀ),

        each KL at one draw xᵗ ~ q(xᵗ | x⁰). ``every_step``: the sum over all T - 1 n_timesteps (T - 1
        network calls); else an unbiased estimate from one random t per sample, (T - 1)·KL_t
        (one call; the training objective), or at the given ``steps`` (int64 [B], each in 1..T-1:
        e.g. every step in turn, a stratified estimate of the mean over points with far less
        variance). Differentiable in the network (and learnt βs, the Gaussian draws being
        reparameterised)."""
        self.check_data(x0)
        noise_vars, alpha_bar = self._schedule()
        B, T = x0.shape[0], self.n_timesteps
        if every_step:
            kl = sum(self._kl_at(x0, torch.full((B,), k, device=x0.device), alpha_bar, noise_vars, generator)
                     for k in progress(range(1, T), "bound K: steps"))
        else:
            if steps is None:
                device = "cpu" if generator is None else generator.device
                k = torch.randint(1, T, (B,), generator=generator, device=device).to(x0.device)
            else:
                k = torch.as_tensor(steps, device=x0.device)
                if k.shape != (B,) or k.dtype != torch.int64 or k.min() < 1 or k.max() >= T:
                    raise ValueError(f"steps must be int64 [{B}] with every value in 1..{T - 1}")
            kl = (T - 1) * self._kl_at(x0, k, alpha_bar, noise_vars, generator)
        return -kl + self._edge(x0, alpha_bar, noise_vars, generator)

    def _edge(self, x0, alpha_bar, noise_vars, generator) -> torch.Tensor:
        """K's terms beside the KLs: eq. 14's H_q(Xᵀ | X⁰) - H_q(X¹ | X⁰) - H_p(Xᵀ) (exact for the
        edge rule's last step)."""
        one = torch.ones((), dtype=alpha_bar.dtype, device=alpha_bar.device)
        edge = (self._noise_entropy(1 - alpha_bar[-1]) - self._noise_entropy(noise_vars[0])
                - self._noise_entropy(one))
        return edge.to(x0.dtype)

    def _kl_at(self, x0, k, alpha_bar, noise_vars, generator) -> torch.Tensor:
        x_t = self._marginal(x0, alpha_bar[k].to(x0.dtype)[:, None], generator)
        return self._step_kl(x0, x_t, k, alpha_bar, noise_vars)

    @torch.no_grad()
    def trajectory_log_likelihood(self, x0: torch.Tensor, n_trajectories: int = 100,
                                  generator=None) -> torch.Tensor:
        """[B] log p(x⁰) estimated by importance sampling over forward trajectories (paper eq. 9):

            p(x⁰) = E_{q(x¹..ᵀ | x⁰)}[ p(xᵀ) Π_t p(xᵗ⁻¹ | xᵗ) / q(xᵗ | xᵗ⁻¹) ],

        the log of the mean over ``n_trajectories`` trajectories (log-sum-exp): a stochastic
        lower bound (Jensen) that tightens as trajectories are added, above K in expectation."""
        self.check_data(x0)
        S = check_count(n_trajectories, "n_trajectories")
        noise_vars = self.noise_vars().detach().double()
        B = x0.shape[0]
        x = x0.repeat(S, 1)                     # [S·B, D]: trajectory s of sample b at s·B + b
        log_w = torch.zeros(S * B, dtype=torch.float64, device=x0.device)
        for k in progress(range(self.n_timesteps), "trajectory likelihood: steps"):
            level = noise_vars[k].to(x.dtype)
            nxt = self._marginal(x, 1 - level, generator)
            log_w -= self._forward_log_prob(nxt, x, level).double()
            log_w += self._reverse_log_prob(x, nxt, torch.full((S * B,), k, device=x.device),
                                            noise_vars).double()
            x = nxt
        log_w += self._prior_log_prob(x).double()
        return torch.logsumexp(log_w.view(S, B), 0) - math.log(S)

    @torch.no_grad()
    def sample(self, n: int, *, generator=None, known: torch.Tensor | None = None,
               mask: torch.Tensor | None = None, observation: torch.Tensor | None = None,
               observation_noise: float | None = None, known_at: str = "renoised",
               r_power: str = "constant", log_r=None) -> torch.Tensor:
        """[n, D] x⁰ by the reverse process from xᵀ ~ π, each step one fused op.

        Multiplied distributions (paper section 2.5), p̃(x⁰) ∝ p(x⁰) r(x⁰):

        - inpainting, r a delta on the coordinates where the bool ``mask`` is set, at the values
          ``known`` [n, D]: by replacement, after every step those coordinates are set to a
          draw of q(xᵗ⁻¹ | known) (the known values at the end), or with ``known_at="fixed"``
          to the known values themselves at every step (the delta held fixed);
        - denoising, r(x) = the likelihood of ``observation`` [n, D] under the family's noise
          of size ``observation_noise`` (Gaussian: y ~ N(x, s²); binomial: each bit flipped
          with probability ε): every reverse step multiplied by r in closed form, the paper's
          constant choice r(xᵗ) = r(x⁰), or with ``r_power="annealed"`` by
          r^((T-t)/T) (still closed form: r^w is the same noise, w times weaker);
        - any smooth r (``log_r``: x [n, D] -> log r(x) [n], differentiable; Gaussian kind):
          each step's mean moved by w σ² ∇log r(μ), w = 1 or (T-t)/T as ``r_power`` says."""
        check_count(n, "n")
        noise_vars, alpha_bar = (v.detach().double() for v in self._schedule())
        x = self._prior(n, self.noise_vars(), generator)
        known = check_inpainting(x, known, mask)
        fixed = check_choice(known_at, KNOWN_AT, "known_at") == "fixed"
        check_choice(r_power, R_POWERS, "r_power")
        if log_r is not None and not callable(log_r):
            raise TypeError(f"log_r must be a callable x -> log r(x), got {type(log_r).__name__}")
        if log_r is not None and self.binary:
            raise ValueError("a smooth log_r moves a Gaussian step's mean; the binomial kind takes "
                             "its r as an observation (observation, observation_noise)")
        if observation is not None:
            observation = self.check_data(observation, "observation").to(x)
            if len(observation) != n:
                raise ValueError(f"observation must have {n} rows, got {len(observation)}")
            observation_noise = self._check_observation_noise(observation_noise)
        for k in range(self.n_timesteps - 1, -1, -1):
            level = torch.full((n,), k, device=x.device)
            x = self._reverse_draw(x, level, noise_vars, generator, observation, observation_noise,
                                   r_weight(r_power, k, self.n_timesteps), log_r)
            if known is not None:
                level = (known if k == 0 or fixed else
                         self._marginal(known, alpha_bar[k - 1].to(x.dtype), generator))
                x = torch.where(mask, level, x)
        return x

    def reverse_entropy_bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """([T], [T]) lower and upper bounds on each reverse step's conditional entropy
        H_q(Xᵗ⁻¹ | Xᵗ) (nats, summed over D; paper section 2.6, eqs. 15-16), for any data:

            H_q(Xᵗ | Xᵗ⁻¹) + H_q(Xᵗ⁻¹ | X⁰) - H_q(Xᵗ | X⁰) <= H_q(Xᵗ⁻¹ | Xᵗ) <= H_q(Xᵗ | Xᵗ⁻¹).

        The lower bound is met by data at one point; the upper needs the forward process never
        to lower the marginal entropy (always for the binomial; for the Gaussian, data no more
        spread than N(0, I)) and is met by data drawn from π."""
        noise_vars, alpha_bar = (v.detach().double() for v in self._schedule())
        previous = torch.cat([torch.zeros_like(alpha_bar[:1]), 1 - alpha_bar[:-1]])
        upper = self._noise_entropy(noise_vars)
        return upper + self._noise_entropy(previous) - self._noise_entropy(1 - alpha_bar), upper
