// The RBM CD / PCD gradient ops (rbm_cd_grad, grbm_cd_grad) and several fused PCD + SGD steps
// (rbm_pcd_sgd_), on the sweeps of rbm_layers.h.
#include "rbm_layers.h"

#include <ATen/ops/div.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/mm.h>
#include <ATen/ops/mul.h>
#include <ATen/ops/mv.h>
#include <ATen/ops/sub.h>
#include <ATen/ops/sum.h>

#include <c10/core/GradMode.h>

#include <algorithm>
#include <utility>

#include "fastebm/checks.h"
#include "fastebm/optim.h"

namespace fastebm {
namespace {

// Checks v_data [B, V] against W and refuses an empty data batch or chain set.
// The data rows v_data [B, V] (named `name`: 'v_data', or the fused step's 'data') beside
// n_chains chains (named `chain_name`).
void check_cd_data(const at::Tensor& v_data, const at::Tensor& W, int64_t n_chains,
                   const char* name = "v_data", const char* chain_name = "v_chain") {
  check_float_tensor(v_data, name, 2);
  check_same_kind(v_data, name, W, "W");
  check_size(v_data, name, 1, W.size(0), "n_visible = W.size(0)");
  check_finite(v_data, name);
  TORCH_CHECK_VALUE(v_data.size(0) > 0, "fastebm: argument '", name, "' is an empty batch");
  TORCH_CHECK_VALUE(n_chains > 0, "fastebm: argument '", chain_name, "' is an empty batch");
}

// The rows of the CD statistics, rows = [v_k; v_data] [N + B, V], with their weights r [N + B]:
// +1/N on the chains, -1/B on the data, so that Σ_rows r_row f(row) = mean_chains f - mean_data
// f. The sweeps write v_k straight into the chains' rows; batches of up to max_data rows reuse
// the buffers.
class CdRows {
 public:
  CdRows(int64_t n_chains, int64_t max_data, const at::Tensor& W)
      : rows_(at::empty({n_chains + max_data, W.size(0)}, W.options())),
        r_(at::empty({n_chains + max_data}, W.options())),
        n_chains_(n_chains) {
    r_.narrow(0, 0, n_chains).fill_(1.0 / static_cast<double>(n_chains));
  }

  at::Tensor chains() const { return rows_.narrow(0, 0, n_chains_); }  // [N, V]

  // Copies v_data [B, V] under the chains; returns (rows [N + B, V], r [N + B]).
  std::pair<at::Tensor, at::Tensor> with_data(const at::Tensor& v_data) {
    const int64_t B = v_data.size(0);
    rows_.narrow(0, n_chains_, B).copy_(v_data);
    if (B != n_data_) {
      r_.narrow(0, n_chains_, B).fill_(-1.0 / static_cast<double>(B));
      n_data_ = B;
    }
    return {rows_.narrow(0, 0, n_chains_ + B), r_.narrow(0, 0, n_chains_ + B)};
  }

 private:
  at::Tensor rows_, r_;
  int64_t n_chains_, n_data_ = 0;
};

// One CD gradient's buffers: the rows, the sweep's hidden layer h [N, H], the statistics'
// P [N + B, H] and the gradient (dW [V, H], db [V], dc [H]).
struct CdBuffers {
  CdBuffers(int64_t n_chains, int64_t max_data, const at::Tensor& W)
      : rows(n_chains, max_data, W),
        h(at::empty({n_chains, W.size(1)}, W.options())),
        P(at::empty({n_chains + max_data, W.size(1)}, W.options())),
        dW(at::empty(W.sizes(), W.options())),
        db(at::empty({W.size(0)}, W.options())),
        dc(at::empty({W.size(1)}, W.options())) {}
  CdRows rows;
  at::Tensor h, P, dW, db, dc;
};

// rbm_cd_grad on checked arguments, W, b, c contiguous: k sweeps from input [N, V] (which may be
// buf.rows.chains() itself) leave v_k in buf.rows.chains(), then each statistic is one product
// over rows = [v_k; v_data] with the row weights r:
//   P = r ⊙ sigmoid(rows W + c) [N + B, H],  dW = rowsᵀ P,  db = rowsᵀ r,  dc = Σ_rows P.
void run_rbm_cd_grad(const at::Tensor& v_data, const at::Tensor& input, const at::Tensor& W,
                     const at::Tensor& b, const at::Tensor& c, int64_t k, const Seed& seed,
                     int64_t sweep0, const RbmElementwise& ew, CdBuffers& buf) {
  at::Tensor v_k = buf.rows.chains();
  run_rbm_sweeps(input, v_k, buf.h, W, b, c, k, seed, sweep0, ew);
  const auto [rows, r] = buf.rows.with_data(v_data);
  at::Tensor P = buf.P.narrow(0, 0, rows.size(0));
  ew.weighted_sigmoid(at::mm_out(P, rows, W), c, r);
  at::mv_out(buf.db, rows.t(), r);
  at::sum_out(buf.dc, P, 0);
  at::mm_out(buf.dW, rows.t(), P);
}
}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> rbm_cd_grad_sweeps(
    const at::Tensor& v_data, const at::Tensor& v_chain, const at::Tensor& W,
    const at::Tensor& b, const at::Tensor& c, int64_t k, const Seed& seed, int64_t sweep0,
    const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;
  const RbmShapes s = check_rbm_args(v_chain, W, b, c, sweep0, "sweep0", "v_chain");
  check_at_least(k, "k", 1);
  check_cd_data(v_data, W, s.batch);
  CdBuffers buf(s.batch, v_data.size(0), W);
  run_rbm_cd_grad(v_data, v_chain, W.contiguous(), b.contiguous(), c.contiguous(), k, seed, sweep0,
                  ew, buf);
  return {buf.dW, buf.db, buf.dc, buf.rows.chains()};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor, at::Tensor> grbm_cd_grad_sweeps(
    const at::Tensor& v_data, const at::Tensor& v_chain, const at::Tensor& W,
    const at::Tensor& b, const at::Tensor& c, const at::Tensor& sigma, int64_t k, const Seed& seed,
    int64_t sweep0, const RbmElementwise& ew) {
  const at::NoGradGuard no_grad;
  const RbmShapes s = check_grbm_args(v_chain, W, b, c, sigma, sweep0, "sweep0", "v_chain");
  check_at_least(k, "k", 1);
  check_cd_data(v_data, W, s.batch);
  const at::Tensor W_ = W.contiguous(), b_ = b.contiguous(), c_ = c.contiguous();
  const at::Tensor sigma_ = sigma.contiguous();
  CdBuffers buf(s.batch, v_data.size(0), W);
  at::Tensor v_k = buf.rows.chains();  // [N, V]
  run_grbm_sweeps(v_chain, v_k, buf.h, W_, b_, c_, sigma_, k, seed, sweep0, ew);
  const auto [rows, r] = buf.rows.with_data(v_data);  // [N + B, V], [N + B]
  // With u = v/σ, P = r ⊙ sigmoid(u W + c), D = v - b, and Σ r = 0:
  //   dW = uᵀ P,  db = (uᵀ r)/σ,  dc = Σ_rows P,
  //   dlogσ = ((D²)ᵀ r)/σ² - Σⱼ dWᵢⱼ Wᵢⱼ   (the second term is Σ_rows r uᵢ (P Wᵀ)ᵢ).
  const at::Tensor u = at::div(rows, sigma_);  // [N + B, V]
  at::Tensor P = buf.P;                        // [N + B, H]
  ew.weighted_sigmoid(at::mm_out(P, u, W_), c_, r);
  at::sum_out(buf.dc, P, 0);
  at::mm_out(buf.dW, u.t(), P);
  at::mv_out(buf.db, u.t(), r).div_(sigma_);
  at::Tensor dlog_sigma = at::mv(at::sub(rows, b_).square_().t(), r)
                              .div_(sigma_.square())
                              .sub_(at::sum(at::mul(buf.dW, W_), 1));  // [V]
  check_step_finite(v_k, {{&v_chain, "v_chain"}, {&W, "W"}, {&b, "b"}, {&sigma, "sigma"}});
  for (const at::Tensor* grad : {&buf.dW, &buf.db, &dlog_sigma}) {
    check_step_finite(*grad, {{&v_data, "v_data"}, {&v_chain, "v_chain"}, {&W, "W"}, {&b, "b"},
                              {&sigma, "sigma"}});
  }
  return {buf.dW, buf.db, buf.dc, dlog_sigma, v_k};
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
  // names them); the steps run unchecked, in buffers allocated once: the chains live in the
  // statistics' rows from the first sweep on and are copied back at the end.
  const RbmShapes s = check_rbm_args(chains, W, b, c, 0, "sweep0", "chains");
  check_at_least(k, "k", 1);
  check_cd_data(data, W, s.batch, "data", "chains");
  const at::Tensor params[] = {W, b, c};
  CdBuffers buf(s.batch, std::min(batch_size, M), W);
  const at::Tensor grads[] = {buf.dW, buf.db, buf.dc};
  for (int64_t step = 0; step < steps; ++step) {
    const at::Tensor v = data.narrow(0, step * batch_size, std::min(batch_size, M - step * batch_size));
    run_rbm_cd_grad(v, step == 0 ? chains : buf.rows.chains(), W, b, c, k,
                    Seed(static_cast<uint64_t>(seeds[step])), 0, ew, buf);
    sgd_step(params, grads, momentum_buffers, lr, momentum, weight_decay, first_step && step == 0);
  }
  chains.copy_(buf.rows.chains());
  check_finite(W, "W");
  check_finite(b, "b");
  check_finite(c, "c");
}

}  // namespace fastebm
