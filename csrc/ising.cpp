// The Boltzmann-machine and Ising ops on any backend: argument checks, the sweep loops and
// layouts around ising.h's passes.
#include "fastebm/ising_ops.h"

#include <ATen/ops/addmm.h>
#include <ATen/ops/all.h>
#include <ATen/ops/any.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/eq.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/logical_or.h>
#include <ATen/ops/lt.h>
#include <ATen/ops/mul.h>
#include <ATen/ops/sigmoid.h>

#include <c10/core/GradMode.h>

#include <cmath>

#include "fastebm/checks.h"

namespace fastebm {
namespace {

// Every value of t is a or b (the state spaces {0, 1} and {-1, +1}); CUDA: with value checks on.
void check_two_values(const at::Tensor& t, const char* name, double a, double b) {
  if (!values_checked(t)) return;
  TORCH_CHECK_VALUE(at::logical_or(at::eq(t, a), at::eq(t, b)).all().item<bool>(),
                    "fastebm: argument '", name, "' must hold only ", a, " and ", b);
}

// beta [] or [batch], x's dtype and device, finite and >= 0; returned as a contiguous [batch].
at::Tensor checked_beta(const at::Tensor& beta, const at::Tensor& x, const char* x_name) {
  check_float_tensor(beta, "beta", beta.dim());
  check_same_kind(beta, "beta", x, x_name);
  TORCH_CHECK_VALUE(beta.dim() == 0 || (beta.dim() == 1 && beta.size(0) == x.size(0)),
                    "fastebm: argument 'beta' must be a scalar or one value per chain [",
                    x.size(0), "], got shape ", beta.sizes());
  check_finite(beta, "beta");
  if (values_checked(beta)) {
    TORCH_CHECK_VALUE(!at::lt(beta, 0).any().item<bool>(),
                      "fastebm: argument 'beta' must be >= 0 everywhere");
  }
  return beta.expand({x.size(0)}).contiguous();
}

// frozen (a bool mask of the state's shape and device) as 1 / 0 in the state's dtype, contiguous;
// undefined when absent.
at::Tensor held_sites(const std::optional<at::Tensor>& frozen, const at::Tensor& state,
                      const char* state_name) {
  if (!frozen) return {};
  TORCH_CHECK_VALUE(frozen->scalar_type() == at::kBool, "fastebm: argument 'frozen' must be a ",
                    "bool tensor (True: the site is held), got ", dtype_name(frozen->scalar_type()));
  TORCH_CHECK_VALUE(frozen->device() == state.device(), "fastebm: argument 'frozen' is on ",
                    frozen->device(), " but '", state_name, "' is on ", state.device());
  TORCH_CHECK_VALUE(frozen->sizes() == state.sizes(), "fastebm: argument 'frozen' has shape ",
                    frozen->sizes(), " but '", state_name, "' has ", state.sizes());
  return frozen->to(state.scalar_type()).contiguous();
}

}  // namespace

at::Tensor bm_gibbs_op(const at::Tensor& x, const at::Tensor& J, const at::Tensor& b,
                       int64_t n_steps, const at::Tensor& beta, const Seed& seed, int64_t sweep0,
                       const std::optional<at::Tensor>& frozen, const IsingPasses& passes) {
  const at::NoGradGuard no_grad;
  check_float_tensor(x, "x", 2);
  check_float_tensor(J, "J", 2);
  check_float_tensor(b, "b", 1);
  check_same_kind(J, "J", x, "x");
  check_same_kind(b, "b", x, "x");
  const int64_t n = x.size(1);
  check_size(J, "J", 0, n, "n = x.size(1)");
  check_size(J, "J", 1, n, "n = x.size(1)");
  check_size(b, "b", 0, n, "n = x.size(1)");
  check_at_least(n_steps, "n_steps", 1);
  check_at_least(sweep0, "sweep0", 0);
  const at::Tensor beta_ = checked_beta(beta, x, "x");
  check_finite(J, "J");
  check_finite(b, "b");
  if (values_checked(J)) {
    TORCH_CHECK_VALUE(at::equal(J, J.t()), "fastebm: argument 'J' must be symmetric");
    TORCH_CHECK_VALUE(at::eq(J.diagonal(), 0).all().item<bool>(),
                      "fastebm: argument 'J' must have a zero diagonal");
  }
  check_two_values(x, "x", 0, 1);
  const at::Tensor held = held_sites(frozen, x, "x");  // [B, n] or undefined
  at::Tensor state = x.contiguous().clone();  // [B, n]
  if (x.size(0) == 0 || n == 0) return state;
  const at::Tensor J_ = J.contiguous(), b_ = b.contiguous();
  at::Tensor delta = at::empty({x.size(0), std::min(kBmBlock, n)}, x.options());  // [B, K]
  for (int64_t sweep = sweep0; sweep < sweep0 + n_steps; ++sweep) {
    at::Tensor u = at::addmm(b_, state, J_);  // [B, n]: b + x J (J symmetric)
    for (int64_t k0 = 0; k0 < n; k0 += kBmBlock) {
      const int64_t k1 = std::min(k0 + kBmBlock, n);
      at::Tensor changes = delta.narrow(1, 0, k1 - k0).contiguous();
      passes.bm_block(state, u, changes, J_, beta_, held, k0, k1, seed,
                      static_cast<uint64_t>(sweep));
      if (k1 < n) {  // the later sites' fields: u[:, k1:] += Δ J[k0:k1, k1:]
        u.narrow(1, k1, n - k1).addmm_(changes, J_.narrow(0, k0, k1 - k0).narrow(1, k1, n - k1));
      }
    }
  }
  return state;
}

at::Tensor ising_gibbs_op(const at::Tensor& s, int64_t n_steps, const at::Tensor& beta,
                          double J, double h, const Seed& seed, int64_t sweep0,
                          const std::optional<at::Tensor>& frozen, const IsingPasses& passes) {
  const at::NoGradGuard no_grad;
  check_float_tensor(s, "s", 3);
  const int64_t B = s.size(0), L = s.size(1);
  TORCH_CHECK_VALUE(s.size(2) == L && L >= 2 && L % 2 == 0, "fastebm: argument 's' must be [B, L, L] "
                    "with L even and >= 2 (a checkerboard on a periodic lattice), got shape ",
                    s.sizes());
  check_at_least(n_steps, "n_steps", 1);
  check_at_least(sweep0, "sweep0", 0);
  const at::Tensor beta_ = checked_beta(beta, s, "s");
  check_scalar(J, "J", s.scalar_type());
  check_scalar(h, "h", s.scalar_type());
  check_two_values(s, "s", -1, 1);
  at::Tensor held = held_sites(frozen, s, "s");  // [B, L, L] or undefined
  if (B == 0) return s.contiguous().clone();
  // prob [B, 5]: σ(2β (J Σ + h)) for the neighbour sums Σ = -4, -2, 0, 2, 4
  const at::Tensor sums = at::arange(-4, 5, 2, s.options());  // made on s's device: no copy
  const at::Tensor prob =
      at::sigmoid(at::mul(beta_.unsqueeze(1), at::mul(sums, J).add_(h)).mul_(2)).contiguous();
  at::Tensor input = s.contiguous();  // [B, L, L]: only read
  at::Tensor planes[2] = {at::empty({B * L, L / 2 + 2}, s.options()),
                          at::empty({B * L, L / 2 + 2}, s.options())};
  passes.ising_layout(input, planes[0], planes[1], L, true);
  at::Tensor held_planes[2];  // each colour's held sites, in the planes' layout
  if (held.defined()) {
    held_planes[0] = at::empty_like(planes[0]);
    held_planes[1] = at::empty_like(planes[1]);
    passes.ising_layout(held, held_planes[0], held_planes[1], L, true);
  }
  for (int64_t sweep = sweep0; sweep < sweep0 + n_steps; ++sweep) {
    for (int64_t c = 0; c < 2; ++c) {
      passes.ising_half_sweep(planes[c], planes[1 - c], prob, held_planes[c], L, c,
                              seed,
                              2 * static_cast<uint64_t>(sweep) + static_cast<uint64_t>(c));
    }
  }
  at::Tensor lattice = at::empty({B, L, L}, s.options());
  passes.ising_layout(lattice, planes[0], planes[1], L, false);
  return lattice;
}

}  // namespace fastebm
