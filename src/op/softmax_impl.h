// Softmax kernels shared by softmax/log_softmax (activation.cc) and SoftmaxOutput (loss.cc): an
// array is seen as (outer, len, inner) around the normalised axis, and each of the outer * inner
// lanes (len elements at stride inner) is normalised on its own.
#ifndef MX_OP_SOFTMAX_IMPL_H_
#define MX_OP_SOFTMAX_IMPL_H_

#include "op/kernel.h"
#include "op/math_functors.h"

namespace mx {
namespace softmax {

// The array seen as (outer, len, inner) around the softmax axis.
struct AxisView {
  int64_t outer = 1, len = 1, inner = 1;
};

inline int NormalizeAxis(int axis, const Shape& s) {
  MX_CHECK(axis >= -s.ndim() && axis < s.ndim(), kInvalidArgument)
      << "axis " << axis << " is out of range for input 'data' of shape " << s
      << " (valid: " << -s.ndim() << ".." << s.ndim() - 1 << ")";
  return axis < 0 ? axis + s.ndim() : axis;
}

inline AxisView ViewAround(const Shape& s, int axis) {
  const int a = NormalizeAxis(axis, s);
  return {s.ProdDims(0, a), s[a], s.ProdDims(a + 1, s.ndim())};
}

// One lane: len elements at stride `inner`. kLog selects log_softmax. Stable: shifted by the max.
template <bool kLog, OpReq Req, typename T>
MX_XINLINE void SoftmaxLane(const T* x, T* y, int64_t len, int64_t stride) {
  T top = x[0];
  for (int64_t j = 1; j < len; ++j) top = x[j * stride] > top ? x[j * stride] : top;
  T sum = 0;
  if constexpr (Req == OpReq::kWrite && !kLog) {
    // Keep e^(x - max) in y so the normalisation pass needs no second exp.
    for (int64_t j = 0; j < len; ++j) {
      const T e = math::exp(x[j * stride] - top);
      y[j * stride] = e;
      sum += e;
    }
    const T inv = T(1) / sum;
    for (int64_t j = 0; j < len; ++j) y[j * stride] *= inv;
  } else {
    for (int64_t j = 0; j < len; ++j) sum += math::exp(x[j * stride] - top);
    if (kLog) {
      const T shift = top + math::log(sum);
      for (int64_t j = 0; j < len; ++j) Assign<Req>(y[j * stride], T(x[j * stride] - shift));
    } else {
      const T inv = T(1) / sum;
      for (int64_t j = 0; j < len; ++j)
        Assign<Req>(y[j * stride], T(math::exp(x[j * stride] - top) * inv));
    }
  }
}

// dx from dy and y along one lane: softmax dx = y (dy - sum(dy y)); log_softmax dx = dy - e^y
// sum(dy).
template <bool kLog, OpReq Req, typename T>
MX_XINLINE void SoftmaxGradLane(const T* dy, const T* y, T* dx, int64_t len, int64_t stride) {
  T sum = 0;
  for (int64_t j = 0; j < len; ++j) sum += kLog ? dy[j * stride] : dy[j * stride] * y[j * stride];
  for (int64_t j = 0; j < len; ++j) {
    const int64_t i = j * stride;
    const T g = kLog ? T(dy[i] - math::exp(y[i]) * sum) : T(y[i] * (dy[i] - sum));
    Assign<Req>(dx[i], g);
  }
}

// A lane kernel is a struct with a static Lane(base, len, stride, args...) that handles the
// lane whose first element is at `base` (element j at base + j * stride).
template <bool kLog, OpReq Req>
struct ForwardLane {
  template <typename T>
  MX_XINLINE static void Lane(int64_t base, int64_t len, int64_t stride, const T* x, T* y) {
    SoftmaxLane<kLog, Req>(x + base, y + base, len, stride);
  }
};
template <bool kLog, OpReq Req>
struct BackwardLane {
  template <typename T>
  MX_XINLINE static void Lane(int64_t base, int64_t len, int64_t stride, const T* dy, const T* y,
                              T* dx) {
    SoftmaxGradLane<kLog, Req>(dy + base, y + base, dx + base, len, stride);
  }
};

// Lane number l of the view as an element kernel (one GPU thread per lane).
template <typename L>
struct LaneKernel {
  template <typename... Args>
  MX_XINLINE static void Map(int64_t l, int64_t len, int64_t inner, Args... args) {
    L::Lane((l / inner) * len * inner + l % inner, len, inner, args...);
  }
};

// Runs L::Lane for every lane of `v` on the op's device: on the CPU in parallel when there is
// enough work (counted in elements, not lanes), on the GPU one thread per lane.
template <typename L, typename... Args>
void LaunchLanes(const OpContext& ctx, const AxisView& v, Args... args) {
  const int64_t lanes = v.outer * v.inner;
  if (ctx.run.ctx.is_gpu()) {
    Kernel<LaneKernel<L>>::LaunchGPU(ctx.run, lanes, v.len, v.inner, args...);
    return;
  }
#if MX_USE_OPENMP
#pragma omp parallel for schedule(static) if (lanes * v.len >= kOmpMinWork && lanes > 1)
#endif
  for (int64_t l = 0; l < lanes; ++l) LaneKernel<L>::Map(l, v.len, v.inner, args...);
}

}  // namespace softmax
}  // namespace mx

#endif  // MX_OP_SOFTMAX_IMPL_H_
