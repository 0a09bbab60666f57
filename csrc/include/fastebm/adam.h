// Adam's per-element update (FEBM_HD: the CPU and CUDA drivers run the very same code) and its
// pass over one parameter, written once over a driver (cpu/elementwise.h, cuda/elementwise.cuh):
// one read and one write of p, m and v per element, where torch.optim.Adam's foreach form makes
// six passes.
#pragma once

#include <ATen/Dispatch.h>
#include <ATen/core/Tensor.h>

#include "fastebm/math.h"
#include "fastebm/optim.h"

namespace fastebm {

// As torch.optim.Adam (Kingma & Ba 2015) with L2 weight decay, in its order of operations:
//   g = grad + wd·p;  m = lerp(m, g, 1-β1);  v = v·β2 + (1-β2)·g·g;
//   p = p + (-lr/(1-β1ᵗ))·m / (√v / √(1-β2ᵗ) + eps).
// lerp(a, b, w) = a + w(b - a) for w < ½, else b - (b - a)(1 - w) (ATen's form).
template <class T>
struct AdamKernel {
  T* param;            // [n]
  const T* grad;       // [n]
  T* exp_avg;          // [n] m
  T* exp_avg_sq;       // [n] v
  T weight_decay, lerp_weight, beta2, one_minus_beta2, bias2_sqrt, eps, neg_step;
  FEBM_HD void operator()(int64_t i, int64_t, int64_t, T) const {
    const T p = param[i];
    const T g0 = grad[i];
    const T g = weight_decay != T(0) ? g0 + weight_decay * p : g0;  // as grad.add(p, wd) if wd
    const T m0 = exp_avg[i];
    const T m = lerp_weight < T(0.5) ? m0 + lerp_weight * (g - m0)
                                     : g - (g - m0) * (T(1) - lerp_weight);
    const T v = exp_avg_sq[i] * beta2 + one_minus_beta2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    param[i] = p + neg_step * m / (sqrt_(v) / bias2_sqrt + eps);
  }
};

template <class Driver>
void adam_pass(at::Tensor& param, const at::Tensor& grad, at::Tensor& exp_avg,
               at::Tensor& exp_avg_sq, const AdamRates& r) {
  AT_DISPATCH_FLOATING_TYPES(param.scalar_type(), "fastebm::adam_pass", [&] {
    const auto t = [](double x) { return static_cast<scalar_t>(x); };
    Driver::template run<Draw::kNone, scalar_t>(
        param, 1, param.numel(), 0, 0,
        AdamKernel<scalar_t>{param.data_ptr<scalar_t>(), grad.data_ptr<scalar_t>(),
                             exp_avg.data_ptr<scalar_t>(), exp_avg_sq.data_ptr<scalar_t>(),
                             t(r.weight_decay), t(1 - r.beta1), t(r.beta2), t(1 - r.beta2),
                             t(r.bias2_sqrt), t(r.eps), t(-r.lr / r.bias1)});
  });
}

template <class Driver>
inline constexpr OptimPasses kOptimPasses{adam_pass<Driver>};

}  // namespace fastebm
