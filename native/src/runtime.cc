// Process-wide libtorch settings: threads, random seeds and generators, devices, version.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/utils.h>
#include <torch/version.h>

#include "tensor_handle.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <cstdlib>

namespace mmfd {
namespace {

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    at::set_num_threads(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::get_num_threads());
}

// manualSeed(seed): seeds the default generators of every device, like torch.manual_seed.
Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    torch::manual_seed(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
    return info.Env().Undefined();
  });
}

// newGenerator(seed) -> a CPU generator handle, independent of the global one.
Napi::Value NewGenerator(const Napi::CallbackInfo& info) {
  auto seed = static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value());
  return wrapGenerator(info.Env(), at::detail::createCPUGenerator(seed));
}

Napi::Value GeneratorSeed(const Napi::CallbackInfo& info) {
  auto& gen = unwrapGenerator(info[0]);
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_current_seed(static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value()));
  return info.Env().Undefined();
}

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count()));
}

// cudaSynchronize(): waits for every queued kernel on the current CUDA device (timings need it).
Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    torch::cuda::synchronize();
    return info.Env().Undefined();
  });
}

// setAllowTF32(flag): lets cuBLAS matmuls and cuDNN convolutions use TF32 (10-bit mantissa) for
// float32 on Ampere and newer, as torch.backends.cuda.matmul.allow_tf32 / cudnn.allow_tf32 do.
Napi::Value SetAllowTF32(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    bool flag = info[0].As<Napi::Boolean>().Value();
    at::globalContext().setAllowTF32CuBLAS(flag);
    at::globalContext().setAllowTF32CuDNN(flag);
    return info.Env().Undefined();
  });
}

Napi::Value Version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), TORCH_VERSION); }

// glibc serves every block over 32 MiB (its largest mmap threshold) with a fresh mmap and unmaps it
// on free, and hands the top of its heap back to the OS, so each large buffer (an activation, a
// gradient, a conv's workspace) is page-faulted and zeroed by the kernel again on every use. A
// 512 x 512 training step crosses that size all the time and batch 4 always does: measured 38,000
// page faults per student step and 94,000 per image of a batch-4 forward (2.9x batch 1's CPU time
// per image). Serving everything from the heap and keeping up to 1 GiB free at its top makes glibc
// reuse that memory, as tcmalloc would (PyTorch's CPU guide recommends one), without preloading one.
// The cost: the process keeps its peak heap. MMFD_MALLOC_TUNING=0, or a MALLOC_* setting of the user's, skips it.
void tuneAllocator() {
#if defined(__GLIBC__)
  const char* flag = std::getenv("MMFD_MALLOC_TUNING");
  if (flag != nullptr && std::string(flag) == "0") return;
  for (const char* name : {"MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "MALLOC_MMAP_MAX_"}) {
    if (std::getenv(name) != nullptr) return;
  }
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

}  // namespace

void initRuntime(Napi::Env env, Napi::Object exports) {
  tuneAllocator();
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed));
  exports.Set("newGenerator", Napi::Function::New(env, NewGenerator));
  exports.Set("generatorSeed", Napi::Function::New(env, GeneratorSeed));
  exports.Set("cudaDeviceCount", Napi::Function::New(env, CudaDeviceCount));
  exports.Set("cudaSynchronize", Napi::Function::New(env, CudaSynchronize));
  exports.Set("setAllowTF32", Napi::Function::New(env, SetAllowTF32));
  exports.Set("version", Napi::Function::New(env, Version));
}

}  // namespace mmfd
