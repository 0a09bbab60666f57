// What the RBM op files (rbm_sweeps.cpp: Gibbs and AIS; rbm_cd_grad.cpp: CD gradients and fused
// PCD steps) share: the argument checks of both RBM kinds and their k-sweep loops.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "fastebm/rbm_sweeps.h"

namespace fastebm {

struct RbmShapes {
  int64_t batch, visible, hidden;
};

// v [B, V], W [V, H], b [V], c [H]: float, one device and dtype, finite; first >= 0
// (named first_name; v named v_name in errors).
RbmShapes check_rbm_args(const at::Tensor& v, const at::Tensor& W, const at::Tensor& b,
                         const at::Tensor& c, int64_t first,
                         const char* first_name = "sweep0", const char* v_name = "v");

// check_rbm_args plus sigma [V], finite and > 0.
RbmShapes check_grbm_args(const at::Tensor& v, const at::Tensor& W, const at::Tensor& b,
                          const at::Tensor& c, const at::Tensor& sigma, int64_t first,
                          const char* first_name = "sweep0", const char* v_name = "v");

// k Bernoulli-RBM sweeps from input [B, V] on checked, contiguous parameters into vk [B, V] (which
// may be input itself) and h [B, H]: h ~ Bern(σ(v W + c)), v ~ Bern(σ(h Wᵀ + b)).
void run_rbm_sweeps(const at::Tensor& input, at::Tensor& vk, at::Tensor& h, const at::Tensor& W,
                    const at::Tensor& b, const at::Tensor& c, int64_t k, const Seed& seed,
                    int64_t sweep0, const RbmElementwise& ew);

// k GRBM sweeps from v [B, V] into vk [B, V] and h [B, H]: h ~ Bern(σ(c + (v/σ) W)),
// v ~ N(b + σ (W h), σ²).
void run_grbm_sweeps(const at::Tensor& v, at::Tensor& vk, at::Tensor& h, const at::Tensor& W,
                     const at::Tensor& b, const at::Tensor& c, const at::Tensor& sigma, int64_t k,
                     const Seed& seed, int64_t sweep0, const RbmElementwise& ew);

}  // namespace fastebm
