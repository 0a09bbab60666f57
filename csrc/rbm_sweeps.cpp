// The RBM Gibbs-sweep and AIS ops of both kinds (rbm_gibbs, grbm_gibbs, bernoulli_sigmoid,
// rbm_ais, grbm_ais) and the checks and sweep loops rbm_layers.h shares with rbm_cd_grad.cpp.
#include "rbm_layers.h"

#include <ATen/ops/add.h>
#include <ATen/ops/addmm.h>
#include <ATen/ops/div.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/mm.h>
#include <ATen/ops/mul.h>
#include <ATen/ops/mv.h>
#include <ATen/ops/softplus.h>
#include <ATen/ops/sub.h>
#include <ATen/ops/sum.h>
#include <ATen/ops/zeros.h>

#include <c10/core/GradMode.h>

#include "fastebm/checks.h"

namespace fastebm {
namespace {


// The k-sweep loop of both RBMs on checked, contiguous parameters into the buffers vk [B, V] and
// h [B, H] (vk may be input itself): h ~ Bern(σ(input W + c)), then visible(vk = h Wᵀ, offset)
// draws the visible layer in vk and returns the next sweep's input.
template <class Visible>
void run_sweeps(at::Tensor input, at::Tensor& vk, at::Tensor& h, const at::Tensor& W,
                const at::Tensor& c, int64_t k, const Seed& seed, int64_t sweep0,
                const RbmElementwise& ew, const Visible& visible) {
  if (input.size(0) == 0) return;
  for (int64_t sweep = sweep0; sweep < sweep0 + k; ++sweep) {
    at::mm_out(h, input, W);  // [B, V] @ [V, H]
    ew.bernoulli_sigmoid(h, c, 1.0, seed, hidden_offset(sweep));
    at::mm_out(vk, h, W.t());  // [B, H] @ [H, V]
    input = visible(vk, visible_offset(sweep));
  }
}

// [B, V] and [B, H] sweep outputs like v's rows and W's columns.
std::tuple<at::Tensor, at::Tensor> sweep_buffers(const at::Tensor& v, const at::Tensor& W) {
  return {at::empty({v.size(0), W.size(0)}, W.options()), at::empty({v.size(0), W.size(1)}, W.options())};
}

// An AIS schedule: at least 2 inverse temperatures, each in [0, 1] (NaN refused).
void check_betas(at::ArrayRef<double> betas) {
  TORCH_CHECK_VALUE(betas.size() >= 2, "fastebm: argument 'betas' needs at least 2 values");
  for (const double beta : betas) {
    TORCH_CHECK_VALUE(beta >= 0.0 && beta <= 1.0,
                      "fastebm: argument 'betas' must lie in [0, 1], got ", beta);
  }
}

}  // namespace

// Shapes, dtypes, devices and finiteness shared by both RBM kinds.
RbmShapes check_rbm_args(const at::Tensor& v, const at::Tensor& W, const at::Tensor& b,
                         const at::Tensor& c, int64_t first, const char* first_name,
                         const char* v_name) {
  check_float_tensor(W, "W", 2);
  check_float_tensor(v, v_name, 2);
  check_float_tensor(b, "b", 1);
  check_float_tensor(c, "c", 1);
  check_same_kind(v, v_name, W, "W");
  check_same_kind(b, "b", W, "W");
  check_same_kind(c, "c", W, "W");
  const RbmShapes s{v.size(0), W.size(0), W.size(1)};
  check_size(v, v_name, 1, s.visible, "n_visible = W.size(0)");
  check_size(b, "b", 0, s.visible, "n_visible = W.size(0)");
  check_size(c, "c", 0, s.hidden, "n_hidden = W.size(1)");
  check_at_least(first, first_name, 0);
  check_finite(W, "W");
  check_finite(b, "b");
  check_finite(c, "c");
  check_finite(v, v_name);
  return s;
}

// check_rbm_args plus sigma [V], finite and > 0.
RbmShapes check_grbm_args(const at::Tensor& v, const at::Tensor& W, const at::Tensor& b,
                          const at::Tensor& c, const at::Tensor& sigma, int64_t first,
                          const char* first_name, const char* v_name) {
  const RbmShapes s = check_rbm_args(v, W, b, c, first, first_name, v_name);
  check_float_tensor(sigma, "sigma", 1);
  check_same_kind(sigma, "sigma", W, "W");
  check_size(sigma, "sigma", 0, s.visible, "n_visible = W.size(0)");
  check_finite(sigma, "sigma");
  check_positive(sigma, "sigma");
  return s;
}

// Bernoulli visible units: v ~ Bern(σ(h Wᵀ + b)), from input [B, V] into vk [B, V] and h [B, H].
void run_rbm_sweeps(const at::Tensor& input, at::Tensor& vk, at::Tensor& h, const at::Tensor& W,
                    const at::Tensor& b, const at::Tensor& c, int64_t k, const Seed& seed,
                    int64_t sweep0, const RbmElementwise& ew) {
  run_sweeps(input, vk, h, W, c, k, seed, sweep0, ew, [&](at::Tensor& v, uint64_t offset) {
    ew.bernoulli_sigmoid(v, b, 1.0, seed, offset);
    return v;
  });
}

// Gaussian visible units: v ~ N(b + σ (W h), σ²) into vk [B, V]; the hidden layer reads v / σ.
void run_grbm_sweeps(const at::Tensor& v, at::Tensor& vk, at::Tensor& h, const at::Tensor& W,
                     const at::Tensor& b, const at::Tensor& c, const at::Tensor& sigma, int64_t k,
                     const Seed& seed, int64_t sweep0, const RbmElementwise& ew) {
  at::Tensor v_scaled = at::div(v, sigma).contiguous();  // [B, V]: v / sigma
  run_sweeps(v_scaled, vk, h, W, c, k, seed, sweep0, ew, [&](at::Tensor& out, uint64_t offset) {
    ew.gaussian_visible(out, v_scaled, b, sigma, seed, offset);
    return v_scaled;
  });
}


std::tuple<at::Tensor, at::Tensor> rbm_gibbs_sweeps(const at::Tensor& v, const at::Tensor& W,
                                                    const at::Tensor& b, const at::Tensor& c,
                                                    int64_t k, const Seed& seed, int64_t sweep0,
                                                    const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;  // sampling is not differentiable: no graph, even for parameters
  check_rbm_args(v, W, b, c, sweep0);
  check_at_least(k, "n_steps", 1);
  auto [vk, h] = sweep_buffers(v, W);
  run_rbm_sweeps(v, vk, h, W.contiguous(), b.contiguous(), c.contiguous(), k, seed, sweep0, ew);
  return {vk, h};
}

at::Tensor bernoulli_sigmoid_op(const at::Tensor& logits, const Seed& seed,
                                const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;
  check_float_tensor(logits, "logits", logits.dim());
  check_finite(logits, "logits");
  const at::Tensor x = logits.contiguous();
  at::Tensor out = at::empty_like(x);
  ew.bernoulli_logits(x, out, seed);
  return out;
}

std::tuple<at::Tensor, at::Tensor> grbm_gibbs_sweeps(const at::Tensor& v, const at::Tensor& W,
                                                     const at::Tensor& b, const at::Tensor& c,
                                                     const at::Tensor& sigma, int64_t k,
                                                     const Seed& seed, int64_t sweep0,
                                                     const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;
  check_grbm_args(v, W, b, c, sigma, sweep0);
  check_at_least(k, "n_steps", 1);
  auto [vk, h] = sweep_buffers(v, W);
  run_grbm_sweeps(v, vk, h, W.contiguous(), b.contiguous(), c.contiguous(), sigma.contiguous(), k,
                  seed, sweep0, ew);
  check_step_finite(vk, {{&v, "v"}, {&W, "W"}, {&b, "b"}, {&sigma, "sigma"}});
  return {vk, h};
}

std::tuple<at::Tensor, at::Tensor> rbm_ais_sweeps(const at::Tensor& v0, const at::Tensor& W,
                                                  const at::Tensor& b, const at::Tensor& c,
                                                  const at::Tensor& base_b,
                                                  at::ArrayRef<double> betas, const Seed& seed,
                                                  int64_t step0, const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;
  const RbmShapes s = check_rbm_args(v0, W, b, c, step0, "step0", "v0");
  check_float_tensor(base_b, "base_b", 1);
  check_same_kind(base_b, "base_b", W, "W");
  check_size(base_b, "base_b", 0, s.visible, "n_visible = W.size(0)");
  check_finite(base_b, "base_b");
  check_betas(betas);
  const at::Tensor W_ = W.contiguous(), c_ = c.contiguous();
  const at::Tensor db = at::sub(b, base_b);                        // [V]: b_β = base_b + β db
  const at::Tensor zeros_h = at::zeros({s.hidden}, W.options());   // [H]
  at::Tensor log_w = at::zeros({s.batch}, W.options().dtype(at::kDouble));  // [N]
  at::Tensor v = v0.contiguous().clone();                           // [N, V]
  if (s.batch == 0) return {log_w, v};
  const int64_t steps = static_cast<int64_t>(betas.size());
  for (int64_t step = 1; step < steps; ++step) {
    const double beta = betas[step], beta_prev = betas[step - 1];
    const int64_t draw_step = step0 + step;
    at::Tensor pre = at::addmm(c_, v, W_);  // [N, H]: vW + c
    // [N]: (b_β - b_βprev)·v + Σⱼ softplus(β preⱼ) - softplus(β_prev preⱼ), added to log_w in one
    // step so that a schedule run in chunks sums the very same terms.
    log_w.add_(at::mv(v, at::mul(db, beta - beta_prev))
                   .add_(at::sum(at::softplus(at::mul(pre, beta)), 1))
                   .sub_(at::sum(at::softplus(at::mul(pre, beta_prev)), 1)));
    ew.bernoulli_sigmoid(pre, zeros_h, beta, seed,
                         hidden_offset(draw_step));
    at::mm_out(v, pre, W_.t());  // [N, H] @ [H, V]
    ew.bernoulli_sigmoid(v, at::add(base_b, db, beta), beta, seed,
                         visible_offset(draw_step));
  }
  check_step_finite(log_w, {{&v0, "v0"}, {&W, "W"}, {&b, "b"}, {&c, "c"}, {&base_b, "base_b"}});
  return {log_w, v};
}

std::tuple<at::Tensor, at::Tensor> grbm_ais_sweeps(const at::Tensor& v0, const at::Tensor& W,
                                                   const at::Tensor& b, const at::Tensor& c,
                                                   const at::Tensor& sigma,
                                                   at::ArrayRef<double> betas, const Seed& seed,
                                                   int64_t step0, const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;
  const RbmShapes s = check_grbm_args(v0, W, b, c, sigma, step0, "step0", "v0");
  check_betas(betas);
  const at::Tensor W_ = W.contiguous(), b_ = b.contiguous(), c_ = c.contiguous();
  const at::Tensor sigma_ = sigma.contiguous();
  const at::Tensor zeros_h = at::zeros({s.hidden}, W.options());  // [H]
  at::Tensor log_w = at::zeros({s.batch}, W.options().dtype(at::kDouble));  // [N]
  at::Tensor v = v0.contiguous().clone();                          // [N, V]
  if (s.batch == 0) return {log_w, v};
  at::Tensor v_scaled = at::div(v, sigma_).contiguous();           // [N, V]: v / σ
  for (int64_t step = 1; step < static_cast<int64_t>(betas.size()); ++step) {
    const double beta = betas[step], beta_prev = betas[step - 1];
    const int64_t draw_step = step0 + step;
    at::Tensor pre = at::addmm(c_, v_scaled, W_);  // [N, H]: c + (v/σ) W
    // [N]: Σⱼ softplus(β preⱼ) - softplus(β_prev preⱼ) (the quadratic term does not anneal).
    log_w.add_(at::sum(at::softplus(at::mul(pre, beta)), 1)
                   .sub_(at::sum(at::softplus(at::mul(pre, beta_prev)), 1)));
    // The GRBM with βW, b, βc, σ: h ~ Bern(σ(β pre)), v ~ N(b + σ β (W h), σ²).
    ew.bernoulli_sigmoid(pre, zeros_h, beta, seed, hidden_offset(draw_step));
    at::mm_out(v, pre, W_.t()).mul_(beta);  // [N, H] @ [H, V]
    ew.gaussian_visible(v, v_scaled, b_, sigma_, seed,
                        visible_offset(draw_step));
  }
  check_step_finite(log_w, {{&v0, "v0"}, {&W, "W"}, {&b, "b"}, {&c, "c"}, {&sigma, "sigma"}});
  check_step_finite(v, {{&v0, "v0"}, {&W, "W"}, {&b, "b"}, {&sigma, "sigma"}});
  return {log_w, v};
}

}  // namespace fastebm
