#include "tensor_handle.h"

#include <cstring>

namespace mmfd {
namespace {

const napi_type_tag kTensorTag = {0x6d6d6664'7465'6e73ULL, 0x6f72'0000'0000'0002ULL};
const napi_type_tag kGeneratorTag = {0x6d6d6664'6765'6e65ULL, 0x7261'746f'7200'0001ULL};

struct Slot {
  at::Tensor tensor;
  uint32_t generation = 0;
  int64_t bytes = 0;           // counted in liveBytes
  int64_t accountedBytes = 0;  // what V8 was told about (accountForGc), so release reports the same number back
};

// One table per Node environment (main thread, each worker), so workers never share slots.
struct HandleTable {
  std::vector<Slot> slots;
  std::vector<uint32_t> free;
  int64_t liveTensors = 0;
  int64_t liveBytes = 0;
};

HandleTable& table(Napi::Env env) { return *env.GetInstanceData<HandleTable>(); }

int64_t bytesOf(const at::Tensor& t) {
  // Only CPU bytes pressure V8's heap accounting; device memory is not V8's concern.
  return t.defined() && t.device().is_cpu() ? static_cast<int64_t>(t.nbytes()) : 0;
}

// The External's value: generation in the high 32 bits, slot index + 1 in the low 32 (never null).
// Returns the slot index of a live handle, -1 for a disposed one; throws if it is no tensor handle.
int64_t liveIndex(const Napi::Value& value, const char* what) {
  if (!value.IsExternal() || !value.As<Napi::External<void>>().CheckTypeTag(&kTensorTag)) {
    throw Napi::TypeError::New(value.Env(), std::string(what) + ": expected a tensor handle");
  }
  auto key = reinterpret_cast<uintptr_t>(value.As<Napi::External<void>>().Data());
  auto index = static_cast<uint32_t>(key & 0xffffffffu) - 1;
  auto& t = table(value.Env());
  bool live = index < t.slots.size() && t.slots[index].generation == static_cast<uint32_t>(key >> 32);
  return live ? static_cast<int64_t>(index) : -1;
}

void release(Napi::Env env, HandleTable& t, uint32_t index) {
  Slot& s = t.slots[index];
  s.tensor = at::Tensor();
  s.generation++;
  t.liveTensors--;
  t.liveBytes -= s.bytes;
  if (s.accountedBytes) Napi::MemoryManagement::AdjustExternalMemory(env, -s.accountedBytes);
  s.bytes = 0;
  s.accountedBytes = 0;
  t.free.push_back(index);
}

}  // namespace

Napi::Value wrapTensor(Napi::Env env, at::Tensor tensor) {
  if (!tensor.defined()) return env.Undefined();
  auto& t = table(env);
  uint32_t index;
  if (!t.free.empty()) {
    index = t.free.back();
    t.free.pop_back();
  } else {
    index = static_cast<uint32_t>(t.slots.size());
    t.slots.emplace_back();
  }
  Slot& s = t.slots[index];
  s.bytes = bytesOf(tensor);
  s.tensor = std::move(tensor);
  t.liveTensors++;
  t.liveBytes += s.bytes;
  auto key = (static_cast<uintptr_t>(s.generation) << 32) | (static_cast<uintptr_t>(index) + 1);
  auto ext = Napi::External<void>::New(env, reinterpret_cast<void*>(key));
  ext.TypeTag(&kTensorTag);
  return ext;
}

at::Tensor& unwrapTensor(const Napi::Value& value, const char* what) {
  auto index = liveIndex(value, what);
  if (index < 0) throw Napi::Error::New(value.Env(), std::string(what) + ": tensor was disposed");
  return table(value.Env()).slots[index].tensor;
}

bool isLiveTensorHandle(const Napi::Value& value) {
  return value.IsExternal() && value.As<Napi::External<void>>().CheckTypeTag(&kTensorTag) && liveIndex(value, "") >= 0;
}

Napi::Value wrapGenerator(Napi::Env env, at::Generator generator) {
  auto ext = Napi::External<at::Generator>::New(env, new at::Generator(std::move(generator)),
                                                [](Napi::Env, at::Generator* g) { delete g; });
  ext.TypeTag(&kGeneratorTag);
  return ext;
}

bool isGeneratorHandle(const Napi::Value& value) {
  return value.IsExternal() && value.As<Napi::External<at::Generator>>().CheckTypeTag(&kGeneratorTag);
}

at::Generator& unwrapGenerator(const Napi::Value& value) {
  if (!isGeneratorHandle(value)) throw Napi::TypeError::New(value.Env(), "expected a generator handle");
  return *value.As<Napi::External<at::Generator>>().Data();
}

namespace {

// dispose(handle): drop the tensor reference now. A handle already disposed is left alone.
Napi::Value Dispose(const Napi::CallbackInfo& info) {
  auto index = liveIndex(info[0], "dispose");
  if (index >= 0) release(info.Env(), table(info.Env()), static_cast<uint32_t>(index));
  return info.Env().Undefined();
}

// accountForGc(handle): tells V8 the tensor's CPU bytes, for a handle whose release is left to garbage
// collection (the TS side calls it when a tensor leaves every tidy() scope), so that such tensors press
// V8 to collect. Tensors inside scopes are disposed deterministically and are not counted: telling V8
// about every op's output (gigabytes per training step) made it run 5-8 full mark-compacts per step.
Napi::Value AccountForGc(const Napi::CallbackInfo& info) {
  auto index = liveIndex(info[0], "accountForGc");
  if (index < 0) return info.Env().Undefined();
  Slot& s = table(info.Env()).slots[index];
  if (s.accountedBytes == 0 && s.bytes != 0) {
    s.accountedBytes = s.bytes;
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), s.accountedBytes);
  }
  return info.Env().Undefined();
}

Napi::Value LiveStats(const Napi::CallbackInfo& info) {
  auto& t = table(info.Env());
  auto out = Napi::Object::New(info.Env());
  out.Set("tensors", Napi::Number::New(info.Env(), static_cast<double>(t.liveTensors)));
  out.Set("bytes", Napi::Number::New(info.Env(), static_cast<double>(t.liveBytes)));
  out.Set("slots", Napi::Number::New(info.Env(), static_cast<double>(t.slots.size())));
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
  env.SetInstanceData(new HandleTable());
  exports.Set("dispose", Napi::Function::New(env, Dispose));
  exports.Set("accountForGc", Napi::Function::New(env, AccountForGc));
  exports.Set("liveStats", Napi::Function::New(env, LiveStats));
  exports.Set("fromBytes", Napi::Function::New(env, FromBytes));
  exports.Set("toBytes", Napi::Function::New(env, ToBytes));
  exports.Set("meta", Napi::Function::New(env, Meta));
  exports.Set("layout", Napi::Function::New(env, Layout));
  exports.Set("sameTensor", Napi::Function::New(env, SameTensor));
}

}  // namespace mmfd
