// Every fastebm op schema, in one place; backends add kernels with TORCH_LIBRARY_IMPL in
// cpu/*_cpu.cpp and cuda/*_cuda.cu.
#include <torch/library.h>

TORCH_LIBRARY(fastebm, m) {
  m.def("philox4x32(Tensor counter, int seed) -> Tensor");
  m.def("bernoulli_sigmoid(Tensor logits, int seed, Generator? generator=None) -> Tensor");
  m.def(
      "rbm_gibbs(Tensor v, Tensor W, Tensor b, Tensor c, int n_steps, int seed, int sweep0=0,"
      " Generator? generator=None) -> (Tensor, Tensor)");
  m.def(
      "grbm_gibbs(Tensor v, Tensor W, Tensor b, Tensor c, Tensor sigma, int n_steps, int seed,"
      " int sweep0=0, Generator? generator=None) -> (Tensor, Tensor)");
  m.def(
      "rbm_cd_grad(Tensor v_data, Tensor v_chain, Tensor W, Tensor b, Tensor c, int k, int seed,"
      " int sweep0=0, Generator? generator=None) -> (Tensor, Tensor, Tensor, Tensor)");
  m.def(
      "grbm_cd_grad(Tensor v_data, Tensor v_chain, Tensor W, Tensor b, Tensor c, Tensor sigma,"
      " int k, int seed, int sweep0=0, Generator? generator=None) -> (Tensor, Tensor, Tensor,"
      " Tensor, Tensor)");
  m.def(
      "rbm_pcd_sgd_(Tensor(a!) W, Tensor(b!) b, Tensor(c!) c, Tensor(d!) chains,"
      " Tensor(e!)[] momentum_buffers, Tensor data, int batch_size, int[] seeds, int k, float lr,"
      " float momentum, float weight_decay, bool first_step) -> ()");
  m.def(
      "grbm_ais(Tensor v0, Tensor W, Tensor b, Tensor c, Tensor sigma, float[] betas, int seed,"
      " int step0=0, Generator? generator=None) -> (Tensor, Tensor)");
  m.def(
      "rbm_ais(Tensor v0, Tensor W, Tensor b, Tensor c, Tensor base_b, float[] betas, int seed,"
      " int step0=0, Generator? generator=None) -> (Tensor, Tensor)");
  m.def(
      "sgd_step_(Tensor(a!)[] params, Tensor[] grads, Tensor(b!)[] momentum_buffers, float lr,"
      " float momentum, float weight_decay, bool first_step) -> ()");
  m.def(
      "adam_step_(Tensor(a!)[] params, Tensor[] grads, Tensor(b!)[] exp_avgs,"
      " Tensor(c!)[] exp_avg_sqs, int step, float lr, float beta1, float beta2, float eps,"
      " float weight_decay) -> ()");
  m.def(
      "langevin_step(Tensor x, Tensor grad, float step_size, Tensor? noise, int seed,"
      " Generator? generator=None) -> Tensor");
  m.def(
      "langevin_step.out(Tensor x, Tensor grad, float step_size, Tensor? noise, int seed,"
      " Generator? generator=None, *, Tensor(a!) out) -> ()");
  m.def(
      "mala_accept(Tensor x, Tensor x_prop, Tensor energy, Tensor energy_prop, Tensor grad,"
      " Tensor grad_prop, float step_size, int seed, Generator? generator=None) -> (Tensor,"
      " Tensor, Tensor, Tensor)");
  m.def(
      "leapfrog_step(Tensor x, Tensor p, Tensor grad, float step_size, Tensor? inv_mass,"
      " float momentum_step) -> (Tensor, Tensor)");
  m.def(
      "hmc_accept(Tensor x, Tensor x_prop, Tensor energy, Tensor energy_prop, Tensor grad,"
      " Tensor grad_prop, Tensor p0, Tensor p_half, Tensor? inv_mass, float step_size, int seed,"
      " Generator? generator=None) -> (Tensor, Tensor, Tensor, Tensor)");
  m.def(
      "gmm_langevin(Tensor x, Tensor log_weights, Tensor means, Tensor stds, float step_size,"
      " int n_steps, bool mala, int seed, int step0=0, Generator? generator=None) -> (Tensor,"
      " Tensor)");
  // The step ops' .out overloads write into `out` (which may be x_t itself) and return nothing
  // (a custom op may not return an alias of an input).
  m.def(
      "ddpm_step(Tensor x_t, Tensor noise_pred, Tensor t, Tensor alphas_cumprod, int variance,"
      " float? clip_sample, Tensor? noise, int seed, Generator? generator=None) -> Tensor");
  m.def(
      "ddpm_step.out(Tensor x_t, Tensor noise_pred, Tensor t, Tensor alphas_cumprod,"
      " int variance, float? clip_sample, Tensor? noise, int seed, Generator? generator=None, *,"
      " Tensor(a!) out) -> ()");
  m.def(
      "ddim_step(Tensor x_t, Tensor noise_pred, Tensor t, Tensor t_prev, Tensor alphas_cumprod,"
      " float eta, Tensor? noise, int seed, Generator? generator=None) -> Tensor");
  m.def(
      "ddim_step.out(Tensor x_t, Tensor noise_pred, Tensor t, Tensor t_prev,"
      " Tensor alphas_cumprod, float eta, Tensor? noise, int seed, Generator? generator=None, *,"
      " Tensor(a!) out) -> ()");
  m.def(
      "gaussian_diffusion_step(Tensor x_t, Tensor mu, Tensor var, Tensor noise_var,"
      " Tensor? noise, int seed, Generator? generator=None) -> Tensor");
  m.def(
      "gaussian_diffusion_step.out(Tensor x_t, Tensor mu, Tensor var, Tensor noise_var,"
      " Tensor? noise, int seed, Generator? generator=None, *, Tensor(a!) out) -> ()");
  m.def("binomial_diffusion_step(Tensor p, int seed, Generator? generator=None) -> Tensor");
  m.def(
      "binomial_diffusion_step.out(Tensor p, int seed, Generator? generator=None, *,"
      " Tensor(a!) out) -> ()");
  m.def("svgd_rbf(Tensor x, Tensor score, float? bandwidth, int[]? rows=None) -> (Tensor, Tensor)");
  m.def("pair_distance_median(Tensor x) -> Tensor");
  m.def(
      "stein_kernel_matvec(Tensor x, Tensor score, Tensor weights, float bandwidth,"
      " str kernel=\"rbf\", float beta=-0.5, bool diagonal=True) -> Tensor");
  m.def(
      "bm_gibbs(Tensor x, Tensor J, Tensor b, int n_steps, Tensor beta, int seed, int sweep0=0,"
      " Tensor? frozen=None, Generator? generator=None) -> Tensor");
  m.def(
      "ising_gibbs(Tensor s, int n_steps, Tensor beta, float J, float h, int seed, int sweep0=0,"
      " Tensor? frozen=None, Generator? generator=None) -> Tensor");
  m.def(
      "reparameterize(Tensor mu, Tensor log_sigma, Tensor? noise, int seed,"
      " bool keep_scaled=True, Generator? generator=None) -> (Tensor, Tensor)");
}

// The sampling ops are not differentiable: autograd falls through to the backend kernels, so
// parameters that require grad are accepted and the outputs carry no graph (the kernels' inner
// ATen calls run under NoGradGuard).
TORCH_LIBRARY_IMPL(fastebm, Autograd, m) {
  for (const char* op : {"philox4x32", "bernoulli_sigmoid", "rbm_gibbs", "grbm_gibbs",
                         "rbm_cd_grad", "grbm_cd_grad", "rbm_pcd_sgd_", "rbm_ais",
                         "grbm_ais", "mala_accept", "leapfrog_step", "hmc_accept",
                         "gmm_langevin", "ddpm_step", "ddim_step", "gaussian_diffusion_step",
                         "binomial_diffusion_step", "svgd_rbf", "pair_distance_median",
                         "stein_kernel_matvec", "bm_gibbs", "ising_gibbs", "ddpm_step.out", "ddim_step.out", "gaussian_diffusion_step.out",
                         "binomial_diffusion_step.out", "langevin_step.out", "adam_step_"}) {
    m.impl(op, torch::CppFunction::makeFallthrough());
  }
}
