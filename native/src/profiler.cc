// A thin hook on libtorch's legacy autograd profiler, for benchmarks (bench:train's phase breakdown),
// not a user API: profilerStart() records every operator and autograd node the thread runs;
// profilerStop(byParent) returns them aggregated by name as [name, calls, selfUs, totalUs] (self time: the
// op's own time less the ops it called), or with byParent by "caller > name", so a training step's time
// can be attributed to ops and to what called them.
#include <torch/csrc/autograd/profiler_legacy.h>

#include <map>

#include "tensor_handle.h"

namespace mmfd {
namespace {

namespace prof = torch::autograd::profiler;

struct OpTotals {
  double calls = 0, selfUs = 0, totalUs = 0;
};

Napi::Value ProfilerStart(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    prof::enableProfilerLegacy(torch::profiler::impl::ProfilerConfig(torch::profiler::impl::ProfilerState::CPU));
    return info.Env().Undefined();
  });
}

Napi::Value ProfilerStop(const Napi::CallbackInfo& info) {
  return guarded(info, [&]() -> Napi::Value {
    bool byParent = info[0].ToBoolean().Value();
    auto lists = prof::disableProfilerLegacy();
    std::map<std::string, OpTotals> totals;
    for (const auto& events : lists) {
      // A range's children are the ranges pushed while it is open on the same thread.
      struct Open {
        const prof::LegacyEvent* push;
        double childUs;
      };
      std::vector<Open> stack;
      for (const auto& e : events) {
        if (e.kind() == prof::EventKind::PushRange) {
          stack.push_back({&e, 0});
        } else if (e.kind() == prof::EventKind::PopRange && !stack.empty()) {
          auto open = stack.back();
          stack.pop_back();
          double us = open.push->cpuElapsedUs(e);
          std::string key = open.push->name();
          if (byParent) key = (stack.empty() ? std::string("(top)") : std::string(stack.back().push->name())) + " > " + key;
          auto& t = totals[key];
          t.calls += 1;
          t.totalUs += us;
          t.selfUs += us - open.childUs;
          if (!stack.empty()) stack.back().childUs += us;
        }
      }
    }
    auto out = Napi::Array::New(info.Env(), totals.size());
    uint32_t i = 0;
    for (const auto& [name, t] : totals) {
      auto row = Napi::Array::New(info.Env(), 4);
      row.Set(0u, name);
      row.Set(1u, t.calls);
      row.Set(2u, t.selfUs);
      row.Set(3u, t.totalUs);
      out.Set(i++, row);
    }
    return out;
  });
}

}  // namespace

void initProfiler(Napi::Env env, Napi::Object exports) {
  exports.Set("profilerStart", Napi::Function::New(env, ProfilerStart));
  exports.Set("profilerStop", Napi::Function::New(env, ProfilerStop));
}

}  // namespace mmfd
