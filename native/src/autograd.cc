// Autograd entry points that are not dispatcher operators: backward, .grad, requires_grad, grad mode.
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/variable.h>

#include "tensor_handle.h"

namespace mmfd {
namespace {

std::vector<at::Tensor> tensorList(const Napi::Value& v, const char* what) {
  std::vector<at::Tensor> out;
  if (v.IsUndefined() || v.IsNull()) return out;
  auto arr = v.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); i++) out.push_back(unwrapTensor(arr.Get(i), what));
  return out;
}

// backward(outputs: handle[], grads: handle[] | undefined, retainGraph: boolean)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto outputs = tensorList(info[0], "backward");
    auto grads = tensorList(info[1], "backward");
    bool retain = info[2].ToBoolean().Value();
    torch::autograd::backward(outputs, grads, retain, false);
    return info.Env().Undefined();
  });
}

// grad(handle, cached | undefined): the tensor's .grad; `cached` itself when it is a live handle on
// that same gradient (so a parameter's grad keeps one handle while backward accumulates in place),
// else a new handle (undefined when there is no gradient).
Napi::Value Grad(const Napi::CallbackInfo& info) {
  const auto& grad = unwrapTensor(info[0], "grad").grad();
  if (grad.defined() && isLiveTensorHandle(info[1]) && unwrapTensor(info[1], "grad").is_same(grad)) return info[1];
  return wrapTensor(info.Env(), grad);
}

// setGrad(handle, gradHandle | undefined): undefined clears it (PyTorch's zero_grad(set_to_none=True)).
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto& t = unwrapTensor(info[0], "setGrad");
    t.mutable_grad() = info[1].IsUndefined() ? at::Tensor() : unwrapTensor(info[1], "setGrad");
    return info.Env().Undefined();
  });
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    unwrapTensor(info[0], "setRequiresGrad").set_requires_grad(info[1].ToBoolean().Value());
    return info.Env().Undefined();
  });
}

// setData(handle, source): points the tensor at source's data, keeping its identity (Module.to()).
Napi::Value SetData(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto t = unwrapTensor(info[0], "setData");
    t.set_data(unwrapTensor(info[1], "setData"));
    // New data is a write, as an in-place op is: values derived from the old data (see tensorVersion()) go stale.
    t.unsafeGetTensorImpl()->bump_version();
    return info.Env().Undefined();
  });
}

// tensorVersion(handle): libtorch's version counter, which every in-place write (and setData) bumps. Metadata:
// values derived from a tensor are recomputed when it moves (src/torch/derived.ts).
Napi::Value TensorVersion(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    return Napi::Number::New(info.Env(), static_cast<double>(unwrapTensor(info[0], "tensorVersion")._version()));
  });
}

Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), unwrapTensor(info[0], "isLeaf").is_leaf());
}

Napi::Value GradFnName(const Napi::CallbackInfo& info) {
  auto fn = unwrapTensor(info[0], "gradFn").grad_fn();
  if (!fn) return info.Env().Undefined();
  return Napi::String::New(info.Env(), fn->name());
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}

Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  c10::GradMode::set_enabled(info[0].ToBoolean().Value());
  return info.Env().Undefined();
}

}  // namespace

void initAutograd(Napi::Env env, Napi::Object exports) {
  exports.Set("backward", Napi::Function::New(env, Backward));
  exports.Set("grad", Napi::Function::New(env, Grad));
  exports.Set("setGrad", Napi::Function::New(env, SetGrad));
  exports.Set("setRequiresGrad", Napi::Function::New(env, SetRequiresGrad));
  exports.Set("setData", Napi::Function::New(env, SetData));
  exports.Set("isLeaf", Napi::Function::New(env, IsLeaf));
  exports.Set("tensorVersion", Napi::Function::New(env, TensorVersion));
  exports.Set("gradFnName", Napi::Function::New(env, GradFnName));
  exports.Set("isGradEnabled", Napi::Function::New(env, IsGradEnabled));
  exports.Set("setGradEnabled", Napi::Function::New(env, SetGradEnabled));
}

}  // namespace mmfd
