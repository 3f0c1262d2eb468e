// The op bridge: any ATen operator by schema name, called through libtorch's dispatcher.
// JS arguments are converted by the operator's own schema, so autograd, CUDA and every kernel are
// libtorch's, and adding an op to the TS API needs no C++.
#include <ATen/core/dispatch/Dispatcher.h>

#include "tensor_handle.h"

namespace mmfd {
namespace {

struct OpEntry {
  c10::OperatorHandle handle;
  std::string name;  // "aten::add.Tensor", for error messages
};

std::vector<OpEntry> registry;

[[noreturn]] void argError(Napi::Env env, const OpEntry& op, const c10::Argument& arg, const char* expected) {
  throw Napi::TypeError::New(env, op.name + ": argument '" + arg.name() + "' must be " + expected);
}

c10::IValue toIValue(const Napi::Value& v, const c10::TypePtr& type, const OpEntry& op, const c10::Argument& arg);

template <typename T, typename Convert>
c10::IValue toList(const Napi::Value& v, const OpEntry& op, const c10::Argument& arg, Convert convert) {
  c10::List<T> list;
  if (v.IsArray()) {
    auto arr = v.As<Napi::Array>();
    list.reserve(arr.Length());
    for (uint32_t i = 0; i < arr.Length(); i++) list.push_back(convert(arr.Get(i)));
  } else {
    // PyTorch accepts a single value for a fixed-size list such as `int[2] stride`.
    auto n = arg.N().value_or(1);
    auto item = convert(v);
    for (int64_t i = 0; i < n; i++) list.push_back(item);
  }
  return list;
}

int64_t toInt(const Napi::Value& v, const OpEntry& op, const c10::Argument& arg) {
  if (!v.IsNumber()) argError(v.Env(), op, arg, "an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<double>(static_cast<int64_t>(d))) argError(v.Env(), op, arg, "an integer");
  return static_cast<int64_t>(d);
}

c10::IValue toIValue(const Napi::Value& v, const c10::TypePtr& type, const OpEntry& op, const c10::Argument& arg) {
  auto env = v.Env();
  switch (type->kind()) {
    case c10::TypeKind::OptionalType:
      if (v.IsUndefined() || v.IsNull()) return c10::IValue();
      return toIValue(v, type->expectRef<c10::OptionalType>().getElementType(), op, arg);
    case c10::TypeKind::TensorType:
      return unwrapTensor(v, op.name.c_str());
    case c10::TypeKind::IntType:
    case c10::TypeKind::SymIntType:
      return toInt(v, op, arg);
    case c10::TypeKind::FloatType:
      if (!v.IsNumber()) argError(env, op, arg, "a number");
      return v.As<Napi::Number>().DoubleValue();
    case c10::TypeKind::BoolType:
      if (!v.IsBoolean()) argError(env, op, arg, "a boolean");
      return v.As<Napi::Boolean>().Value();
    case c10::TypeKind::NumberType: {  // Scalar: integral JS numbers stay integral, like Python ints
      if (v.IsBoolean()) return c10::Scalar(v.As<Napi::Boolean>().Value());
      if (!v.IsNumber()) argError(env, op, arg, "a number");
      double d = v.As<Napi::Number>().DoubleValue();
      bool integral = std::isfinite(d) && d == std::trunc(d) && std::abs(d) < 9.007199254740992e15;
      return integral ? c10::Scalar(static_cast<int64_t>(d)) : c10::Scalar(d);
    }
    case c10::TypeKind::StringType:
      if (!v.IsString()) argError(env, op, arg, "a string");
      return v.As<Napi::String>().Utf8Value();
    case c10::TypeKind::DeviceObjType:
      if (!v.IsString()) argError(env, op, arg, "a device string");
      return c10::Device(v.As<Napi::String>().Utf8Value());
    case c10::TypeKind::GeneratorType:
      return unwrapGenerator(v);
    case c10::TypeKind::ListType: {
      auto elem = type->expectRef<c10::ListType>().getElementType();
      switch (elem->kind()) {
        case c10::TypeKind::TensorType:
          return toList<at::Tensor>(v, op, arg, [&](const Napi::Value& x) { return unwrapTensor(x, op.name.c_str()); });
        case c10::TypeKind::OptionalType:
          return toList<c10::optional<at::Tensor>>(v, op, arg, [&](const Napi::Value& x) {
            return x.IsUndefined() || x.IsNull() ? c10::optional<at::Tensor>() : unwrapTensor(x, op.name.c_str());
          });
        case c10::TypeKind::IntType:
        case c10::TypeKind::SymIntType:
          return toList<int64_t>(v, op, arg, [&](const Napi::Value& x) { return toInt(x, op, arg); });
        case c10::TypeKind::FloatType:
          return toList<double>(v, op, arg, [&](const Napi::Value& x) {
            if (!x.IsNumber()) argError(env, op, arg, "a list of numbers");
            return x.As<Napi::Number>().DoubleValue();
          });
        case c10::TypeKind::BoolType:
          return toList<bool>(v, op, arg, [&](const Napi::Value& x) {
            if (!x.IsBoolean()) argError(env, op, arg, "a list of booleans");
            return x.As<Napi::Boolean>().Value();
          });
        default:
          break;
      }
      break;
    }
    default:
      break;
  }
  throw Napi::TypeError::New(env, op.name + ": argument type " + type->str() + " is not supported by the binding");
}

Napi::Value fromIValue(Napi::Env env, const c10::IValue& v) {
  if (v.isTensor()) return wrapTensor(env, v.toTensor());
  if (v.isNone()) return env.Undefined();
  if (v.isBool()) return Napi::Boolean::New(env, v.toBool());
  if (v.isInt()) return Napi::Number::New(env, static_cast<double>(v.toInt()));
  if (v.isDouble()) return Napi::Number::New(env, v.toDouble());
  if (v.isTensorList()) {
    auto list = v.toTensorList();
    auto out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) out.Set(i, wrapTensor(env, list.get(i)));
    return out;
  }
  if (v.isTuple()) {
    const auto& elems = v.toTupleRef().elements();
    auto out = Napi::Array::New(env, elems.size());
    for (size_t i = 0; i < elems.size(); i++) out.Set(i, fromIValue(env, elems[i]));
    return out;
  }
  if (v.isIntList()) {
    auto list = v.toIntVector();
    auto out = Napi::Array::New(env, list.size());
    for (size_t i = 0; i < list.size(); i++) out.Set(i, Napi::Number::New(env, static_cast<double>(list[i])));
    return out;
  }
  throw Napi::TypeError::New(env, std::string("result of type ") + v.tagKind() + " is not supported by the binding");
}

// opLookup(name, overload) -> id. Throws for an operator this libtorch does not have.
Napi::Value OpLookup(const Napi::CallbackInfo& info) {
  auto name = info[0].As<Napi::String>().Utf8Value();
  auto overload = info[1].As<Napi::String>().Utf8Value();
  auto handle = c10::Dispatcher::singleton().findSchema({name, overload});
  if (!handle) {
    throw Napi::Error::New(info.Env(), "operator " + name + (overload.empty() ? "" : "." + overload) +
                                           " is not in the linked libtorch");
  }
  registry.push_back({*handle, name + (overload.empty() ? "" : "." + overload)});
  return Napi::Number::New(info.Env(), static_cast<double>(registry.size() - 1));
}

Napi::Value OpSchema(const Napi::CallbackInfo& info) {
  std::ostringstream s;
  s << registry.at(info[0].As<Napi::Number>().Uint32Value()).handle.schema();
  return Napi::String::New(info.Env(), s.str());
}

c10::Stack runOp(const Napi::CallbackInfo& info) {
  auto id = info[0].As<Napi::Number>().Uint32Value();
  if (id >= registry.size()) throw Napi::RangeError::New(info.Env(), "call: unknown operator id");
  const auto& op = registry[id];
  const auto& args = op.handle.schema().arguments();
  size_t given = info.Length() - 1;
  if (given > args.size()) {
    throw Napi::TypeError::New(info.Env(), op.name + ": takes " + std::to_string(args.size()) + " arguments, " +
                                               std::to_string(given) + " given");
  }
  c10::Stack stack;
  stack.reserve(args.size());
  for (size_t i = 0; i < args.size(); i++) {
    const auto& arg = args[i];
    if (i < given && !info[i + 1].IsUndefined()) {
      stack.push_back(toIValue(info[i + 1], arg.type(), op, arg));
    } else if (arg.default_value()) {
      stack.push_back(*arg.default_value());
    } else if (arg.type()->kind() == c10::TypeKind::OptionalType) {
      stack.emplace_back();
    } else {
      throw Napi::TypeError::New(info.Env(), op.name + ": missing argument '" + arg.name() + "'");
    }
  }
  try {
    op.handle.callBoxed(&stack);
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), op.name + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {  // some 1.13 kernels throw plain std::runtime_error (e.g. view)
    throw Napi::Error::New(info.Env(), op.name + ": " + e.what());
  }
  return stack;
}

// call(id, ...args) -> the operator's result (a handle, a number, an array for tuples and lists).
Napi::Value Call(const Napi::CallbackInfo& info) {
  auto stack = runOp(info);
  if (stack.empty()) return info.Env().Undefined();
  if (stack.size() == 1) return fromIValue(info.Env(), stack[0]);
  auto out = Napi::Array::New(info.Env(), stack.size());
  for (size_t i = 0; i < stack.size(); i++) out.Set(i, fromIValue(info.Env(), stack[i]));
  return out;
}

// callInPlace(id, ...args): for in-place operators whose result is the first argument itself.
Napi::Value CallInPlace(const Napi::CallbackInfo& info) {
  runOp(info);
  return info.Env().Undefined();
}

}  // namespace

void initOps(Napi::Env env, Napi::Object exports) {
  exports.Set("opLookup", Napi::Function::New(env, OpLookup));
  exports.Set("opSchema", Napi::Function::New(env, OpSchema));
  exports.Set("call", Napi::Function::New(env, Call));
  exports.Set("callInPlace", Napi::Function::New(env, CallInPlace));
}

}  // namespace mmfd
