#include "fastebm/rbm_sweeps.h"

#include <ATen/ops/div.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/mm.h>

#include "fastebm/checks.h"

namespace fastebm {
namespace {

struct RbmShapes {
  int64_t batch, visible, hidden;
};

// Shapes, dtypes, devices and finiteness shared by both RBM kinds.
RbmShapes check_rbm_args(const at::Tensor& v, const at::Tensor& W, const at::Tensor& b,
                         const at::Tensor& c, int64_t k) {
  check_float_tensor(W, "W", 2);
  check_float_tensor(v, "v", 2);
  check_float_tensor(b, "b", 1);
  check_float_tensor(c, "c", 1);
  check_same_kind(v, "v", W, "W");
  check_same_kind(b, "b", W, "W");
  check_same_kind(c, "c", W, "W");
  const RbmShapes s{v.size(0), W.size(0), W.size(1)};
  check_size(v, "v", 1, s.visible, "n_visible = W.size(0)");
  check_size(b, "b", 0, s.visible, "n_visible = W.size(0)");
  check_size(c, "c", 0, s.hidden, "n_hidden = W.size(1)");
  check_at_least(k, "k", 1);
  check_finite(W, "W");
  check_finite(b, "b");
  check_finite(c, "c");
  check_finite(v, "v");
  return s;
}

}  // namespace

std::tuple<at::Tensor, at::Tensor> rbm_gibbs_sweeps(const at::Tensor& v, const at::Tensor& W,
                                                    const at::Tensor& b, const at::Tensor& c,
                                                    int64_t k, int64_t seed,
                                                    const RbmElementwise& ew) {
  const RbmShapes s = check_rbm_args(v, W, b, c, k);
  const at::Tensor W_ = W.contiguous(), b_ = b.contiguous(), c_ = c.contiguous();
  at::Tensor h = at::empty({s.batch, s.hidden}, W.options());   // [B, H]
  at::Tensor vk = at::empty({s.batch, s.visible}, W.options());  // [B, V]
  at::Tensor v_in = v;
  for (int64_t sweep = 0; sweep < k; ++sweep) {
    at::mm_out(h, v_in, W_);  // [B, V] @ [V, H]
    ew.bernoulli_sigmoid(h, c_, static_cast<uint64_t>(seed), hidden_offset(sweep));
    at::mm_out(vk, h, W_.t());  // [B, H] @ [H, V]
    ew.bernoulli_sigmoid(vk, b_, static_cast<uint64_t>(seed), visible_offset(sweep));
    v_in = vk;
  }
  return {vk, h};
}

std::tuple<at::Tensor, at::Tensor> grbm_gibbs_sweeps(const at::Tensor& v, const at::Tensor& W,
                                                     const at::Tensor& b, const at::Tensor& c,
                                                     const at::Tensor& sigma, int64_t k,
                                                     int64_t seed, const RbmElementwise& ew) {
  const RbmShapes s = check_rbm_args(v, W, b, c, k);
  check_float_tensor(sigma, "sigma", 1);
  check_same_kind(sigma, "sigma", W, "W");
  check_size(sigma, "sigma", 0, s.visible, "n_visible = W.size(0)");
  check_finite(sigma, "sigma");
  check_positive(sigma, "sigma");
  const at::Tensor W_ = W.contiguous(), b_ = b.contiguous(), c_ = c.contiguous();
  const at::Tensor sigma_ = sigma.contiguous();
  at::Tensor v_scaled = at::div(v, sigma_).contiguous();               // [B, V]: v / sigma
  at::Tensor h = at::empty({s.batch, s.hidden}, W.options());   // [B, H]
  at::Tensor vk = at::empty({s.batch, s.visible}, W.options());  // [B, V]
  for (int64_t sweep = 0; sweep < k; ++sweep) {
    at::mm_out(h, v_scaled, W_);  // [B, V] @ [V, H]
    ew.bernoulli_sigmoid(h, c_, static_cast<uint64_t>(seed), hidden_offset(sweep));
    at::mm_out(vk, h, W_.t());  // [B, H] @ [H, V]
    ew.gaussian_visible(vk, v_scaled, b_, sigma_, static_cast<uint64_t>(seed),
                        visible_offset(sweep));
  }
  return {vk, h};
}

}  // namespace fastebm
