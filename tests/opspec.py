"""One row per fastebm op: how to make valid arguments, its oracle, its bad inputs, and what kind
of op it is. tests/test_op_contract.py runs every contract check over every row; a new op is one
row here plus its statistical test.

A row's ``make(device, dtype, g, big)`` returns the op's arguments in schema order, seed left out
(``big``: enough elements to span many driver blocks and both threads). ``oracle(args, seed)``
is the pure-PyTorch twin from fastebm.reference. Outputs are compared by ``compare``: "binary"
outputs may differ from the oracle's only where a uniform falls within rounding of σ(·) (none in
float64; below 1e-3 in float32), the rest within the dtype's tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from fastebm import reference

DTYPES = (torch.float32, torch.float64)


@dataclass
class Bad:
    """A bad call: ``change(args)`` returns the bad arguments; the ValueError names ``name``.
    ``values``: the fault is in tensor values (NaN, range), which a fake kernel cannot see."""

    change: Callable[[dict], dict]
    name: str
    values: bool = False


@dataclass
class OpSpec:
    name: str
    make: Callable[..., dict]
    oracle: Callable[[dict, int], tuple]
    bad: list[Bad]
    compare: tuple[str, ...]        # per output: "binary" or "close"
    batch: str | tuple[str, ...] = ()  # the argument(s) whose dim 0 is the batch
    empty_batch_ok: bool = True     # False: an empty batch is refused (it has no meaning)
    dtypes: tuple = DTYPES
    differentiable: bool = False
    seeded: bool = True             # False: a deterministic op, called without a seed
    # The arguments under which a CUDA call must not synchronise (svgd_rbf: a given bandwidth,
    # since the median reads its counts back).
    sync_free: Callable[[dict], dict] = lambda args: args
    # True: an output may overflow to ±Inf from finite arguments by design (leapfrog_step carries
    # a diverging trajectory to hmc_accept, which rejects that chain).
    may_overflow: bool = False
    # The arguments that follow the seed in the schema (sweep0, frozen), in order; and what
    # tells this row from another row of the same op.
    after_seed: tuple[str, ...] = ()
    variant: str = ""

    @property
    def batch_args(self) -> tuple[str, ...]:
        return (self.batch,) if isinstance(self.batch, str) else self.batch

    @property
    def op(self):
        return getattr(torch.ops.fastebm, self.name).default

    def positional(self, args: dict, seed: int) -> tuple:
        """The op's arguments in schema order, the seed in its place."""
        before = [v for k, v in args.items() if k not in self.after_seed]
        return (*before, *((seed,) if self.seeded else ()), *(args[k] for k in self.after_seed))

    def call(self, args: dict, seed: int):
        out = self.op(*self.positional(args, seed))
        return out if isinstance(out, tuple) else (out,)

    def __str__(self) -> str:
        return f"{self.name}-{self.variant}" if self.variant else self.name


def _nan(t: torch.Tensor) -> torch.Tensor:
    return t.clone().index_fill_(0, torch.tensor([0], device=t.device), float("nan"))


def _inf(t: torch.Tensor) -> torch.Tensor:
    return t.clone().index_fill_(0, torch.tensor([0], device=t.device), float("inf"))


def _with(**changes):
    return lambda a: {**a, **{k: (f(a[k]) if callable(f) else f) for k, f in changes.items()}}


def _rbm_params(V, H, device, dtype, g, scale=1.0):
    W = (scale * torch.randn(V, H, generator=g, dtype=torch.float64)).to(device, dtype)
    b = (0.5 * torch.randn(V, generator=g, dtype=torch.float64)).to(device, dtype)
    c = (0.5 * torch.randn(H, generator=g, dtype=torch.float64)).to(device, dtype)
    return W, b, c


def _binary(B, V, device, dtype, g):
    return torch.bernoulli(torch.full((B, V), 0.5, dtype=torch.float64), generator=g).to(device, dtype)


def _rbm_bad(v: str) -> list[Bad]:
    """The bad inputs every RBM op shares; v: the name of its [B, V] state argument."""
    return [
        Bad(_with(W=lambda W: W[0]), "W"), Bad(_with(**{v: lambda x: x[0]}), v),
        Bad(_with(**{v: lambda x: x[:, :3]}), v), Bad(_with(b=lambda b: b[:3]), "b"),
        Bad(_with(c=lambda c: c[:2]), "c"), Bad(_with(b=lambda b: b[None]), "b"),
        Bad(_with(W=lambda W: W.to(torch.float32 if W.dtype == torch.float64 else torch.float64)),
            v),
        Bad(_with(c=lambda c: c.to(torch.float32 if c.dtype == torch.float64 else torch.float64)),
            "c"),
        Bad(_with(**{v: lambda x: x.long()}), v), Bad(_with(W=lambda W: W.int()), "W"),
        Bad(_with(W=_nan), "W", values=True), Bad(_with(b=_inf), "b", values=True),
        Bad(_with(c=_nan), "c", values=True), Bad(_with(**{v: _nan}), v, values=True),
    ]


def _count_bad(name: str) -> list[Bad]:
    return [Bad(_with(**{name: 0}), name), Bad(_with(**{name: -2}), name)]


# ---------------------------------------------------------------- rows

def make_rbm_gibbs(device, dtype, g, big=False):
    V, H, B = (96, 200, 300) if big else (37, 29, 53)
    W, b, c = _rbm_params(V, H, device, dtype, g, 0.3 if big else 1.0)
    return dict(v=_binary(B, V, device, dtype, g), W=W, b=b, c=c,
                n_steps=3 if dtype == torch.float64 else 1)


def make_grbm_gibbs(device, dtype, g, big=False):
    args = make_rbm_gibbs(device, dtype, g, big)
    V = args["W"].shape[0]
    args["W"] = args["W"] * 0.3
    args["v"] = args["v"] + 0.1 * torch.randn(args["v"].shape, generator=g, dtype=torch.float64).to(args["v"])
    sigma = (0.5 + torch.rand(V, generator=g, dtype=torch.float64)).to(device, dtype)
    return dict(v=args["v"], W=args["W"], b=args["b"], c=args["c"], sigma=sigma, n_steps=args["n_steps"])


def make_rbm_cd_grad(device, dtype, g, big=False):
    args = make_rbm_gibbs(device, dtype, g, big)
    v_data = _binary(args["v"].shape[0] // 2 + 1, args["W"].shape[0], device, dtype, g)
    return dict(v_data=v_data, v_chain=args["v"], W=args["W"], b=args["b"], c=args["c"],
                k=args["n_steps"])


def make_grbm_cd_grad(device, dtype, g, big=False):
    args = make_grbm_gibbs(device, dtype, g, big)
    v_data = args["v"][: args["v"].shape[0] // 2 + 1] + 0.5
    return dict(v_data=v_data, v_chain=args["v"], W=args["W"], b=args["b"], c=args["c"],
                sigma=args["sigma"], k=args["n_steps"])


def make_rbm_ais(device, dtype, g, big=False):
    V, H, N = (96, 150, 200) if big else (20, 12, 40)
    W, b, c = _rbm_params(V, H, device, dtype, g, 0.3)
    base_b = (0.5 * torch.randn(V, generator=g, dtype=torch.float64)).to(device, dtype)
    betas = [0.0, 0.3, 0.7, 1.0] if dtype == torch.float64 else [0.0, 1.0]
    return dict(v0=_binary(N, V, device, dtype, g), W=W, b=b, c=c, base_b=base_b, betas=betas)


def make_grbm_ais(device, dtype, g, big=False):
    args = make_rbm_ais(device, dtype, g, big)
    V = args["W"].shape[0]
    sigma = (0.5 + torch.rand(V, generator=g, dtype=torch.float64)).to(device, dtype)
    v0 = args["b"] + sigma * torch.randn(args["v0"].shape, generator=g, dtype=torch.float64).to(args["v0"])
    return dict(v0=v0, W=args["W"], b=args["b"], c=args["c"], sigma=sigma, betas=args["betas"])


def make_bernoulli_sigmoid(device, dtype, g, big=False):
    shape = (70, 30, 20) if big else (7, 3, 11)
    return dict(logits=(3 * torch.randn(shape, generator=g, dtype=torch.float64)).to(device, dtype))


def make_philox4x32(device, dtype, g, big=False):
    n = 20000 if big else 100
    return dict(counter=torch.randint(0, 2**32, (n, 4), generator=g, dtype=torch.int64).to(device))


def _philox_oracle(a, seed):
    key = seed % (1 << 64)
    return (reference.philox4x32(a["counter"], (key & 0xFFFFFFFF, key >> 32)),)


def make_langevin_step(device, dtype, g, big=False):
    shape = (300, 7, 11) if big else (13, 5, 3)
    x = torch.randn(shape, generator=g, dtype=torch.float64).to(device, dtype)
    grad = (x + torch.randn(shape, generator=g, dtype=torch.float64).to(device, dtype)) * 0.7
    return dict(x=x, grad=grad, step_size=0.03 if dtype == torch.float64 else 0.2, noise=None)


def make_mala_accept(device, dtype, g, big=False):
    """A Gaussian target E(x) = ½‖x‖², ∇E(x) = x, and proposals by a Langevin step of size 1,
    x' = x - 1·x + √2·ξ: some chains accept, some reject."""
    B, D = (2000, 37) if big else (64, 5)
    x = torch.randn(B, D, generator=g, dtype=torch.float64)
    x_prop = 2 ** 0.5 * torch.randn(B, D, generator=g, dtype=torch.float64)
    to = dict(device=device, dtype=dtype)
    return dict(x=x.to(**to), x_prop=x_prop.to(**to), energy=(x.square().sum(1) / 2).to(**to),
                energy_prop=(x_prop.square().sum(1) / 2).to(**to), grad=x.to(**to),
                grad_prop=x_prop.to(**to), step_size=1.0)


def make_leapfrog_step(device, dtype, g, big=False):
    B, D = (2000, 37) if big else (31, 6)
    to = dict(device=device, dtype=dtype)
    x, p, grad = (torch.randn(B, D, generator=g, dtype=torch.float64).to(**to) for _ in range(3))
    inv_mass = (0.5 + torch.rand(D, generator=g, dtype=torch.float64)).to(**to)
    return dict(x=x, p=p, grad=grad, step_size=0.1, inv_mass=inv_mass, momentum_step=0.5)


def make_hmc_accept(device, dtype, g, big=False):
    """Trajectories of one leapfrog step of size 0.8 on E(x) = ½‖x‖² from p0 ~ N(0, M):
    some accept, some reject."""
    args = make_mala_accept(device, dtype, g, big)
    x = args["x"]
    inv_mass = (0.5 + torch.rand(x.shape[1], generator=g, dtype=torch.float64)).to(x)
    p0 = torch.randn(x.shape, generator=g, dtype=torch.float64).to(x) / inv_mass.sqrt()
    x_prop, p_half = reference.leapfrog_step(x, p0, x, 0.8, inv_mass, 0.5)
    return dict(x=x, x_prop=x_prop, energy=args["energy"], energy_prop=x_prop.square().sum(1) / 2,
                grad=x, grad_prop=x_prop, p0=p0, p_half=p_half, inv_mass=inv_mass, step_size=0.8)


def make_gmm_langevin(device, dtype, g, big=False):
    B, D, K = (600, 3, 5) if big else (40, 3, 4)
    to = dict(device=device, dtype=dtype)
    weights = torch.rand(K, generator=g, dtype=torch.float64) + 0.2
    return dict(x=(2 * torch.randn(B, D, generator=g, dtype=torch.float64)).to(**to),
                log_weights=(weights / weights.sum()).log().to(**to),
                means=(2 * torch.randn(K, D, generator=g, dtype=torch.float64)).to(**to),
                stds=(0.5 + torch.rand(K, D, generator=g, dtype=torch.float64)).to(**to),
                step_size=0.2, n_steps=10 if dtype == torch.float64 else 3, mala=True)


def _alphas_cumprod(T, device, dtype):
    """ᾱ of a linear β schedule from 1e-3 to 0.2 over T steps."""
    return torch.cumprod(1 - torch.linspace(1e-3, 0.2, T, dtype=torch.float64), 0).to(device, dtype)


def make_ddpm_step(device, dtype, g, big=False):
    """Per-sample timesteps over the whole table (t = 0 and t = T - 1 included); float64 with
    fixed_large and clipping (which binds on some elements), float32 without."""
    shape, T = ((300, 7, 11) if big else (13, 5, 3)), 50
    t = torch.randint(0, T, shape[:1], generator=g)
    t[0], t[-1] = 0, T - 1
    to = dict(device=device, dtype=dtype)
    double = dtype == torch.float64
    return dict(x_t=torch.randn(shape, generator=g, dtype=torch.float64).to(**to),
                noise_pred=torch.randn(shape, generator=g, dtype=torch.float64).to(**to),
                t=t.to(device), alphas_cumprod=_alphas_cumprod(T, device, dtype),
                variance=1 if double else 0, clip_sample=1.5 if double else None, noise=None)


def make_ddim_step(device, dtype, g, big=False):
    args = make_ddpm_step(device, dtype, g, big)
    t = args["t"].cpu()
    t_prev = (torch.rand(t.shape, generator=g, dtype=torch.float64) * (t + 1)).long() - 1
    return dict(x_t=args["x_t"], noise_pred=args["noise_pred"], t=args["t"], t_prev=t_prev.to(device),
                alphas_cumprod=args["alphas_cumprod"],
                eta=1.0 if dtype == torch.float64 else 0.5, noise=None)


def make_gaussian_diffusion_step(device, dtype, g, big=False):
    shape = (300, 7, 11) if big else (13, 5, 3)
    to = dict(device=device, dtype=dtype)
    x_t, mu, var = (torch.randn(shape, generator=g, dtype=torch.float64).to(**to) for _ in range(3))
    noise_var = (0.01 + 0.3 * torch.rand(shape[0], generator=g, dtype=torch.float64)).to(**to)
    return dict(x_t=x_t, mu=mu, var=var, noise_var=noise_var, noise=None)


def make_binomial_diffusion_step(device, dtype, g, big=False):
    shape = (300, 7, 11) if big else (13, 5, 3)
    return dict(p=torch.rand(shape, generator=g, dtype=torch.float64).to(device, dtype))


def make_svgd_rbf(device, dtype, g, big=False):
    S, n, d = (2, 700, 9) if big else (3, 50, 4)
    x = (2 * torch.randn(S, n, d, generator=g, dtype=torch.float64) + 1).to(device, dtype)
    score = torch.randn(S, n, d, generator=g, dtype=torch.float64).to(device, dtype)
    return dict(x=x, score=score, bandwidth=None, rows=[37, 402] if big else None)


def make_pair_distance_median(device, dtype, g, big=False):
    """Sets of an odd and an even pair count (n = 50: 1,225 pairs; big: 700 particles, counted
    by the passes rather than sorted)."""
    S, n, d = (2, 700, 9) if big else (3, 50, 4)
    return dict(x=(2 * torch.randn(S, n, d, generator=g, dtype=torch.float64) + 1).to(device, dtype))


def make_stein_kernel_matvec(device, dtype, g, big=False):
    """float64: the IMQ kernel without the diagonal (the U-statistic); float32: RBF with it."""
    n, d, m = (700, 9, 5) if big else (50, 3, 2)
    x = 2 * torch.randn(n, d, generator=g, dtype=torch.float64) + 1
    score = torch.randn(n, d, generator=g, dtype=torch.float64)
    weights = torch.randn(n, m, generator=g, dtype=torch.float64)
    imq = dtype == torch.float64
    return dict(x=x.to(device, dtype), score=score.to(device, dtype),
                weights=weights.to(device, dtype),
                bandwidth=float(reference.pair_distance_median(x)),
                kernel="imq" if imq else "rbf", beta=-0.6 if imq else -0.5, diagonal=not imq)


def _symmetric(n, g, scale):
    """[n, n] float64 symmetric couplings with a zero diagonal."""
    A = scale * torch.randn(n, n, generator=g, dtype=torch.float64)
    return (A + A.T).fill_diagonal_(0) / 2


def make_bm_gibbs(device, dtype, g, big=False):
    """Per-chain β (one per chain, as parallel tempering uses it); several blocks of sites and
    a short last block when big."""
    B, n = (300, 150) if big else (53, 37)
    to = dict(device=device, dtype=dtype)
    return dict(x=_binary(B, n, device, dtype, g), J=_symmetric(n, g, 0.4).to(**to),
                b=(0.5 * torch.randn(n, generator=g, dtype=torch.float64)).to(**to),
                n_steps=2 if dtype == torch.float64 else 1,
                beta=(0.5 + torch.rand(B, generator=g, dtype=torch.float64)).to(**to))


def make_bm_gibbs_frozen(device, dtype, g, big=False):
    """make_bm_gibbs's chains with a third of their sites held (a different set per chain),
    from sweep 3."""
    args = make_bm_gibbs(device, dtype, g, big)
    frozen = torch.rand(args["x"].shape, generator=g) < 1 / 3
    return {**args, "sweep0": 3, "frozen": frozen.to(device)}


def make_ising_gibbs(device, dtype, g, big=False):
    """Replicas at β in [0.2, 0.8] (both sides of the critical 0.4407), a field h."""
    B, L = (4, 128) if big else (3, 8)
    to = dict(device=device, dtype=dtype)
    s = torch.where(torch.rand(B, L, L, generator=g, dtype=torch.float64) < 0.5, 1.0, -1.0)
    return dict(s=s.to(**to), n_steps=3 if dtype == torch.float64 else 2,
                beta=(0.2 + 0.6 * torch.rand(B, generator=g, dtype=torch.float64)).to(**to),
                J=1.0 if dtype == torch.float64 else 0.7, h=0.1)


def make_ising_gibbs_frozen(device, dtype, g, big=False):
    """make_ising_gibbs's replicas with a third of their spins held, from sweep 2."""
    args = make_ising_gibbs(device, dtype, g, big)
    frozen = torch.rand(args["s"].shape, generator=g) < 1 / 3
    return {**args, "sweep0": 2, "frozen": frozen.to(device)}


def _frozen_bad(state: str) -> list[Bad]:
    """Bad held-site masks of the Boltzmann / Ising ops (their state argument: ``state``)."""
    return [Bad(_with(frozen=lambda f: f.to(torch.uint8)), "frozen"),
            Bad(_with(frozen=lambda f: f[:, 1:]), "frozen"),
            Bad(_with(frozen=lambda f: f[0]), "frozen")]


def _other_dtype(t: torch.Tensor) -> torch.Tensor:
    return t.float() if t.dtype == torch.float64 else t.double()


def _beta_bad(state: str) -> list[Bad]:
    """Bad inverse temperatures of the Boltzmann / Ising ops (their state argument: ``state``)."""
    return [Bad(_with(beta=lambda b: b[1:]), "beta"), Bad(_with(beta=lambda b: b[:, None]), "beta"),
            Bad(_with(beta=_other_dtype), "beta"), Bad(_with(beta=lambda b: b.long()), "beta"),
            Bad(_with(beta=lambda b: -b), "beta", True), Bad(_with(beta=_nan), "beta", True),
            Bad(_with(n_steps=0), "n_steps"), Bad(_with(**{state: lambda x: x[0]}), state),
            Bad(_with(**{state: lambda x: x.long()}), state),
            Bad(_with(**{state: lambda x: 0.5 * x}), state, True),
            Bad(_with(**{state: _nan}), state, True)]


def make_reparameterize(device, dtype, g, big=False):
    """μ and log σ of a batch of Gaussian posteriors [B, D]; log σ over [-3, 1]."""
    shape = (500, 64) if big else (37, 5)
    to = dict(device=device, dtype=dtype)
    return dict(mu=(2 * torch.randn(shape, generator=g, dtype=torch.float64)).to(**to),
                log_sigma=(4 * torch.rand(shape, generator=g, dtype=torch.float64) - 3).to(**to),
                noise=None)


def _reverse_bad() -> list[Bad]:
    """The bad inputs DDPM and DDIM steps share."""
    return [
        Bad(_with(x_t=lambda t: t[0, 0, 0]), "x_t"), Bad(_with(noise_pred=lambda e: e[:, :2]), "noise_pred"),
        Bad(_with(noise_pred=lambda e: e.float() if e.dtype == torch.float64 else e.double()), "noise_pred"),
        Bad(_with(noise=lambda _: torch.zeros(2)), "noise"),
        Bad(_with(t=lambda t: t.double()), "t"), Bad(_with(t=lambda t: t[1:]), "t"),
        Bad(_with(t=lambda t: t + 50), "t", True), Bad(_with(t=lambda t: t - 60), "t", True),
        Bad(_with(alphas_cumprod=lambda a: a[None]), "alphas_cumprod"),
        Bad(_with(alphas_cumprod=lambda a: a.flip(0)), "alphas_cumprod", True),
        Bad(_with(alphas_cumprod=lambda a: a * 1.2), "alphas_cumprod", True),
        Bad(_with(alphas_cumprod=_nan), "alphas_cumprod", True),
        Bad(_with(noise_pred=_nan), "noise_pred", True), Bad(_with(x_t=_inf), "x_t", True)]


def _inv_mass_bad() -> list[Bad]:
    return [Bad(_with(inv_mass=lambda m: m[1:]), "inv_mass"), Bad(_with(inv_mass=lambda m: -m), "inv_mass", True),
            Bad(_with(inv_mass=_nan), "inv_mass", True), Bad(_with(inv_mass=lambda m: m[None]), "inv_mass")]


def _step_size_bad() -> list[Bad]:
    return [Bad(_with(step_size=0.0), "step_size"), Bad(_with(step_size=-0.1), "step_size"),
            Bad(_with(step_size=float("nan")), "step_size"),
            Bad(_with(step_size=float("inf")), "step_size")]


def _sigma_bad() -> list[Bad]:
    return [Bad(_with(sigma=lambda s: s[:2]), "sigma"), Bad(_with(sigma=lambda s: -s), "sigma", True),
            Bad(_with(sigma=torch.zeros_like), "sigma", True), Bad(_with(sigma=_nan), "sigma", True),
            Bad(_with(sigma=lambda s: s.to(torch.float32 if s.dtype == torch.float64 else torch.float64)),
                "sigma")]


def _cd_data_bad() -> list[Bad]:
    return [Bad(_with(v_data=lambda x: x[:, :3]), "v_data"), Bad(_with(v_data=_nan), "v_data", True),
            Bad(_with(v_data=lambda x: x[:0]), "v_data")]


def _betas_bad() -> list[Bad]:
    return [Bad(_with(betas=[0.5]), "betas"), Bad(_with(betas=[0.0, 1.5]), "betas"),
            Bad(_with(betas=[0.0, float("nan"), 1.0]), "betas")]


SPECS = [
    OpSpec("rbm_gibbs", make_rbm_gibbs,
           lambda a, s: reference.rbm_gibbs(a["v"], a["W"], a["b"], a["c"], a["n_steps"], s),
           _rbm_bad("v") + _count_bad("n_steps"), ("binary", "binary"), batch="v"),
    OpSpec("grbm_gibbs", make_grbm_gibbs,
           lambda a, s: reference.grbm_gibbs(a["v"], a["W"], a["b"], a["c"], a["sigma"], a["n_steps"], s),
           _rbm_bad("v") + _count_bad("n_steps") + _sigma_bad(), ("close", "binary"), batch="v"),
    OpSpec("rbm_cd_grad", make_rbm_cd_grad,
           lambda a, s: reference.rbm_cd_grad(a["v_data"], a["v_chain"], a["W"], a["b"], a["c"], a["k"], s),
           _rbm_bad("v_chain") + _count_bad("k") + _cd_data_bad(),
           ("close", "close", "close", "binary"), batch="v_chain", empty_batch_ok=False),
    OpSpec("grbm_cd_grad", make_grbm_cd_grad,
           lambda a, s: reference.grbm_cd_grad(a["v_data"], a["v_chain"], a["W"], a["b"], a["c"],
                                               a["sigma"], a["k"], s),
           _rbm_bad("v_chain") + _count_bad("k") + _cd_data_bad() + _sigma_bad(),
           ("close", "close", "close", "close", "close"), batch="v_chain", empty_batch_ok=False),
    OpSpec("rbm_ais", make_rbm_ais,
           lambda a, s: reference.rbm_ais(a["v0"], a["W"], a["b"], a["c"], a["base_b"], a["betas"], s),
           _rbm_bad("v0") + _betas_bad() + [
               Bad(_with(base_b=lambda x: x[:3]), "base_b"), Bad(_with(base_b=_nan), "base_b", True)],
           ("close", "binary"), batch="v0"),
    OpSpec("grbm_ais", make_grbm_ais,
           lambda a, s: reference.grbm_ais(a["v0"], a["W"], a["b"], a["c"], a["sigma"], a["betas"], s),
           _rbm_bad("v0") + _betas_bad() + _sigma_bad(), ("close", "close"), batch="v0"),
    OpSpec("langevin_step", make_langevin_step,
           lambda a, s: (reference.langevin_step(a["x"], a["grad"], a["step_size"], s),),
           _step_size_bad() + [
               Bad(_with(grad=lambda t: t[:, :2]), "grad"), Bad(_with(grad=lambda t: t.float()), "grad"),
               Bad(_with(x=lambda t: t.long()), "x"), Bad(_with(x=_nan), "x", True),
               Bad(_with(grad=_nan), "grad", True), Bad(_with(grad=_inf), "grad", True),
               Bad(_with(noise=lambda _: torch.zeros(2)), "noise")],
           ("close",), batch=("x", "grad"), differentiable=True),
    OpSpec("mala_accept", make_mala_accept,
           lambda a, s: reference.mala_accept(*a.values(), s),
           _step_size_bad() + [
               Bad(_with(x_prop=lambda t: t[:, :2]), "x_prop"), Bad(_with(grad=lambda t: t[1:]), "grad"),
               Bad(_with(grad_prop=lambda t: t.float()), "grad_prop"),
               Bad(_with(energy=lambda t: t[None]), "energy"),
               Bad(_with(energy_prop=lambda t: t[1:]), "energy_prop"),
               Bad(_with(x=lambda t: t[0, 0]), "x"), Bad(_with(x=_nan), "x", True),
               Bad(_with(energy=_inf), "energy", True), Bad(_with(grad=_nan), "grad", True)],
           ("close", "close", "close", "close"),
           batch=("x", "x_prop", "energy", "energy_prop", "grad", "grad_prop")),
    OpSpec("leapfrog_step", make_leapfrog_step,
           lambda a, s: reference.leapfrog_step(*a.values()),
           _step_size_bad() + _inv_mass_bad() + [
               Bad(_with(p=lambda t: t[:, :2]), "p"), Bad(_with(grad=lambda t: t[1:]), "grad"),
               Bad(_with(momentum_step=0.0), "momentum_step"), Bad(_with(momentum_step=1.5), "momentum_step"),
               Bad(_with(x=lambda t: t[0, 0]), "x")],
           ("close", "close"), batch=("x", "p", "grad"), seeded=False,
           may_overflow=True),
    OpSpec("hmc_accept", make_hmc_accept,
           lambda a, s: reference.hmc_accept(*a.values(), s),
           _step_size_bad() + _inv_mass_bad() + [
               Bad(_with(p0=lambda t: t[:, :2]), "p0"), Bad(_with(p_half=lambda t: t[1:]), "p_half"),
               Bad(_with(energy_prop=lambda t: t[1:]), "energy_prop"), Bad(_with(p0=_nan), "p0", True),
               Bad(_with(x=_nan), "x", True)],
           ("close", "close", "close", "close"),
           batch=("x", "x_prop", "energy", "energy_prop", "grad", "grad_prop", "p0", "p_half")),
    OpSpec("gmm_langevin", make_gmm_langevin,
           lambda a, s: reference.gmm_langevin(*a.values(), s),
           _step_size_bad() + [
               Bad(_with(means=lambda t: t[:, :2]), "means"), Bad(_with(stds=lambda t: t[1:]), "stds"),
               Bad(_with(log_weights=lambda t: t[1:]), "log_weights"),
               Bad(_with(x=lambda t: t[:, None]), "x"), Bad(_with(n_steps=0), "n_steps"),
               Bad(_with(x=lambda t: t.repeat(1, 6), means=lambda t: t.repeat(1, 6),
                         stds=lambda t: t.repeat(1, 6)), "x"),
               Bad(_with(means=lambda t: t.repeat(17, 1), stds=lambda t: t.repeat(17, 1),
                         log_weights=lambda t: t.repeat(17)), "means"),
               Bad(_with(stds=lambda t: -t), "stds", True), Bad(_with(x=_nan), "x", True),
               Bad(_with(means=_inf), "means", True), Bad(_with(log_weights=_nan), "log_weights", True)],
           ("close", "close"), batch="x"),
    OpSpec("ddpm_step", make_ddpm_step, lambda a, s: (reference.ddpm_step(*a.values(), s),),
           _reverse_bad() + [
               Bad(_with(variance=2), "variance"), Bad(_with(clip_sample=-1.0), "clip_sample"),
               Bad(_with(clip_sample=float("nan")), "clip_sample")],
           ("close",), batch=("x_t", "noise_pred", "t")),
    OpSpec("ddim_step", make_ddim_step, lambda a, s: (reference.ddim_step(*a.values(), s),),
           _reverse_bad() + [
               Bad(_with(t_prev=lambda t: t[:, None]), "t_prev"),
               Bad(_with(t_prev=lambda t: t + 60), "t_prev", True),
               Bad(_with(t_prev=lambda t: t - 60), "t_prev", True),
               Bad(_with(eta=-0.5), "eta"), Bad(_with(eta=float("inf")), "eta")],
           ("close",), batch=("x_t", "noise_pred", "t", "t_prev")),
    OpSpec("gaussian_diffusion_step", make_gaussian_diffusion_step,
           lambda a, s: (reference.gaussian_diffusion_step(*a.values(), s),),
           [Bad(_with(x_t=lambda t: t[0, 0, 0]), "x_t"), Bad(_with(mu=lambda t: t[:, :2]), "mu"),
            Bad(_with(var=lambda t: t.float() if t.dtype == torch.float64 else t.double()), "var"),
            Bad(_with(noise_var=lambda b: b[1:]), "noise_var"), Bad(_with(noise_var=lambda b: b[None]), "noise_var"),
            Bad(_with(noise_var=torch.zeros_like), "noise_var", True),
            Bad(_with(noise_var=lambda b: b + 1), "noise_var", True), Bad(_with(noise_var=_nan), "noise_var", True),
            Bad(_with(var=_nan), "var", True), Bad(_with(mu=_inf), "mu", True),
            Bad(_with(noise=lambda _: torch.zeros(2)), "noise")],
           ("close",), batch=("x_t", "mu", "var", "noise_var")),
    OpSpec("binomial_diffusion_step", make_binomial_diffusion_step,
           lambda a, s: (reference.binomial_diffusion_step(a["p"], s),),
           [Bad(_with(p=lambda p: p.long()), "p"), Bad(_with(p=lambda p: p + 1.5), "p", True),
            Bad(_with(p=lambda p: -p), "p", True), Bad(_with(p=_nan), "p", True)],
           ("binary",), batch="p"),
    OpSpec("svgd_rbf", make_svgd_rbf,
           lambda a, s: reference.svgd_rbf(a["x"], a["score"], a["bandwidth"], a["rows"]),
           [Bad(_with(x=lambda x: x[0, 0]), "x"), Bad(_with(x=lambda x: x.long()), "x"),
            Bad(_with(score=lambda t: t[:, :, :-1]), "score"),
            Bad(_with(score=lambda t: t.float() if t.dtype == torch.float64 else t.double()), "score"),
            Bad(_with(x=lambda x: x[:, :1], score=lambda t: t[:, :1]), "x"),
            Bad(_with(bandwidth=0.0), "bandwidth"), Bad(_with(bandwidth=-1.0), "bandwidth"),
            Bad(_with(bandwidth=float("nan")), "bandwidth"),
            Bad(_with(rows=[5, 3]), "rows"), Bad(_with(rows=[0, 51]), "rows"),
            Bad(_with(rows=[-1, 3]), "rows"), Bad(_with(rows=[2]), "rows"),
            Bad(_with(score=_nan), "score", True), Bad(_with(x=_inf), "x", True)],
           ("close", "close"), batch=("x", "score"), empty_batch_ok=False, seeded=False,
           sync_free=_with(bandwidth=0.7)),
    OpSpec("pair_distance_median", make_pair_distance_median,
           lambda a, s: (reference.pair_distance_median(a["x"]),),
           [Bad(_with(x=lambda x: x[0, 0]), "x"), Bad(_with(x=lambda x: x.long()), "x"),
            Bad(_with(x=lambda x: x[:, :1]), "x"), Bad(_with(x=_inf), "x", True)],
           ("close",), batch="x", empty_batch_ok=False, seeded=False),
    OpSpec("stein_kernel_matvec", make_stein_kernel_matvec,
           lambda a, s: (reference.stein_kernel_matvec(*a.values()),),
           [Bad(_with(x=lambda x: x[0]), "x"), Bad(_with(x=lambda x: x.long()), "x"),
            Bad(_with(score=lambda t: t[:, :-1]), "score"),
            Bad(_with(weights=lambda w: w[1:]), "weights"),
            Bad(_with(weights=lambda w: w[:, 0]), "weights"),
            Bad(_with(weights=lambda w: w[:, :0]), "weights"),
            Bad(_with(weights=_other_dtype), "weights"),
            Bad(_with(x=lambda x: x[:1], score=lambda t: t[:1], weights=lambda w: w[:1]), "x"),
            Bad(_with(bandwidth=0.0), "bandwidth"), Bad(_with(bandwidth=float("inf")), "bandwidth"),
            Bad(_with(kernel="gaussian"), "kernel"), Bad(_with(beta=0.0), "beta"),
            Bad(_with(beta=-1.0), "beta"),
            Bad(_with(weights=_nan), "weights", True), Bad(_with(score=_nan), "score", True),
            Bad(_with(x=_inf), "x", True)],
           ("close",), batch=("x", "score", "weights"), empty_batch_ok=False, seeded=False),
    OpSpec("bernoulli_sigmoid", make_bernoulli_sigmoid,
           lambda a, s: (reference.bernoulli_sigmoid(a["logits"], s),),
           [Bad(_with(logits=lambda x: x.long()), "logits"),
            Bad(_with(logits=lambda x: x.half()), "logits"), Bad(_with(logits=_nan), "logits", True)],
           ("binary",), batch="logits"),
    OpSpec("philox4x32", make_philox4x32, _philox_oracle,
           [Bad(_with(counter=lambda c: c[:, :3]), "counter"),
            Bad(_with(counter=lambda c: c.double()), "counter"),
            Bad(_with(counter=lambda c: c + 2**32), "counter", values=True)],
           ("close",), batch="counter", dtypes=(torch.int64,)),
    OpSpec("bm_gibbs", make_bm_gibbs, lambda a, s: (reference.bm_gibbs(*a.values(), s),),
           _beta_bad("x") + [
               Bad(_with(J=lambda J: J[:, :3]), "J"), Bad(_with(J=lambda J: J[:3]), "J"),
               Bad(_with(b=lambda b: b[1:]), "b"), Bad(_with(J=_other_dtype), "J"),
               Bad(_with(b=_other_dtype), "b"),
               Bad(_with(J=lambda J: J.triu()), "J", True),
               Bad(_with(J=lambda J: J + torch.eye(len(J), dtype=J.dtype)), "J", True),
               Bad(_with(J=_nan), "J", True), Bad(_with(b=_inf), "b", True)],
           ("binary",), batch=("x", "beta")),
    OpSpec("bm_gibbs", make_bm_gibbs_frozen,
           lambda a, s: (reference.bm_gibbs(a["x"], a["J"], a["b"], a["n_steps"], a["beta"], s,
                                            a["sweep0"], a["frozen"]),),
           _frozen_bad("x"), ("binary",), batch=("x", "beta", "frozen"),
           after_seed=("sweep0", "frozen"), variant="frozen"),
    OpSpec("ising_gibbs", make_ising_gibbs_frozen,
           lambda a, s: (reference.ising_gibbs(a["s"], a["n_steps"], a["beta"], a["J"], a["h"], s,
                                               a["sweep0"], a["frozen"]),),
           _frozen_bad("s"), ("binary",), batch=("s", "beta", "frozen"),
           after_seed=("sweep0", "frozen"), variant="frozen"),
    OpSpec("ising_gibbs", make_ising_gibbs, lambda a, s: (reference.ising_gibbs(*a.values(), s),),
           _beta_bad("s") + [
               Bad(_with(s=lambda s: s[:, :7, :7]), "s"), Bad(_with(s=lambda s: s[:, :, :6]), "s"),
               Bad(_with(s=torch.zeros_like), "s", True),
               Bad(_with(J=float("nan")), "J"), Bad(_with(h=float("inf")), "h")],
           ("binary",), batch=("s", "beta")),
    OpSpec("reparameterize", make_reparameterize,
           lambda a, s: reference.reparameterize(a["mu"], a["log_sigma"], a["noise"], s),
           [Bad(_with(log_sigma=lambda t: t[:, :2]), "log_sigma"),
            Bad(_with(log_sigma=_other_dtype), "log_sigma"), Bad(_with(mu=lambda t: t.long()), "mu"),
            Bad(_with(noise=lambda t: torch.zeros(2)), "noise"),
            Bad(_with(mu=_nan), "mu", True), Bad(_with(log_sigma=_inf), "log_sigma", True),
            Bad(_with(log_sigma=lambda t: torch.full_like(t, -float("inf"))), "log_sigma", True),
            Bad(lambda a: {**a, "noise": torch.full_like(a["mu"], float("nan"))}, "noise", True)],
           ("close", "close"), batch=("mu", "log_sigma"), differentiable=True),
]
