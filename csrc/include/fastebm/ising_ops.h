// The Boltzmann-machine and Ising family's ops (bm_gibbs, ising_gibbs), written once for every
// backend over IsingPasses: ising.h's kernels on a backend's driver (cpu/ising_cpu.cpp,
// cuda/ising_cuda.cu).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>

#include "fastebm/hd.h"
#include "fastebm/seed.h"

namespace fastebm {

// Sites per block of a Boltzmann-machine sweep: inside a block the fields move site by site in
// the kernel, past it by one GEMM per block (ising.cpp).
constexpr int64_t kBmBlock = 64;

// The Philox group whose word (site % 4) is the uniform of chain r's site at a sweep: in
// philox.h's tile layout it is element ((r / 16) · n4 + site) · 16 + r % 16, n4 = n rounded up
// to a multiple of 4, so sites 4m .. 4m+3 of a chain share one group.
FEBM_HD uint64_t bm_draw_group(int64_t chain, int64_t site, int64_t n) {
  const int64_t quads = (n + 3) / 4;
  return static_cast<uint64_t>(((chain / 16) * quads + site / 4) * 16 + chain % 16);
}

struct IsingPasses {
  // Sites [k0, k1) of one Boltzmann-machine sweep for every chain (ising.h BmBlockKernel):
  // x, u [B, n] in place, delta [B, k1 - k0] out; J [n, n], beta [B]; held [B, n] (x's dtype,
  // non-zero: the site keeps its value) or undefined; all contiguous.
  void (*bm_block)(at::Tensor& x, at::Tensor& u, at::Tensor& delta, const at::Tensor& J,
                   const at::Tensor& beta, const at::Tensor& held, int64_t k0, int64_t k1,
                   const Seed& seed, uint64_t offset);
  // One colour's checkerboard half-sweep (ising.h IsingHalfSweepKernel) on the padded planes
  // own, other [B·L, L/2 + 2] with prob [B, 5] and own's held plane (or undefined), then own's
  // wrap columns.
  void (*ising_half_sweep)(at::Tensor& own, const at::Tensor& other, const at::Tensor& prob,
                           const at::Tensor& held, int64_t L, int64_t colour, const Seed& seed,
                           uint64_t offset);
  // The lattice [B·L, L] into the planes [B·L, L/2 + 2] (wrap columns included), or
  // (to_planes false) the planes back into the lattice; all contiguous.
  void (*ising_layout)(at::Tensor& lattice, at::Tensor& plane0, at::Tensor& plane1, int64_t L,
                       bool to_planes);
};

// Sequential-scan heat-bath sweeps of a fully visible Boltzmann machine on {0,1}ⁿ,
// E(x) = -½ xᵀJx - b·x (J symmetric, zero diagonal), p_β(x) ∝ exp(-β_r E(x)) for chain r:
// sweep s visits sites 0 .. n-1 in order, x_i ~ Bern(σ(β_r (b_i + Σⱼ J_ij x_j))), drawing at
// Philox offset s (bm_draw_group). x [B, n] in {0, 1}; J [n, n]; b [n]; beta [] or [B], >= 0.
// Sweeps sweep0 .. sweep0 + n_steps - 1. frozen [B, n] bool: those sites keep their values (the
// chain samples the others from their conditional given them). Returns the new x [B, n].
at::Tensor bm_gibbs_op(const at::Tensor& x, const at::Tensor& J, const at::Tensor& b,
                       int64_t n_steps, const at::Tensor& beta, const Seed& seed, int64_t sweep0,
                       const std::optional<at::Tensor>& frozen, const IsingPasses& passes);

// Checkerboard heat-bath sweeps of the periodic 2-D Ising model, spins s [B, L, L] in {-1, +1}
// (L even), E(s) = -J Σ_<ij> sᵢsⱼ - h Σᵢ sᵢ, p_β(s) ∝ exp(-β_b E(s)) for replica b: each sweep
// updates the sites with i + j even, then those with i + j odd, each to +1 with probability
// σ(2β_b (J Σ_neighbours + h)); beta [] or [B], >= 0. frozen [B, L, L] bool: those spins are
// held. Returns the new s [B, L, L].
at::Tensor ising_gibbs_op(const at::Tensor& s, int64_t n_steps, const at::Tensor& beta,
                          double J, double h, const Seed& seed, int64_t sweep0,
                          const std::optional<at::Tensor>& frozen, const IsingPasses& passes);

}  // namespace fastebm
