#include "fastebm/rbm_sweeps.h"

#include <ATen/ops/add.h>
#include <ATen/ops/addmm.h>
#include <ATen/ops/div.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/mm.h>
#include <ATen/ops/mul.h>
#include <ATen/ops/mv.h>
#include <ATen/ops/sigmoid.h>
#include <ATen/ops/softplus.h>
#include <ATen/ops/sub.h>
#include <ATen/ops/sum.h>
#include <ATen/ops/zeros.h>

#include <c10/core/GradMode.h>

#include "fastebm/checks.h"
#include "fastebm/optim.h"

namespace fastebm {
namespace {

struct RbmShapes {
  int64_t batch, visible, hidden;
};

// Shapes, dtypes, devices and finiteness shared by both RBM kinds.
RbmShapes check_rbm_args(const at::Tensor& v, const at::Tensor& W, const at::Tensor& b,
                         const at::Tensor& c, int64_t k, int64_t first,
                         const char* first_name = "sweep0", const char* v_name = "v") {
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
  check_at_least(k, "k", 1);
  check_at_least(first, first_name, 0);
  check_finite(W, "W");
  check_finite(b, "b");
  check_finite(c, "c");
  check_finite(v, v_name);
  return s;
}

// The k-sweep loop of both RBMs on checked, contiguous parameters: h ~ Bern(σ(input W + c)), then
// visible(vk = h Wᵀ, offset) draws the visible layer in vk and returns the next sweep's input.
template <class Visible>
std::tuple<at::Tensor, at::Tensor> run_sweeps(at::Tensor input, const at::Tensor& W,
                                              const at::Tensor& c, int64_t k, int64_t seed,
                                              int64_t sweep0, const RbmElementwise& ew,
                                              const Visible& visible) {
  at::Tensor h = at::empty({input.size(0), W.size(1)}, W.options());   // [B, H]
  at::Tensor vk = at::empty({input.size(0), W.size(0)}, W.options());  // [B, V]
  if (input.size(0) == 0) return {vk, h};
  for (int64_t sweep = sweep0; sweep < sweep0 + k; ++sweep) {
    at::mm_out(h, input, W);  // [B, V] @ [V, H]
    ew.bernoulli_sigmoid(h, c, 1.0, static_cast<uint64_t>(seed), hidden_offset(sweep));
    at::mm_out(vk, h, W.t());  // [B, H] @ [H, V]
    input = visible(vk, visible_offset(sweep));
  }
  return {vk, h};
}

// Bernoulli visible units: v ~ Bern(σ(h Wᵀ + b)).
std::tuple<at::Tensor, at::Tensor> run_rbm_sweeps(const at::Tensor& v, const at::Tensor& W,
                                                  const at::Tensor& b, const at::Tensor& c,
                                                  int64_t k, int64_t seed, int64_t sweep0,
                                                  const RbmElementwise& ew) {
  return run_sweeps(v, W, c, k, seed, sweep0, ew, [&](at::Tensor& vk, uint64_t offset) {
    ew.bernoulli_sigmoid(vk, b, 1.0, static_cast<uint64_t>(seed), offset);
    return vk;
  });
}


// An AIS schedule: at least 2 inverse temperatures, each in [0, 1] (NaN refused).
void check_betas(at::ArrayRef<double> betas) {
  TORCH_CHECK_VALUE(betas.size() >= 2, "fastebm: argument 'betas' needs at least 2 values");
  for (const double beta : betas) {
    TORCH_CHECK_VALUE(beta >= 0.0 && beta <= 1.0,
                      "fastebm: argument 'betas' must lie in [0, 1], got ", beta);
  }
}

// check_rbm_args plus sigma [V], finite and > 0.
RbmShapes check_grbm_args(const at::Tensor& v, const at::Tensor& W, const at::Tensor& b,
                          const at::Tensor& c, const at::Tensor& sigma, int64_t k, int64_t first,
                          const char* first_name = "sweep0", const char* v_name = "v") {
  const RbmShapes s = check_rbm_args(v, W, b, c, k, first, first_name, v_name);
  check_float_tensor(sigma, "sigma", 1);
  check_same_kind(sigma, "sigma", W, "W");
  check_size(sigma, "sigma", 0, s.visible, "n_visible = W.size(0)");
  check_finite(sigma, "sigma");
  check_positive(sigma, "sigma");
  return s;
}

// Gaussian visible units: v ~ N(b + σ (W h), σ²); the hidden layer reads v / σ.
std::tuple<at::Tensor, at::Tensor> run_grbm_sweeps(const at::Tensor& v, const at::Tensor& W,
                                                   const at::Tensor& b, const at::Tensor& c,
                                                   const at::Tensor& sigma, int64_t k,
                                                   int64_t seed, int64_t sweep0,
                                                   const RbmElementwise& ew) {
  at::Tensor v_scaled = at::div(v, sigma).contiguous();  // [B, V]: v / sigma
  return run_sweeps(v_scaled, W, c, k, seed, sweep0, ew, [&](at::Tensor& vk, uint64_t offset) {
    ew.gaussian_visible(vk, v_scaled, b, sigma, static_cast<uint64_t>(seed), offset);
    return v_scaled;
  });
}

// Checks v_data [B, V] against W and refuses an empty data batch or chain set.
void check_cd_data(const at::Tensor& v_data, const at::Tensor& W, int64_t n_chains) {
  check_float_tensor(v_data, "v_data", 2);
  check_same_kind(v_data, "v_data", W, "W");
  check_size(v_data, "v_data", 1, W.size(0), "n_visible = W.size(0)");
  check_finite(v_data, "v_data");
  TORCH_CHECK_VALUE(v_data.size(0) > 0, "fastebm: argument 'v_data' is an empty batch");
  TORCH_CHECK_VALUE(n_chains > 0, "fastebm: argument 'v_chain' is an empty batch");
}

// [B + N]: the CD weights of the stacked rows [v_data; v_k], -1/B on data rows, +1/N on chains,
// so that Σ_rows r_row f(row) = mean_chains f - mean_data f.
at::Tensor cd_row_weights(int64_t B, int64_t N, const at::TensorOptions& options) {
  at::Tensor r = at::empty({B + N}, options);
  r.narrow(0, 0, B).fill_(-1.0 / static_cast<double>(B));
  r.narrow(0, B, N).fill_(1.0 / static_cast<double>(N));
  return r;
}

// [B + N, V]: v_data stacked over v_k.
at::Tensor stack_rows(const at::Tensor& v_data, const at::Tensor& v_k) {
  at::Tensor both = at::empty({v_data.size(0) + v_k.size(0), v_data.size(1)}, v_k.options());
  both.narrow(0, 0, v_data.size(0)).copy_(v_data);
  both.narrow(0, v_data.size(0), v_k.size(0)).copy_(v_k);
  return both;
}

// rbm_cd_grad on checked arguments, W, b, c contiguous. Each statistic is one product over
// both = [v_data; v_k] [B + N, V] with the row weights r:
//   P = sigmoid(both W + c) [B + N, H],  dW = bothᵀ (r ⊙ P),  db = bothᵀ r,  dc = Pᵀ r.
std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> run_rbm_cd_grad(
    const at::Tensor& v_data, const at::Tensor& v_chain, const at::Tensor& W,
    const at::Tensor& b, const at::Tensor& c, int64_t k, int64_t seed, int64_t sweep0,
    const RbmElementwise& ew) {
  at::Tensor v_k = std::get<0>(run_rbm_sweeps(v_chain, W, b, c, k, seed, sweep0, ew));  // [N, V]
  const at::Tensor both = stack_rows(v_data, v_k);
  const at::Tensor r = cd_row_weights(v_data.size(0), v_chain.size(0), W.options());
  at::Tensor P = at::addmm(c, both, W).sigmoid_();  // [B + N, H]
  at::Tensor db = at::mv(both.t(), r);              // [V]
  at::Tensor dc = at::mv(P.t(), r);                 // [H]
  at::Tensor dW = at::mm(both.t(), P.mul_(r.unsqueeze(1)));  // [V, H]
  return {dW, db, dc, v_k};
}
}  // namespace

std::tuple<at::Tensor, at::Tensor> rbm_gibbs_sweeps(const at::Tensor& v, const at::Tensor& W,
                                                    const at::Tensor& b, const at::Tensor& c,
                                                    int64_t k, int64_t seed, int64_t sweep0,
                                                    const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;  // sampling is not differentiable: no graph, even for parameters
  check_rbm_args(v, W, b, c, k, sweep0);
  return run_rbm_sweeps(v, W.contiguous(), b.contiguous(), c.contiguous(), k, seed, sweep0, ew);
}

at::Tensor bernoulli_sigmoid_op(const at::Tensor& logits, int64_t seed, const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;
  check_float_tensor(logits, "logits", logits.dim());
  check_finite(logits, "logits");
  const at::Tensor x = logits.contiguous();
  at::Tensor out = at::empty_like(x);
  ew.bernoulli_logits(x, out, static_cast<uint64_t>(seed));
  return out;
}

std::tuple<at::Tensor, at::Tensor> grbm_gibbs_sweeps(const at::Tensor& v, const at::Tensor& W,
                                                     const at::Tensor& b, const at::Tensor& c,
                                                     const at::Tensor& sigma, int64_t k,
                                                     int64_t seed, int64_t sweep0,
                                                     const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;
  check_grbm_args(v, W, b, c, sigma, k, sweep0);
  return run_grbm_sweeps(v, W.contiguous(), b.contiguous(), c.contiguous(), sigma.contiguous(), k,
                         seed, sweep0, ew);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> rbm_cd_grad_sweeps(
    const at::Tensor& v_data, const at::Tensor& v_chain, const at::Tensor& W,
    const at::Tensor& b, const at::Tensor& c, int64_t k, int64_t seed, int64_t sweep0,
    const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;
  const RbmShapes s = check_rbm_args(v_chain, W, b, c, k, sweep0, "sweep0", "v_chain");
  check_cd_data(v_data, W, s.batch);
  return run_rbm_cd_grad(v_data, v_chain, W.contiguous(), b.contiguous(), c.contiguous(), k, seed,
                         sweep0, ew);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> grbm_cd_grad_sweeps(
    const at::Tensor& v_data, const at::Tensor& v_chain, const at::Tensor& W,
    const at::Tensor& b, const at::Tensor& c, const at::Tensor& sigma, int64_t k, int64_t seed,
    int64_t sweep0, const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;
  const RbmShapes s = check_grbm_args(v_chain, W, b, c, sigma, k, sweep0, "sweep0", "v_chain");
  check_cd_data(v_data, W, s.batch);
  const at::Tensor W_ = W.contiguous(), b_ = b.contiguous(), c_ = c.contiguous();
  const at::Tensor sigma_ = sigma.contiguous();
  at::Tensor v_k =
      std::get<0>(run_grbm_sweeps(v_chain, W_, b_, c_, sigma_, k, seed, sweep0, ew));  // [N, V]
  const at::Tensor both = stack_rows(v_data, v_k);  // [B + N, V]
  const at::Tensor r = cd_row_weights(v_data.size(0), s.batch, W.options());
  // With u = v/σ, P = sigmoid(u W + c), D = v - b, and Σ r = 0:
  //   dW = uᵀ (r ⊙ P),  db = (uᵀ r)/σ,  dc = Pᵀ r,
  //   dlogσ = ((D²)ᵀ r)/σ² - Σⱼ dWᵢⱼ Wᵢⱼ   (the second term is Σ_rows r uᵢ (P Wᵀ)ᵢ).
  const at::Tensor u = at::div(both, sigma_);         // [B + N, V]
  at::Tensor P = at::addmm(c_, u, W_).sigmoid_();     // [B + N, H]
  at::Tensor dc = at::mv(P.t(), r);                   // [H]
  at::Tensor dW = at::mm(u.t(), P.mul_(r.unsqueeze(1)));  // [V, H]
  at::Tensor db = at::mv(u.t(), r).div_(sigma_);      // [V]
  at::Tensor dlog_sigma = at::mv(at::sub(both, b_).square_().t(), r)
                              .div_(sigma_.square())
                              .sub_(at::sum(at::mul(dW, W_), 1));  // [V]
  return {dW, db, dc, dlog_sigma, v_k};
}

void rbm_pcd_sgd_steps(const at::Tensor& W, const at::Tensor& b, const at::Tensor& c,
                       const at::Tensor& chains, at::TensorList momentum_buffers,
                       const at::Tensor& data, int64_t batch_size, at::IntArrayRef seeds,
                       int64_t k, double lr, double momentum, double weight_decay,
                       bool first_step, const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;
  check_float_tensor(data, "data", 2);
  check_at_least(batch_size, "batch_size", 1);
  const int64_t M = data.size(0), steps = (M + batch_size - 1) / batch_size;
  TORCH_CHECK_VALUE(static_cast<int64_t>(seeds.size()) == steps, "fastebm: argument 'seeds' has ",
                    seeds.size(), " entries for ", steps, " steps of ", batch_size, " rows");
  for (const auto& [t, name] : {std::pair{&W, "W"}, {&b, "b"}, {&c, "c"}, {&chains, "chains"}}) {
    TORCH_CHECK_VALUE(t->is_contiguous(), "fastebm: argument '", name,
                      "' must be contiguous (it is updated in place)");
  }
  // Every argument is checked once here, the parameters again at the end (a diverged run
  // names them); the steps run unchecked.
  const RbmShapes s = check_rbm_args(chains, W, b, c, k, 0, "sweep0", "chains");
  check_cd_data(data, W, s.batch);
  const at::Tensor params[] = {W, b, c};
  for (int64_t step = 0; step < steps; ++step) {
    const at::Tensor v = data.narrow(0, step * batch_size, std::min(batch_size, M - step * batch_size));
    auto [dW, db, dc, v_k] = run_rbm_cd_grad(v, chains, W, b, c, k, seeds[step], 0, ew);
    const at::Tensor grads[] = {dW, db, dc};
    sgd_step(params, grads, momentum_buffers, lr, momentum, weight_decay, first_step && step == 0);
    chains.copy_(v_k);
  }
  check_finite(W, "W");
  check_finite(b, "b");
  check_finite(c, "c");
}

std::tuple<at::Tensor, at::Tensor> rbm_ais_sweeps(const at::Tensor& v0, const at::Tensor& W,
                                                  const at::Tensor& b, const at::Tensor& c,
                                                  const at::Tensor& base_b,
                                                  at::ArrayRef<double> betas, int64_t seed,
                                                  int64_t step0, const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;
  const RbmShapes s = check_rbm_args(v0, W, b, c, 1, step0, "step0", "v0");
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
    ew.bernoulli_sigmoid(pre, zeros_h, beta, static_cast<uint64_t>(seed),
                         hidden_offset(draw_step));
    at::mm_out(v, pre, W_.t());  // [N, H] @ [H, V]
    ew.bernoulli_sigmoid(v, at::add(base_b, db, beta), beta, static_cast<uint64_t>(seed),
                         visible_offset(draw_step));
  }
  return {log_w, v};
}

std::tuple<at::Tensor, at::Tensor> grbm_ais_sweeps(const at::Tensor& v0, const at::Tensor& W,
                                                   const at::Tensor& b, const at::Tensor& c,
                                                   const at::Tensor& sigma,
                                                   at::ArrayRef<double> betas, int64_t seed,
                                                   int64_t step0, const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;
  const RbmShapes s = check_grbm_args(v0, W, b, c, sigma, 1, step0, "step0", "v0");
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
    ew.bernoulli_sigmoid(pre, zeros_h, beta, static_cast<uint64_t>(seed), hidden_offset(draw_step));
    at::mm_out(v, pre, W_.t()).mul_(beta);  // [N, H] @ [H, V]
    ew.gaussian_visible(v, v_scaled, b_, sigma_, static_cast<uint64_t>(seed),
                        visible_offset(draw_step));
  }
  return {log_w, v};
}

}  // namespace fastebm
