// mmfd's native addon: a thin N-API binding over libtorch (OpenSlide is a separate addon, openslide.cc). It marshals values and nothing else;
// the API and all argument checks live in src/torch/.
#include "tensor_handle.h"

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  mmfd::initTensorHandle(env, exports);
  mmfd::initOps(env, exports);
  mmfd::initAutograd(env, exports);
  mmfd::initRuntime(env, exports);
  mmfd::initProfiler(env, exports);
  mmfd::initOptim(env, exports);
  return exports;
}

NODE_API_MODULE(mmfd_native, Init)
