// FullyConnected forward and backward through the imperative path vs the same GEMMs called
// directly.
//
// For each shape (batch, input_dim -> num_hidden): GFLOP/s of
//   fc fwd:   FullyConnected via Invoke (engine push; many iterations, one final wait)
//   fc bwd:   _backward_FullyConnected via Invoke (data, weight and bias gradients)
//   gemm:     the same GEMMs through mx::blas on this thread (1 for forward, 2 for backward): the
//             op's overhead is fc / gemm (budget, DESIGN.md: >= 0.9)
//   OpenBLAS: cblas_sgemm for the forward GEMM, the peer libmx's float GEMMs left for oneDNN's.
// Best of several timed runs each.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "bench_util.h"
#include "engine/engine.h"
#include "ndarray/ndarray.h"
#include "op/blas.h"
#include "op/invoke.h"
#include "op/op.h"

namespace {

using bench::Filled;
using bench::TimePerIter;
using mx::NDArray;
using mx::Shape;

void Bench(int64_t batch, int64_t in, int64_t out) {
  const std::string nh = std::to_string(out);
  const mx::Op* fwd_op = mx::OpRegistry::Get()->Get("FullyConnected");
  const mx::Op* bwd_op = mx::OpRegistry::Get()->Get("_backward_FullyConnected");
  const mx::NodeAttrs fwd = mx::MakeAttrs(fwd_op, {{"num_hidden", nh}});
  const mx::NodeAttrs bwd = mx::MakeAttrs(bwd_op, {{"num_hidden", nh}});
  NDArray x = Filled(Shape{batch, in}, 1.0f), w = Filled(Shape{out, in}, 0.1f);
  NDArray b = Filled(Shape{out}, 1.0f), y = Filled(Shape{batch, out}, 0.0f);
  NDArray og = Filled(Shape{batch, out}, 1.0f);
  NDArray gx = Filled(Shape{batch, in}, 0.0f), gw = Filled(Shape{out, in}, 0.0f);
  NDArray gb = Filled(Shape{out}, 0.0f);
  std::vector<NDArray> fwd_out{y}, bwd_out{gx, gw, gb};
  auto* engine = mx::engine::Engine::Get();
  auto wait = [engine] { engine->WaitForAll(); };

  const double t_fwd = TimePerIter([&] { mx::Invoke(fwd, {x, w, b}, &fwd_out); }, wait);
  const double t_bwd = TimePerIter([&] { mx::Invoke(bwd, {og, x, w}, &bwd_out); }, wait);

  // The same GEMMs on raw buffers, called directly: through the routine libmx uses (mx::blas,
  // oneDNN's sgemm when built with it) and through OpenBLAS's cblas_sgemm.
  std::vector<float> hx(batch * in, 0.5f), hw(out * in, 0.01f), hy(batch * out);
  std::vector<float> hog(batch * out, 1.0f), hgx(batch * in), hgw(out * in);
  const int m = static_cast<int>(batch), k = static_cast<int>(in), n = static_cast<int>(out);
  const double t_gemm_fwd = TimePerIter(
      [&] {
        mx::blas::Gemm(false, true, m, n, k, 1.0f, hx.data(), k, hw.data(), k, 0.0f, hy.data(), n);
      },
      [] {});
  const double t_gemm_bwd = TimePerIter(
      [&] {
        mx::blas::Gemm(false, false, m, k, n, 1.0f, hog.data(), n, hw.data(), k, 0.0f, hgx.data(),
                       k);
        mx::blas::Gemm(true, false, n, k, m, 1.0f, hog.data(), n, hx.data(), k, 0.0f, hgw.data(),
                       k);
      },
      [] {});
  const double t_ob_fwd = TimePerIter(
      [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f, hx.data(), k, hw.data(),
                    k, 0.0f, hy.data(), n);
      },
      [] {});

  const double flop = 2.0 * batch * in * out;
  const double fc_f = flop / t_fwd * 1e-9, fc_b = 2 * flop / t_bwd * 1e-9;
  const double bl_f = flop / t_gemm_fwd * 1e-9, bl_b = 2 * flop / t_gemm_bwd * 1e-9;
  const double ob_f = flop / t_ob_fwd * 1e-9;
  std::printf(
      "%5lld x %4lld -> %4lld | fwd %7.1f vs gemm %7.1f GFLOP/s  ratio %.2f (%6.1f us)"
      " | bwd %7.1f vs gemm %7.1f  ratio %.2f (%6.1f us) | OpenBLAS sgemm fwd %6.1f (fc/openblas "
      "%.2f)\n",
      static_cast<long long>(batch), static_cast<long long>(in), static_cast<long long>(out), fc_f,
      bl_f, fc_f / bl_f, t_fwd * 1e6, fc_b, bl_b, fc_b / bl_b, t_bwd * 1e6, ob_f, fc_f / ob_f);
}

}  // namespace

int main() {
  try {
    std::printf(
        "FullyConnected (imperative, engine) vs its GEMMs called directly, float32; budget: "
        "ratio >= 0.9\n");
    Bench(128, 784, 128);
    Bench(128, 128, 10);
    Bench(256, 784, 1024);
    Bench(256, 1024, 1024);
    Bench(256, 1024, 10);
    Bench(1024, 1024, 1024);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fc_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
