// Fused block-Gibbs sweeps for Bernoulli- and Gaussian-Bernoulli RBMs, written once for every
// backend: the matrix products go through ATen (MKL / cuBLAS), the per-element halves (bias,
// sigmoid, random draw) through RbmElementwise: rbm.h's passes on a backend's element-wise driver.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <tuple>

#include "fastebm/seed.h"

namespace fastebm {

// Philox draw offsets: sweep s uses offset 2s for the hidden layer and 2s + 1 for the visible
// layer, so every element of every half-sweep has its own counter.
inline uint64_t hidden_offset(int64_t sweep) { return 2 * static_cast<uint64_t>(sweep); }
inline uint64_t visible_offset(int64_t sweep) { return 2 * static_cast<uint64_t>(sweep) + 1; }

struct RbmElementwise {
  // act [R, C] <- Bernoulli(sigmoid(scale * act + bias)) in place; bias [C]. Element
  // i = r * C + col takes its word by philox.h's tile layout.
  void (*bernoulli_sigmoid)(at::Tensor& act, const at::Tensor& bias, double scale, const Seed& seed,
                            uint64_t offset);
  // act [R, C] holds (h W^T); in place act <- v = bias + sigma * (act + z), z ~ N(0, 1), and
  // v_scaled [R, C] <- v / sigma; bias, sigma [C]. z by Box-Muller on each group's word pairs
  // (0, 1) and (2, 3), i.e. on elements i & ~16 and i | 16 of the tile layout.
  void (*gaussian_visible)(at::Tensor& act, at::Tensor& v_scaled, const at::Tensor& bias,
                           const at::Tensor& sigma, const Seed& seed, uint64_t offset);
  // act [R, C] <- weight[row] * sigmoid(act + bias[col]) in place; bias [C], weight [R]; all
  // contiguous. No draw.
  void (*weighted_sigmoid)(at::Tensor& act, const at::Tensor& bias, const at::Tensor& weight);
  // out <- Bernoulli(sigmoid(logits)), element i by its word at draw offset 0; both contiguous.
  void (*bernoulli_logits)(const at::Tensor& logits, at::Tensor& out, const Seed& seed);
};

// Every multi-step op takes the index of its first sweep (or AIS step): sweep0 + s draws at the
// offsets of sweep sweep0 + s, so k sweeps split into chunks (sweep0 = 0, k1, k1 + k2, ...) draw
// the very bits of one call. The Python wrappers chunk long runs that way, so Ctrl-C is honoured.

// k sweeps h ~ Bern(sigmoid(v W + c)), v ~ Bern(sigmoid(h W^T + b)) from v [B, V];
// W [V, H], b [V], c [H]. Returns (v_k [B, V], h_k [B, H]).
std::tuple<at::Tensor, at::Tensor> rbm_gibbs_sweeps(const at::Tensor& v, const at::Tensor& W,
                                                    const at::Tensor& b, const at::Tensor& c,
                                                    int64_t k, const Seed& seed, int64_t sweep0,
                                                    const RbmElementwise& ew);

// Bernoulli(sigmoid(logits)) of any shape: 1{u_i < σ(logits_i)}, u_i from element i's word.
at::Tensor bernoulli_sigmoid_op(const at::Tensor& logits, const Seed& seed,
                                const RbmElementwise& ew);

// k sweeps h ~ Bern(sigmoid(c + (v / sigma) W)), v ~ N(b + sigma * (W h), sigma^2);
// sigma [V] > 0. Returns (v_k [B, V], h_k [B, H]).
std::tuple<at::Tensor, at::Tensor> grbm_gibbs_sweeps(const at::Tensor& v, const at::Tensor& W,
                                                     const at::Tensor& b, const at::Tensor& c,
                                                     const at::Tensor& sigma, int64_t k,
                                                     const Seed& seed, int64_t sweep0,
                                                     const RbmElementwise& ew);

// Gradient of the negative average log-likelihood by contrastive divergence (Hinton 2002) or, with
// persistent chains, SML / PCD (Tieleman 2008): k sweeps from v_chain [N, V] give v_k, then
//   dW = v_kᵀ σ(v_k W + c) / N - v_dataᵀ σ(v_data W + c) / B      [V, H]
//   db = mean(v_k) - mean(v_data)                                 [V]
//   dc = mean σ(v_k W + c) - mean σ(v_data W + c)                 [H]
// (Rao-Blackwellised over h). Returns (dW, db, dc, v_k).
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> rbm_cd_grad_sweeps(
    const at::Tensor& v_data, const at::Tensor& v_chain, const at::Tensor& W,
    const at::Tensor& b, const at::Tensor& c, int64_t k, const Seed& seed, int64_t sweep0,
    const RbmElementwise& ew);

// Several PCD-k training steps in one call, so a small model's step is not dominated by Python:
// for each batch of batch_size rows of data [M, V] (the last may be shorter), the
// rbm_cd_grad_sweeps gradient from the chains [N, V] with that step's seed, then sgd_step on
// (W, b, c) with momentum_buffers; chains <- v_k. W, b, c, chains, buffers updated in place; the
// bits are those of the per-step calls.
void rbm_pcd_sgd_steps(const at::Tensor& W, const at::Tensor& b, const at::Tensor& c,
                       const at::Tensor& chains, at::TensorList momentum_buffers,
                       const at::Tensor& data, int64_t batch_size, at::IntArrayRef seeds,
                       int64_t k, double lr, double momentum, double weight_decay,
                       bool first_step, const RbmElementwise& ew);

// The same for a Gaussian-Bernoulli RBM (F(v) = Σ(v-b)²/2σ² - Σ softplus(c + (v/σ)W), σ = e^{log σ}),
// with u = v/σ, P = σ(u W + c) and r the CD row weights (-1/B data, +1/N chains):
//   dW = Σ r uᵀP,  db = Σ r u / σ,  dc = Σ r P,  dlogσ = Σ r (v-b)²/σ² - Σⱼ dWᵢⱼ Wᵢⱼ.
// Returns (dW, db, dc, dlog_sigma, v_k).
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> grbm_cd_grad_sweeps(
    const at::Tensor& v_data, const at::Tensor& v_chain, const at::Tensor& W,
    const at::Tensor& b, const at::Tensor& c, const at::Tensor& sigma, int64_t k, const Seed& seed,
    int64_t sweep0, const RbmElementwise& ew);

// Annealed importance sampling (Neal 2001) for a Bernoulli RBM along the path of Salakhutdinov &
// Murray (2008): p*_β(v) = exp(b_β·v) Πⱼ (1 + exp(β(cⱼ + (vW)ⱼ))), b_β = (1-β) base_b + β b.
// From v0 [N, V], step s = 1 .. K-1 adds log p*_{β_s}(v) - log p*_{β_{s-1}}(v) to log_w, then
// makes one Gibbs sweep that leaves p_{β_s} invariant (draws of step step0 + s). betas run
// 0 -> 1 for AIS, 1 -> 0 for reverse AIS; a schedule split as betas[0..m], betas[m..K-1] with
// step0 = 0, m gives the bits of one call. Returns (log_w [N] float64, v [N, V]).
std::tuple<at::Tensor, at::Tensor> rbm_ais_sweeps(const at::Tensor& v0, const at::Tensor& W,
                                                  const at::Tensor& b, const at::Tensor& c,
                                                  const at::Tensor& base_b,
                                                  at::ArrayRef<double> betas, const Seed& seed,
                                                  int64_t step0, const RbmElementwise& ew);

// AIS for a Gaussian-Bernoulli RBM: base W = 0, c = 0 (p_A = N(b, σ²)), p*_β(v) =
// exp(-Σ(v-b)²/2σ²) Πⱼ (1 + exp(β(cⱼ + ((v/σ)W)ⱼ))), each step's sweep the GRBM with βW, b, βc, σ
// (draws as rbm_ais's). Returns (log_w [N] float64, v [N, V]).
std::tuple<at::Tensor, at::Tensor> grbm_ais_sweeps(const at::Tensor& v0, const at::Tensor& W,
                                                   const at::Tensor& b, const at::Tensor& c,
                                                   const at::Tensor& sigma,
                                                   at::ArrayRef<double> betas, const Seed& seed,
                                                   int64_t step0, const RbmElementwise& ew);

}  // namespace fastebm
