// Handles: how a libtorch object crosses into JavaScript.
// A tensor handle is a type-tagged napi External owning one at::Tensor reference. dispose() drops the
// reference at once (deterministic release); the GC finalizer only frees the small box and is a fallback.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>

namespace mmfd {

Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor);  // an undefined tensor becomes `undefined`
at::Tensor& unwrapTensor(const Napi::Value& value, const char* what);
bool isLiveTensorHandle(const Napi::Value& value);  // a tensor handle not yet disposed

Napi::Value wrapGenerator(Napi::Env env, at::Generator generator);
at::Generator& unwrapGenerator(const Napi::Value& value);
bool isGeneratorHandle(const Napi::Value& value);


// Every exported function converts C++ exceptions (c10::Error included) into JS errors with this.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

void initTensorHandle(Napi::Env env, Napi::Object exports);
void initOps(Napi::Env env, Napi::Object exports);
void initAutograd(Napi::Env env, Napi::Object exports);
void initRuntime(Napi::Env env, Napi::Object exports);
void initProfiler(Napi::Env env, Napi::Object exports);
void initOptim(Napi::Env env, Napi::Object exports);

}  // namespace mmfd
