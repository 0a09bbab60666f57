// Fused block-Gibbs sweeps for Bernoulli- and Gaussian-Bernoulli RBMs, written once for every
// backend: the matrix products go through ATen (MKL / cuBLAS), the per-element halves (bias,
// sigmoid, random draw) through a backend's RbmElementwise (cpu/rbm_cpu.cpp, cuda/rbm_cuda.cu).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <tuple>

namespace fastebm {

// Philox draw offsets: sweep s uses offset 2s for the hidden layer and 2s + 1 for the visible
// layer, so every element of every half-sweep has its own counter.
inline uint64_t hidden_offset(int64_t sweep) { return 2 * static_cast<uint64_t>(sweep); }
inline uint64_t visible_offset(int64_t sweep) { return 2 * static_cast<uint64_t>(sweep) + 1; }

struct RbmElementwise {
  // act [R, C] <- Bernoulli(sigmoid(act + bias)) in place; bias [C]. Element i = r * C + col
  // uses word i % 4 of Philox group i / 4.
  void (*bernoulli_sigmoid)(at::Tensor& act, const at::Tensor& bias, uint64_t seed,
                            uint64_t offset);
  // act [R, C] holds (h W^T); in place act <- v = bias + sigma * (act + z), z ~ N(0, 1), and
  // v_scaled [R, C] <- v / sigma; bias, sigma [C]. Group g gives z for elements 4g .. 4g+3 by
  // Box-Muller on its word pairs (0, 1) and (2, 3).
  void (*gaussian_visible)(at::Tensor& act, at::Tensor& v_scaled, const at::Tensor& bias,
                           const at::Tensor& sigma, uint64_t seed, uint64_t offset);
};

// k sweeps h ~ Bern(sigmoid(v W + c)), v ~ Bern(sigmoid(h W^T + b)) from v [B, V];
// W [V, H], b [V], c [H]. Returns (v_k [B, V], h_k [B, H]).
std::tuple<at::Tensor, at::Tensor> rbm_gibbs_sweeps(const at::Tensor& v, const at::Tensor& W,
                                                    const at::Tensor& b, const at::Tensor& c,
                                                    int64_t k, int64_t seed,
                                                    const RbmElementwise& ew);

// k sweeps h ~ Bern(sigmoid(c + (v / sigma) W)), v ~ N(b + sigma * (W h), sigma^2);
// sigma [V] > 0. Returns (v_k [B, V], h_k [B, H]).
std::tuple<at::Tensor, at::Tensor> grbm_gibbs_sweeps(const at::Tensor& v, const at::Tensor& W,
                                                     const at::Tensor& b, const at::Tensor& c,
                                                     const at::Tensor& sigma, int64_t k,
                                                     int64_t seed, const RbmElementwise& ew);

}  // namespace fastebm
