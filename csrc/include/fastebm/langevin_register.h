// Registers the Langevin ops (langevin_step and its .out overload, mala_accept, leapfrog_step,
// hmc_accept, gmm_langevin) for one backend, given that backend's element-wise driver:
//   TORCH_LIBRARY_IMPL(fastebm, CPU, m) { register_langevin_ops<cpu::ElementwiseDriver>(m); }
#pragma once

#include <torch/library.h>

#include "fastebm/langevin.h"
#include "fastebm/seed_ops.h"

namespace fastebm {

template <class Driver>
void register_langevin_ops(torch::Library& m) {
  static constexpr const LangevinPasses& passes = kLangevinPasses<Driver>;
  m.impl("langevin_step", [](const at::Tensor& x, const at::Tensor& grad, double step_size,
                             const std::optional<at::Tensor>& noise, int64_t seed,
                             const OptionalGenerator& generator) {
    return langevin_step_op(x, grad, step_size, op_seed(seed, generator, x), noise, std::nullopt,
                            passes);
  });
  m.impl("langevin_step.out", [](const at::Tensor& x, const at::Tensor& grad, double step_size,
                                 const std::optional<at::Tensor>& noise, int64_t seed,
                                 const OptionalGenerator& generator, at::Tensor& out) {
    langevin_step_op(x, grad, step_size, op_seed(seed, generator, x), noise, out, passes);
  });
  m.impl("mala_accept",
         [](const at::Tensor& x, const at::Tensor& x_prop, const at::Tensor& energy,
            const at::Tensor& energy_prop, const at::Tensor& grad, const at::Tensor& grad_prop,
            double step_size, int64_t seed, const OptionalGenerator& generator) {
           return mala_accept_op(x, x_prop, energy, energy_prop, grad, grad_prop, step_size,
                                 op_seed(seed, generator, x), passes);
         });
  m.impl("leapfrog_step",
         [](const at::Tensor& x, const at::Tensor& p, const at::Tensor& grad, double step_size,
            const std::optional<at::Tensor>& inv_mass, double momentum_step) {
           return leapfrog_step_op(x, p, grad, step_size, inv_mass, momentum_step, passes);
         });
  m.impl("hmc_accept", [](const at::Tensor& x, const at::Tensor& x_prop, const at::Tensor& energy,
                          const at::Tensor& energy_prop, const at::Tensor& grad,
                          const at::Tensor& grad_prop, const at::Tensor& p0,
                          const at::Tensor& p_half, const std::optional<at::Tensor>& inv_mass,
                          double step_size, int64_t seed, const OptionalGenerator& generator) {
    return hmc_accept_op(x, x_prop, energy, energy_prop, grad, grad_prop, p0, p_half, inv_mass,
                         step_size, op_seed(seed, generator, x), passes);
  });
  m.impl("gmm_langevin",
         [](const at::Tensor& x, const at::Tensor& log_weights, const at::Tensor& means,
            const at::Tensor& stds, double step_size, int64_t n_steps, bool mala, int64_t seed,
            int64_t step0, const OptionalGenerator& generator) {
           return gmm_langevin_op(x, log_weights, means, stds, step_size, n_steps, mala,
                                  op_seed(seed, generator, x), step0, passes);
         });
}

}  // namespace fastebm
