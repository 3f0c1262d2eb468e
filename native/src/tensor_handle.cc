#include "tensor_handle.h"

#include <cstring>

namespace mmfd {
namespace {

const napi_type_tag kTensorTag = {0x6d6d6664'7465'6e73ULL, 0x6f72'0000'0000'0001ULL};
const napi_type_tag kGeneratorTag = {0x6d6d6664'6765'6e65ULL, 0x7261'746f'7200'0001ULL};

int64_t liveTensors = 0;
int64_t liveBytes = 0;

int64_t bytesOf(const at::Tensor& t) {
  // Only CPU bytes pressure V8's heap accounting; device memory is not V8's concern.
  return t.defined() && t.device().is_cpu() ? static_cast<int64_t>(t.nbytes()) : 0;
}

template <typename T>
T* unwrapTagged(const Napi::Value& value, const napi_type_tag* tag) {
  if (!value.IsExternal()) return nullptr;
  auto ext = value.As<Napi::External<T>>();
  if (!ext.CheckTypeTag(tag)) return nullptr;
  return ext.Data();
}

}  // namespace

void releaseTensor(Napi::Env env, TensorBox* box) {
  if (!box->tensor.defined()) return;
  box->tensor = at::Tensor();
  liveTensors--;
  liveBytes -= box->accountedBytes;
  if (box->accountedBytes) Napi::MemoryManagement::AdjustExternalMemory(env, -box->accountedBytes);
  box->accountedBytes = 0;
}

Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Undefined();
  auto* box = new TensorBox{std::move(tensor), 0};
  box->accountedBytes = bytesOf(box->tensor);
  liveTensors++;
  liveBytes += box->accountedBytes;
  if (box->accountedBytes) Napi::MemoryManagement::AdjustExternalMemory(env, box->accountedBytes);
  auto ext = Napi::External<TensorBox>::New(env, box, [](Napi::Env env, TensorBox* b) {
    releaseTensor(env, b);
    delete b;
  });
  ext.TypeTag(&kTensorTag);
  return ext;
}

bool isTensorHandle(const Napi::Value& value) { return unwrapTagged<TensorBox>(value, &kTensorTag) != nullptr; }

at::Tensor& unwrapTensor(const Napi::Value& value, const char* what) {
  auto* box = unwrapTagged<TensorBox>(value, &kTensorTag);
  if (box == nullptr) throw Napi::TypeError::New(value.Env(), std::string(what) + ": expected a tensor handle");
  if (!box->tensor.defined()) throw Napi::Error::New(value.Env(), std::string(what) + ": tensor was disposed");
  return box->tensor;
}

Napi::Value wrapGenerator(Napi::Env env, at::Generator generator) {
  auto ext = Napi::External<at::Generator>::New(env, new at::Generator(std::move(generator)),
                                                [](Napi::Env, at::Generator* g) { delete g; });
  ext.TypeTag(&kGeneratorTag);
  return ext;
}

bool isGeneratorHandle(const Napi::Value& value) {
  return unwrapTagged<at::Generator>(value, &kGeneratorTag) != nullptr;
}

at::Generator& unwrapGenerator(const Napi::Value& value) {
  auto* gen = unwrapTagged<at::Generator>(value, &kGeneratorTag);
  if (gen == nullptr) throw Napi::TypeError::New(value.Env(), "expected a generator handle");
  return *gen;
}

namespace {

// dispose(handle): drop the tensor reference now.
Napi::Value Dispose(const Napi::CallbackInfo& info) {
  auto* box = unwrapTagged<TensorBox>(info[0], &kTensorTag);
  if (box == nullptr) throw Napi::TypeError::New(info.Env(), "dispose: expected a tensor handle");
  releaseTensor(info.Env(), box);
  return info.Env().Undefined();
}

Napi::Value LiveStats(const Napi::CallbackInfo& info) {
  auto out = Napi::Object::New(info.Env());
  out.Set("tensors", Napi::Number::New(info.Env(), static_cast<double>(liveTensors)));
  out.Set("bytes", Napi::Number::New(info.Env(), static_cast<double>(liveBytes)));
  return out;
}

// fromBytes(bytes: Uint8Array, shape: number[], dtype: number, device: string) -> handle (a copy)
Napi::Value FromBytes(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto bytes = info[0].As<Napi::Uint8Array>();
    auto shapeArr = info[1].As<Napi::Array>();
    std::vector<int64_t> shape(shapeArr.Length());
    for (uint32_t i = 0; i < shapeArr.Length(); i++) shape[i] = shapeArr.Get(i).As<Napi::Number>().Int64Value();
    auto dtype = static_cast<at::ScalarType>(info[2].As<Napi::Number>().Int32Value());
    auto t = at::empty(shape, at::TensorOptions().dtype(dtype));
    if (t.nbytes() != bytes.ByteLength()) {
      throw Napi::RangeError::New(info.Env(), "fromBytes: " + std::to_string(bytes.ByteLength()) +
                                                  " bytes given, shape and dtype need " + std::to_string(t.nbytes()));
    }
    std::memcpy(t.data_ptr(), bytes.Data(), t.nbytes());
    auto device = info[3].As<Napi::String>().Utf8Value();
    if (device != "cpu") t = t.to(at::Device(device));
    return wrapTensor(info.Env(), std::move(t));
  });
}

// toBytes(handle) -> ArrayBuffer with the tensor's elements, C-contiguous, copied to the CPU.
Napi::Value ToBytes(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    auto t = unwrapTensor(info[0], "toBytes").detach().to(at::kCPU).contiguous();
    auto buf = Napi::ArrayBuffer::New(info.Env(), t.nbytes());
    if (t.nbytes()) std::memcpy(buf.Data(), t.data_ptr(), t.nbytes());
    return buf;
  });
}

// meta(handle) -> [dtype, device, requiresGrad, ...shape]: one call fills the TS-side cache.
Napi::Value Meta(const Napi::CallbackInfo& info) {
  auto& t = unwrapTensor(info[0], "meta");
  auto env = info.Env();
  auto sizes = t.sizes();
  auto out = Napi::Array::New(env, 3 + sizes.size());
  out.Set(0u, Napi::Number::New(env, static_cast<int>(t.scalar_type())));
  out.Set(1u, Napi::String::New(env, t.device().str()));
  out.Set(2u, Napi::Boolean::New(env, t.requires_grad()));
  for (size_t i = 0; i < sizes.size(); i++) out.Set(3 + i, Napi::Number::New(env, static_cast<double>(sizes[i])));
  return out;
}

// layout(handle) -> [storageOffset, isContiguous, storageKey, ...strides]. storageKey identifies the
// storage (its StorageImpl address as a decimal string) so views of one storage can be recognised.
Napi::Value Layout(const Napi::CallbackInfo& info) {
  auto& t = unwrapTensor(info[0], "layout");
  auto env = info.Env();
  auto strides = t.strides();
  auto out = Napi::Array::New(env, 3 + strides.size());
  out.Set(0u, Napi::Number::New(env, static_cast<double>(t.storage_offset())));
  out.Set(1u, Napi::Boolean::New(env, t.is_contiguous()));
  auto key = reinterpret_cast<uintptr_t>(t.has_storage() ? t.storage().unsafeGetStorageImpl() : nullptr);
  out.Set(2u, Napi::String::New(env, std::to_string(key)));
  for (size_t i = 0; i < strides.size(); i++) out.Set(3 + i, Napi::Number::New(env, static_cast<double>(strides[i])));
  return out;
}

// sameTensor(a, b): whether two handles share one TensorImpl (e.g. an in-place op's result).
Napi::Value SameTensor(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), unwrapTensor(info[0], "sameTensor").is_same(unwrapTensor(info[1], "sameTensor")));
}

}  // namespace

void initTensorHandle(Napi::Env env, Napi::Object exports) {
  exports.Set("dispose", Napi::Function::New(env, Dispose));
  exports.Set("liveStats", Napi::Function::New(env, LiveStats));
  exports.Set("fromBytes", Napi::Function::New(env, FromBytes));
  exports.Set("toBytes", Napi::Function::New(env, ToBytes));
  exports.Set("meta", Napi::Function::New(env, Meta));
  exports.Set("layout", Napi::Function::New(env, Layout));
  exports.Set("sameTensor", Napi::Function::New(env, SameTensor));
}

}  // namespace mmfd
