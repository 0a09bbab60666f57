// Argument checks shared by every op, host side. Each names the argument it rejects and raises
// ValueError (TORCH_CHECK_VALUE) so Python callers get a clear, catchable error.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/Exception.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

namespace fastebm {

// A dtype as Python prints it ("torch.float32"), so the fake kernels' messages match ours.
std::string dtype_name(at::ScalarType t);

// A float32/float64 tensor of rank `dim` (no element-count requirement).
void check_float_tensor(const at::Tensor& t, const char* name, int64_t dim);

// t.size(d) == expected, with a message naming both arguments.
void check_size(const at::Tensor& t, const char* name, int64_t d, int64_t expected,
                const char* what);

// Same dtype and device as the reference tensor.
void check_same_kind(const at::Tensor& t, const char* name, const at::Tensor& ref,
                     const char* ref_name);

// check_same_kind, and the very shape of the reference tensor.
void check_same_shape(const at::Tensor& t, const char* name, const at::Tensor& ref,
                      const char* ref_name);

// A scalar argument the kernel computes with in `dtype`: finite there (a Python float 1e39 is
// finite, but not as a float32), and > 0 when `positive` (a step size, a bandwidth).
void check_scalar(double value, const char* name, at::ScalarType dtype, bool positive = false);

// Checks of a tensor's values need its data on the host: free on the CPU, a device sync on CUDA.
// So on CUDA they run only when switched on (fastebm.set_cuda_value_checks(True) or
// FASTEBM_CUDA_VALUE_CHECKS=1): by default an op never synchronises the device, and a sampling
// loop can be captured in a CUDA graph. Shapes, dtypes and devices are always checked.
bool cuda_value_checks();
void set_cuda_value_checks(bool on);

// Whether t's values are checked: always on the CPU, on CUDA when switched on.
bool values_checked(const at::Tensor& t);

// Whether t holds no NaN or Inf (reads t's values: a device sync on CUDA).
bool all_finite(const at::Tensor& t);

// No NaN or Inf anywhere in t (CUDA: see above).
void check_finite(const at::Tensor& t, const char* name);

// Every element strictly positive (CUDA: see above).
void check_positive(const at::Tensor& t, const char* name);

void check_at_least(int64_t value, const char* name, int64_t minimum);

// x [B, ...] (named `name`): a float32/float64 tensor with a batch dimension.
void check_batched(const at::Tensor& x, const char* name);

// Refuses a step whose output holds NaN or Inf, naming the first input that holds one (else the
// step itself overflowed): one pass over the output rather than one per input. Undefined inputs
// are skipped. (CUDA: only with value checks on.)
void check_step_finite(const at::Tensor& out,
                       std::initializer_list<std::pair<const at::Tensor*, const char*>> inputs);

// An element-wise op's output: `out` when given (like's shape, dtype and device, contiguous), else
// a fresh tensor like `like`. `out` may be one of the op's inputs itself (each element's kernel
// reads its own inputs before it writes), but may not overlap one in part. Undefined inputs are
// skipped.
at::Tensor output_for(const std::optional<at::Tensor>& out, const at::Tensor& like,
                      const char* like_name, std::initializer_list<const at::Tensor*> inputs);

}  // namespace fastebm
