#include "fastebm/checks.h"

#include "fastebm/finite_cpu.h"

#include <ATen/MemoryOverlap.h>
#include <ATen/ops/all.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/gt.h>
#include <ATen/ops/isfinite.h>

#include <atomic>
#include <cmath>
#include <limits>
#include <string>

namespace fastebm {

std::string dtype_name(at::ScalarType t) {
  return "torch." + std::string(c10::getDtypeNames(t).first);
}

void check_float_tensor(const at::Tensor& t, const char* name, int64_t dim) {
  TORCH_CHECK_VALUE(t.defined(), "fastebm: argument '", name, "' is undefined");
  TORCH_CHECK_VALUE(t.dim() == dim, "fastebm: argument '", name, "' must have ", dim,
                    " dimensions, got shape ", t.sizes());
  TORCH_CHECK_VALUE(t.scalar_type() == at::kFloat || t.scalar_type() == at::kDouble,
                    "fastebm: argument '", name, "' must be float32 or float64 (fastebm.ops also takes "
                    "float16 and bfloat16, in float32 inside), got ",
                    dtype_name(t.scalar_type()));
}

void check_size(const at::Tensor& t, const char* name, int64_t d, int64_t expected,
                const char* what) {
  TORCH_CHECK_VALUE(t.size(d) == expected, "fastebm: argument '", name, "' has shape ",
                    t.sizes(), " but dimension ", d, " must be ", expected, " (", what, ")");
}

void check_same_kind(const at::Tensor& t, const char* name, const at::Tensor& ref,
                     const char* ref_name) {
  TORCH_CHECK_VALUE(t.scalar_type() == ref.scalar_type(), "fastebm: argument '", name,
                    "' has dtype ", dtype_name(t.scalar_type()), " but '", ref_name, "' has ",
                    dtype_name(ref.scalar_type()));
  TORCH_CHECK_VALUE(t.device() == ref.device(), "fastebm: argument '", name, "' is on ",
                    t.device(), " but '", ref_name, "' is on ", ref.device());
}

namespace {

std::atomic<bool> g_cuda_value_checks{false};

}  // namespace

bool cuda_value_checks() { return g_cuda_value_checks.load(std::memory_order_relaxed); }

void set_cuda_value_checks(bool on) { g_cuda_value_checks.store(on, std::memory_order_relaxed); }

bool values_checked(const at::Tensor& t) { return t.is_cpu() || cuda_value_checks(); }

bool all_finite(const at::Tensor& t) {
  return t.is_cpu() ? all_finite_cpu(t) : at::isfinite(t).all().item<bool>();
}

void check_finite(const at::Tensor& t, const char* name) {
  if (!values_checked(t)) return;
  TORCH_CHECK_VALUE(all_finite(t), "fastebm: argument '", name, "' contains NaN or Inf");
}

void check_positive(const at::Tensor& t, const char* name) {
  if (!values_checked(t)) return;
  TORCH_CHECK_VALUE(at::gt(t, 0).all().item<bool>(), "fastebm: argument '", name,
                    "' must be strictly positive everywhere");
}

void check_same_shape(const at::Tensor& t, const char* name, const at::Tensor& ref,
                      const char* ref_name) {
  check_same_kind(t, name, ref, ref_name);
  TORCH_CHECK_VALUE(t.sizes() == ref.sizes(), "fastebm: argument '", name, "' has shape ",
                    t.sizes(), " but '", ref_name, "' has ", ref.sizes());
}

void check_scalar(double value, const char* name, at::ScalarType dtype, bool positive) {
  const double largest = dtype == at::kFloat ? std::numeric_limits<float>::max()
                                             : std::numeric_limits<double>::max();
  TORCH_CHECK_VALUE(std::isfinite(value) && std::abs(value) <= largest && (!positive || value > 0),
                    "fastebm: argument '", name, "' must be ", positive ? "> 0 and " : "",
                    "finite in ", dtype_name(dtype), " (|", name, "| <= ", largest, "), got ",
                    value);
}

void check_at_least(int64_t value, const char* name, int64_t minimum) {
  TORCH_CHECK_VALUE(value >= minimum, "fastebm: argument '", name, "' must be >= ", minimum,
                    ", got ", value);
}

void check_batched(const at::Tensor& x, const char* name) {
  check_float_tensor(x, name, x.dim());
  TORCH_CHECK_VALUE(x.dim() >= 1, "fastebm: argument '", name,
                    "' must have a batch dimension, got a scalar");
}

void check_step_finite(const at::Tensor& out,
                       std::initializer_list<std::pair<const at::Tensor*, const char*>> inputs) {
  if (!values_checked(out) || all_finite(out)) return;
  std::string names;
  for (const auto& [t, name] : inputs) {
    if (!t->defined()) continue;
    check_finite(*t, name);
    names += std::string(names.empty() ? "'" : ", '") + name + "'";
  }
  TORCH_CHECK_VALUE(false, "fastebm: the result overflowed ", dtype_name(out.scalar_type()),
                    ": arguments ", names, " are too large in magnitude for it");
}

at::Tensor output_for(const std::optional<at::Tensor>& out, const at::Tensor& like,
                      const char* like_name, std::initializer_list<const at::Tensor*> inputs) {
  if (!out.has_value()) return at::empty(like.sizes(), like.options());
  check_same_shape(*out, "out", like, like_name);
  TORCH_CHECK_VALUE(out->is_contiguous(), "fastebm: argument 'out' must be contiguous");
  for (const at::Tensor* input : inputs) {
    if (!input->defined()) continue;
    TORCH_CHECK_VALUE(at::get_overlap_status(*out, *input) != at::MemOverlapStatus::Partial,
                      "fastebm: argument 'out' overlaps an input in part (it may be an input "
                      "itself, or apart from them)");
  }
  return *out;
}

}  // namespace fastebm
