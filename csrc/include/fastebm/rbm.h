// The RBM family's per-element kernels (FEBM_HD: the CPU and CUDA drivers run the very same
// code) and its passes, written once over a driver (cpu/elementwise.h, cuda/elementwise.cuh).
#pragma once

#include <ATen/Dispatch.h>
#include <ATen/core/Tensor.h>

#include "fastebm/draws.h"
#include "fastebm/rbm_sweeps.h"

namespace fastebm {

// act[i] <- 1{u < σ(scale · act[i] + bias[col])}: a Bernoulli layer from its pre-activation.
template <class T>
struct BernoulliSigmoidKernel {
  T* act;         // [R, C]
  const T* bias;  // [C]
  T scale;
  FEBM_HD void operator()(int64_t i, int64_t, int64_t col, T u) const {
    act[i] = bernoulli_sigmoid(u, scale * act[i] + bias[col]);
  }
};

// act[i] <- v = bias[col] + sigma[col] · (act[i] + z), v_scaled[i] <- v / sigma[col]: the
// Gaussian visible layer of a GRBM from act = h Wᵀ.
template <class T>
struct GaussianVisibleKernel {
  T* act;          // [R, C]
  T* v_scaled;     // [R, C]
  const T* bias;   // [C]
  const T* sigma;  // [C]
  FEBM_HD void operator()(int64_t i, int64_t, int64_t col, T z) const {
    const T v = bias[col] + sigma[col] * (act[i] + z);
    act[i] = v;
    v_scaled[i] = v / sigma[col];
  }
};

// act[i] <- weight[row] · σ(act[i] + bias[col]): the CD statistics' weighted hidden means.
template <class T>
struct WeightedSigmoidKernel {
  T* act;            // [R, C]
  const T* bias;     // [C]
  const T* weight;   // [R]
  FEBM_HD void operator()(int64_t i, int64_t row, int64_t col, T) const {
    act[i] = weight[row] * sigmoid(act[i] + bias[col]);
  }
};

// out[i] <- 1{u < σ(logits[i])}: the bernoulli_sigmoid op.
template <class T>
struct BernoulliLogitsKernel {
  const T* logits;
  T* out;
  FEBM_HD void operator()(int64_t i, int64_t, int64_t, T u) const {
    out[i] = bernoulli_sigmoid(u, logits[i]);
  }
};

template <class Driver>
void bernoulli_sigmoid_pass(at::Tensor& act, const at::Tensor& bias, double scale, const Seed& seed,
                            uint64_t offset) {
  AT_DISPATCH_FLOATING_TYPES(act.scalar_type(), "fastebm::bernoulli_sigmoid_pass", [&] {
    Driver::template run<Draw::kUniform, scalar_t>(
        act, act.size(0), act.size(1), seed, offset,
        BernoulliSigmoidKernel<scalar_t>{act.data_ptr<scalar_t>(), bias.data_ptr<scalar_t>(),
                                         static_cast<scalar_t>(scale)});
  });
}

template <class Driver>
void gaussian_visible_pass(at::Tensor& act, at::Tensor& v_scaled, const at::Tensor& bias,
                           const at::Tensor& sigma, const Seed& seed, uint64_t offset) {
  AT_DISPATCH_FLOATING_TYPES(act.scalar_type(), "fastebm::gaussian_visible_pass", [&] {
    Driver::template run<Draw::kNormal, scalar_t>(
        act, act.size(0), act.size(1), seed, offset,
        GaussianVisibleKernel<scalar_t>{act.data_ptr<scalar_t>(), v_scaled.data_ptr<scalar_t>(),
                                        bias.data_ptr<scalar_t>(), sigma.data_ptr<scalar_t>()});
  });
}

template <class Driver>
void weighted_sigmoid_pass(at::Tensor& act, const at::Tensor& bias, const at::Tensor& weight) {
  AT_DISPATCH_FLOATING_TYPES(act.scalar_type(), "fastebm::weighted_sigmoid_pass", [&] {
    Driver::template run<Draw::kNone, scalar_t>(
        act, act.size(0), act.size(1), 0, 0,
        WeightedSigmoidKernel<scalar_t>{act.data_ptr<scalar_t>(), bias.data_ptr<scalar_t>(),
                                        weight.data_ptr<scalar_t>()});
  });
}

// logits: contiguous, any shape; out: empty_like(logits).
template <class Driver>
void bernoulli_logits_pass(const at::Tensor& logits, at::Tensor& out, const Seed& seed) {
  AT_DISPATCH_FLOATING_TYPES(logits.scalar_type(), "fastebm::bernoulli_logits_pass", [&] {
    Driver::template run<Draw::kUniform, scalar_t>(
        logits, 1, logits.numel(), seed, 0,
        BernoulliLogitsKernel<scalar_t>{logits.data_ptr<scalar_t>(), out.data_ptr<scalar_t>()});
  });
}

template <class Driver>
inline constexpr RbmElementwise kRbmElementwise{bernoulli_sigmoid_pass<Driver>,
                                                gaussian_visible_pass<Driver>,
                                                weighted_sigmoid_pass<Driver>,
                                                bernoulli_logits_pass<Driver>};

}  // namespace fastebm
