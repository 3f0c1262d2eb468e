// Adam's update for a whole parameter group in one call across N-API: the same ATen ops, in the same
// order, as PyTorch's single-tensor Adam (torch/optim/adam.py) and as Adam.update() in TypeScript, so the
// results are bit-identical to it; only the ~8 crossings and scalar casts per parameter are saved. Every
// kernel is libtorch's.
#include "tensor_handle.h"

namespace mmfd {
namespace {

// adamStep(params, grads, expAvgs, expAvgSqs, maxExpAvgSqs | undefined, [lr, beta1, beta2, eps, weightDecay,
// stepSize, sqrt(biasCorrection2)], [decoupled, maximize]).
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto params = info[0].As<Napi::Array>(), grads = info[1].As<Napi::Array>();
    auto avgs = info[2].As<Napi::Array>(), sqs = info[3].As<Napi::Array>();
    bool amsgrad = info[4].IsArray();
    auto nums = info[5].As<Napi::Array>(), flags = info[6].As<Napi::Array>();
    auto num = [&](uint32_t i) { return nums.Get(i).As<Napi::Number>().DoubleValue(); };
    const double lr = num(0), beta1 = num(1), beta2 = num(2), eps = num(3), weightDecay = num(4), stepSize = num(5),
                 bias2Sqrt = num(6);
    const bool decoupled = flags.Get(0u).ToBoolean().Value(), maximize = flags.Get(1u).ToBoolean().Value();
    at::NoGradGuard noGrad;
    for (uint32_t i = 0; i < params.Length(); i++) {
      at::Tensor p = unwrapTensor(params.Get(i), "adamStep");
      at::Tensor m = unwrapTensor(avgs.Get(i), "adamStep");
      at::Tensor v = unwrapTensor(sqs.Get(i), "adamStep");
      at::Tensor grad = unwrapTensor(grads.Get(i), "adamStep");
      if (maximize) grad = grad.neg();
      if (weightDecay != 0) {
        if (decoupled) p.mul_(1 - lr * weightDecay);
        else grad = grad.add(p, weightDecay);
      }
      m.lerp_(grad, 1 - beta1);
      v.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
      if (amsgrad) {
        at::Tensor vmax = unwrapTensor(info[4].As<Napi::Array>().Get(i), "adamStep");
        vmax.copy_(at::maximum(vmax, v));
        v = vmax;
      }
      p.addcdiv_(m, v.sqrt().div_(bias2Sqrt).add_(eps), -stepSize);
    }
    return info.Env().Undefined();
  });
}

}  // namespace

void initOptim(Napi::Env env, Napi::Object exports) { exports.Set("adamStep", Napi::Function::New(env, AdamStep)); }

}  // namespace mmfd
