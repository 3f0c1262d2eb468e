// Fused optimizer updates. Adam's update as separate ATen ops is ~8 passes over every parameter's
// memory (plus a temporary per parameter and ~8 calls across N-API each); here it is one pass per
// element over param, grad and moments, the same formulas in the same order (PyTorch's single-tensor
// Adam), in the parameters' own dtype.
#include <ATen/Parallel.h>

#include <cmath>

#include "tensor_handle.h"

namespace mmfd {
namespace {

struct AdamScalars {
  double lr, beta1, beta2, eps, weightDecay, stepSize, bias2Sqrt;
  bool decoupled, amsgrad, maximize;
};

template <typename T>
void adamKernel(const at::Tensor& p, const at::Tensor& g, const at::Tensor& m, const at::Tensor& v, const at::Tensor* vmax,
                const AdamScalars& s) {
  T* P = p.data_ptr<T>();
  const T* G = g.data_ptr<T>();
  T* M = m.data_ptr<T>();
  T* V = v.data_ptr<T>();
  T* VM = vmax ? vmax->data_ptr<T>() : nullptr;
  const T decay = static_cast<T>(1 - s.lr * s.weightDecay), wd = static_cast<T>(s.weightDecay);
  const T w1 = static_cast<T>(1 - s.beta1), b2 = static_cast<T>(s.beta2), w2 = static_cast<T>(1 - s.beta2);
  const T eps = static_cast<T>(s.eps), bias2Sqrt = static_cast<T>(s.bias2Sqrt), negStep = static_cast<T>(-s.stepSize);
  const bool decay_ = s.weightDecay != 0;
  at::parallel_for(0, p.numel(), 1 << 14, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      T grad = s.maximize ? -G[i] : G[i];
      T param = P[i];
      if (decay_) {
        if (s.decoupled) param = param * decay;  // p.mul_(1 - lr * wd)
        else grad = grad + wd * param;           // grad.add(p, alpha=wd)
      }
      // exp_avg.lerp_(grad, 1 - beta1), as ATen's lerp for a scalar weight
      T m1 = M[i];
      m1 = w1 < T(0.5) ? m1 + w1 * (grad - m1) : grad - (grad - m1) * (T(1) - w1);
      // exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2)
      T v1 = V[i] * b2;
      v1 = v1 + w2 * grad * grad;
      T vUsed = v1;
      if (VM) {
        vUsed = VM[i] > v1 || std::isnan(VM[i]) ? VM[i] : v1;  // torch.maximum propagates NaN
        VM[i] = vUsed;
      }
      // denom = sqrt(v).div_(sqrt(bias_correction2)).add_(eps); p.addcdiv_(exp_avg, denom, -step_size)
      T denom = std::sqrt(vUsed) / bias2Sqrt + eps;
      P[i] = param + negStep * m1 / denom;
      M[i] = m1;
      V[i] = v1;
    }
  });
  for (const auto* t : {&p, &m, &v}) t->unsafeGetTensorImpl()->bump_version();
  if (vmax) vmax->unsafeGetTensorImpl()->bump_version();
}

bool fusable(const at::Tensor& p, std::initializer_list<const at::Tensor*> others) {
  if (!p.device().is_cpu() || (p.scalar_type() != at::kFloat && p.scalar_type() != at::kDouble) || !p.is_contiguous()) return false;
  for (const auto* t : others) {
    if (!t->defined() || !t->device().is_cpu() || t->scalar_type() != p.scalar_type() || !t->is_contiguous() ||
        t->numel() != p.numel()) {
      return false;
    }
  }
  return true;
}

// adamStep(params, grads, expAvgs, expAvgSqs, maxExpAvgSqs | undefined, [lr, beta1, beta2, eps, weightDecay,
// stepSize, sqrt(biasCorrection2)], [decoupled, amsgrad, maximize]) -> indices of the parameters it left
// alone (not contiguous float32/float64 CPU tensors), for the caller's per-op update.
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto params = info[0].As<Napi::Array>(), grads = info[1].As<Napi::Array>();
    auto avgs = info[2].As<Napi::Array>(), sqs = info[3].As<Napi::Array>();
    bool amsgradLists = info[4].IsArray();
    auto nums = info[5].As<Napi::Array>(), flags = info[6].As<Napi::Array>();
    auto num = [&](uint32_t i) { return nums.Get(i).As<Napi::Number>().DoubleValue(); };
    auto flag = [&](uint32_t i) { return flags.Get(i).ToBoolean().Value(); };
    AdamScalars s{num(0), num(1), num(2), num(3), num(4), num(5), num(6), flag(0), flag(1), flag(2)};
    auto skipped = Napi::Array::New(info.Env());
    at::NoGradGuard noGrad;
    for (uint32_t i = 0; i < params.Length(); i++) {
      const auto& p = unwrapTensor(params.Get(i), "adamStep");
      const auto& g = unwrapTensor(grads.Get(i), "adamStep");
      const auto& m = unwrapTensor(avgs.Get(i), "adamStep");
      const auto& v = unwrapTensor(sqs.Get(i), "adamStep");
      const at::Tensor* vmax = amsgradLists ? &unwrapTensor(info[4].As<Napi::Array>().Get(i), "adamStep") : nullptr;
      bool ok = s.amsgrad == (vmax != nullptr) && (vmax ? fusable(p, {&g, &m, &v, vmax}) : fusable(p, {&g, &m, &v}));
      if (!ok) {
        skipped.Set(skipped.Length(), i);
      } else if (p.scalar_type() == at::kFloat) {
        adamKernel<float>(p, g, m, v, vmax, s);
      } else {
        adamKernel<double>(p, g, m, v, vmax, s);
      }
    }
    return skipped;
  });
}

}  // namespace

void initOptim(Napi::Env env, Napi::Object exports) { exports.Set("adamStep", Napi::Function::New(env, AdamStep)); }

}  // namespace mmfd
