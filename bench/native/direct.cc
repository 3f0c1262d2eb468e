// The same work as bench/engine.ts, calling libtorch directly from C++: the ceiling the binding is
// measured against. Usage: direct <threads>; prints one JSON object.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

// Best of `repeats` timings of `iters` calls, in seconds per call (the same rule as the JS side).
static double secondsPerCall(const std::function<void()>& fn, int iters, int repeats) {
  for (int i = 0; i < std::max(2, iters / 10); i++) fn();
  double best = 1e30;
  for (int r = 0; r < repeats; r++) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < iters; i++) fn();
    auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count() / iters);
  }
  return best;
}

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 1;
  at::set_num_threads(threads);
  at::manual_seed(0);
  auto a = at::randn({1024, 768});
  auto b = at::randn({768, 768});
  double matmul = secondsPerCall([&] { at::matmul(a, b); }, 20, 5);
  auto x = at::randn({1, 64, 128, 128});
  auto w = at::randn({64, 64, 3, 3});
  double conv = secondsPerCall([&] { at::conv2d(x, w, {}, 1, 1); }, 10, 5);
  auto s = at::randn({1});
  double add = secondsPerCall([&] { at::add(s, s); }, 200000, 5);
  std::printf("{\"threads\":%d,\"matmul_gflops\":%.3f,\"conv_gflops\":%.3f,\"tiny_op_us\":%.4f}\n", threads,
              2.0 * 1024 * 768 * 768 / matmul / 1e9, 2.0 * 64 * 64 * 9 * 128 * 128 / conv / 1e9, add * 1e6);
  return 0;
}
