// Strided iteration shared by the broadcast and reduce op families.
//
// Both families walk a "full" shape while some operands are smaller: a broadcast input is read
// with stride 0 along its size-1 dims, a reduction output is accumulated with stride 0 along the
// reduced dims. A Plan describes that walk once per call: size-1 dims are dropped and adjacent
// dims that every operand walks the same way are merged, so adding a row vector to a (M, N)
// matrix becomes a 2-D walk whose inner loop is contiguous, and equal shapes become a 1-D walk.
// Loops then run over segments of the innermost dim (ForRange), with an odometer instead of a
// div/mod per element.
//
//   Plan<2> p = MakePlan<2>(out_shape, {out_shape, in_shape});
//   ParallelForRange(p, [&](const int64_t* off, int64_t len) MX_LAMBDA_INLINE {
//     for (int64_t j = 0; j < len; ++j) out[off[0] + j] = in[off[1] + j * p.InnerStride(1)];
//   });
#ifndef MX_OP_BROADCAST_REDUCE_UTIL_H_
#define MX_OP_BROADCAST_REDUCE_UTIL_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "base/error.h"
#include "base/shape.h"
#include "op/kernel.h"

namespace mx {
namespace bcast {

template <int N>
struct Plan {
  int ndim = 0;
  int64_t dims[Shape::kMaxNDim] = {};
  int64_t strides[N][Shape::kMaxNDim] = {};

  int64_t Size() const {
    int64_t s = 1;
    for (int d = 0; d < ndim; ++d) s *= dims[d];
    return s;
  }
  // The stride of operand k along the innermost dim (0 when it is broadcast or reduced there).
  int64_t InnerStride(int k) const { return ndim > 0 ? strides[k][ndim - 1] : 0; }
};

// The walk over `full` with one operand per entry of `operands`. Each operand is aligned with
// `full` at the right; its dims must be 1 or equal to full's (the caller's shape inference
// guarantees it); missing leading dims count as 1.
template <int N>
Plan<N> MakePlan(const Shape& full, const std::array<Shape, N>& operands) {
  const int nd = full.ndim();
  int64_t st[N][Shape::kMaxNDim];
  for (int k = 0; k < N; ++k) {
    const Shape& s = operands[k];
    const int lead = nd - s.ndim();
    MX_CHECK(lead >= 0, kInternal) << "operand " << s << " has more dims than " << full;
    int64_t running = 1;
    for (int d = nd - 1; d >= 0; --d) {
      const int64_t dim = d >= lead ? s[d - lead] : 1;
      MX_CHECK(dim == 1 || dim == full[d], kInternal) << s << " does not broadcast to " << full;
      st[k][d] = dim == 1 ? 0 : running;
      running *= dim;
    }
  }
  Plan<N> p;
  for (int d = 0; d < nd; ++d) {
    if (full[d] == 1) continue;
    bool merge = p.ndim > 0;
    for (int k = 0; k < N && merge; ++k) {
      merge = p.strides[k][p.ndim - 1] == st[k][d] * full[d];
    }
    if (merge) {
      p.dims[p.ndim - 1] *= full[d];
      for (int k = 0; k < N; ++k) p.strides[k][p.ndim - 1] = st[k][d];
    } else {
      p.dims[p.ndim] = full[d];
      for (int k = 0; k < N; ++k) p.strides[k][p.ndim] = st[k][d];
      ++p.ndim;
    }
  }
  return p;
}

// Calls body(off, len) for the elements [begin, end) of the walk, in order, one segment of the
// innermost dim at a time: off[k] is operand k's offset of the segment's first element, and the
// segment's next elements follow at p.InnerStride(k).
// (Always inlined, so that ParallelForRange's per-ISA copies get their own.)
template <int N, typename Body>
MX_HOST_INLINE void ForRange(const Plan<N>& p, int64_t begin, int64_t end, Body&& body) {
  if (begin >= end) return;
  const int outer_nd = p.ndim > 0 ? p.ndim - 1 : 0;
  const int64_t inner = p.ndim > 0 ? p.dims[p.ndim - 1] : 1;
  int64_t idx[Shape::kMaxNDim] = {};
  int64_t off[N] = {};
  int64_t row = begin / inner;
  int64_t col = begin % inner;
  for (int d = outer_nd - 1; d >= 0; --d) {
    idx[d] = row % p.dims[d];
    row /= p.dims[d];
    for (int k = 0; k < N; ++k) off[k] += idx[d] * p.strides[k][d];
  }
  for (int k = 0; k < N; ++k) off[k] += col * p.InnerStride(k);
  while (begin < end) {
    const int64_t len = std::min(inner - col, end - begin);
    body(static_cast<const int64_t*>(off), len);
    begin += len;
    if (begin >= end) break;
    for (int k = 0; k < N; ++k) off[k] -= col * p.InnerStride(k);
    col = 0;
    for (int d = outer_nd - 1; d >= 0; --d) {
      for (int k = 0; k < N; ++k) off[k] += p.strides[k][d];
      if (++idx[d] < p.dims[d]) break;
      for (int k = 0; k < N; ++k) off[k] -= p.strides[k][d] * p.dims[d];
      idx[d] = 0;
    }
  }
}

// ForRange over [0, total), split into one contiguous chunk per OpenMP thread when large, each
// chunk compiled for simd::Active()'s instruction set. `body` must only write what its own
// elements own, and be a lambda marked MX_LAMBDA_INLINE to run at the wider sets (base/simd.h).
// `total` defaults to the whole walk. kWide: as ParallelForChunks's (kWideSimd<T> of the data).
template <bool kWide = true, int N, typename Body>
void ParallelForRange(const Plan<N>& p, int64_t total, int64_t work_per_elem, Body&& body) {
  ParallelForChunks<kWide>(total, total * work_per_elem >= kOmpMinWork,
                           [&](int64_t begin, int64_t end)
                               MX_LAMBDA_INLINE { ForRange(p, begin, end, body); });
}

template <bool kWide = true, int N, typename Body>
void ParallelForRange(const Plan<N>& p, Body&& body) {
  ParallelForRange<kWide>(p, p.Size(), 1, body);
}

// ---- reductions ----

// What reductions accumulate in: double for floating types (sums of many floats keep their
// precision), int64 for integers.
template <typename T>
using AccType = std::conditional_t<std::is_floating_point<T>::value, double, int64_t>;

// Reducers: Init() is the identity, Reduce(acc, x) folds one element in (or a partial result of
// the same reducer), Finish(acc, n) turns the accumulator over n elements into the result.
// kNarrowPartials: partial results over a few rows may be kept in the element type (float sums
// of 64 rows lose little; products could overflow).
struct SumReducer {
  static constexpr bool kNarrowPartials = true;
  template <typename A>
  MX_XINLINE static A Init() {
    return A(0);
  }
  template <typename A>
  MX_XINLINE static void Reduce(A& acc, A x) {
    acc += x;
  }
  template <typename A>
  MX_XINLINE static A Finish(A acc, int64_t) {
    return acc;
  }
};

struct MeanReducer : SumReducer {
  template <typename A>
  MX_XINLINE static A Finish(A acc, int64_t n) {
    return acc / A(n);
  }
};

// max and min propagate NaN, like numpy.
struct MaxReducer : SumReducer {
  template <typename A>
  MX_XINLINE static A Init() {
    return std::numeric_limits<A>::has_infinity ? -std::numeric_limits<A>::infinity()
                                                : std::numeric_limits<A>::lowest();
  }
  template <typename A>
  MX_XINLINE static void Reduce(A& acc, A x) {
    if (x > acc || x != x) acc = x;
  }
};

struct MinReducer : SumReducer {
  template <typename A>
  MX_XINLINE static A Init() {
    return std::numeric_limits<A>::has_infinity ? std::numeric_limits<A>::infinity()
                                                : std::numeric_limits<A>::max();
  }
  template <typename A>
  MX_XINLINE static void Reduce(A& acc, A x) {
    if (x < acc || x != x) acc = x;
  }
};

struct ProdReducer : SumReducer {
  static constexpr bool kNarrowPartials = false;
  template <typename A>
  MX_XINLINE static A Init() {
    return A(1);
  }
  template <typename A>
  MX_XINLINE static void Reduce(A& acc, A x) {
    acc *= x;
  }
};

// The product of the nonzero elements and the number of zeros: prod's gradient from these is
// exact when some elements are zero.
struct NonzeroProdReducer : ProdReducer {
  template <typename A>
  MX_XINLINE static void Reduce(A& acc, A x) {
    acc *= (x != A(0) ? x : A(1));
  }
};

struct ZeroCountReducer : SumReducer {
  static constexpr bool kNarrowPartials = false;
  template <typename A>
  MX_XINLINE static void Reduce(A& acc, A x) {
    acc += (x == A(0) ? A(1) : A(0));
  }
};

// Splits a reduce plan (operand 0 = input, operand 1 = output with stride 0 on reduced dims) into
// the kept dims and the reduced dims, each keeping both operands' strides.
template <int N>
void SplitReducePlan(const Plan<N>& p, Plan<N>* kept, Plan<N>* reduced) {
  *kept = Plan<N>();
  *reduced = Plan<N>();
  for (int d = 0; d < p.ndim; ++d) {
    Plan<N>* q = p.strides[1][d] == 0 ? reduced : kept;
    q->dims[q->ndim] = p.dims[d];
    for (int k = 0; k < N; ++k) q->strides[k][q->ndim] = p.strides[k][d];
    ++q->ndim;
  }
}

// out = R over the dims where `small` is 1 (or missing at the left) of `in` (shape `full`),
// written as `Req` says. `small` must broadcast to `full`.
template <typename R, OpReq Req, typename T>
void Reduce(const Shape& full, const T* in, const Shape& small, T* out) {
  using A = AccType<T>;
  const int64_t out_size = small.Size();
  if (out_size == 0) return;
  const int64_t n = out_size > 0 ? full.Size() / out_size : 0;
  if (full.Size() == 0) {
    for (int64_t i = 0; i < out_size; ++i)
      Assign<Req>(out[i], T(R::Finish(R::template Init<A>(), 0)));
    return;
  }
  const Plan<2> p = MakePlan<2>(full, {full, small});
  Plan<2> kept, red;
  SplitReducePlan(p, &kept, &red);
  const int64_t red_size = red.Size();
  if (p.ndim == 0 || p.strides[1][p.ndim - 1] == 0) {
    // The innermost dim is reduced: each output folds contiguous runs of the input.
    const int64_t rs = red.InnerStride(0);
    ParallelForRange<kWideSimd<T>>(
        kept, out_size, red_size, [&](const int64_t* koff, int64_t klen) MX_LAMBDA_INLINE {
          for (int64_t j = 0; j < klen; ++j) {
            const T* base = in + koff[0] + j * kept.InnerStride(0);
            A acc = R::template Init<A>();
            ForRange(red, 0, red_size, [&](const int64_t* roff, int64_t rlen) MX_LAMBDA_INLINE {
              const T* x = base + roff[0];
              if (rs == 1) {
                for (int64_t t = 0; t < rlen; ++t) R::Reduce(acc, A(x[t]));
              } else {
                for (int64_t t = 0; t < rlen; ++t) R::Reduce(acc, A(x[t * rs]));
              }
            });
            Assign<Req>(out[koff[1] + j * kept.InnerStride(1)], T(R::Finish(acc, n)));
          }
        });
    return;
  }
  // The innermost dim is kept: fold whole input rows into a block of accumulators, so both the
  // reads and the accumulation are contiguous. Reducers that allow it fold float rows into float
  // partials (vectorised), flushed into the wide accumulators every kChunk rows.
  using P = std::conditional_t<R::kNarrowPartials && std::is_floating_point<T>::value, T, A>;
  constexpr bool kChunked = !std::is_same<P, A>::value;
  constexpr int64_t kBlock = 1024, kChunk = 64;
  ParallelForRange<kWideSimd<T>>(
      kept, out_size, red_size, [&](const int64_t* koff, int64_t klen) MX_LAMBDA_INLINE {
        A acc[kBlock];
        P part[kBlock];
        for (int64_t b0 = 0; b0 < klen; b0 += kBlock) {
          const int64_t blen = std::min(kBlock, klen - b0);
          for (int64_t j = 0; j < blen; ++j) acc[j] = R::template Init<A>();
          for (int64_t j = 0; j < blen; ++j) part[j] = R::template Init<P>();
          int64_t rows = 0;
          auto flush = [&]() MX_LAMBDA_INLINE {
            for (int64_t j = 0; j < blen; ++j) R::Reduce(acc[j], A(part[j]));
            for (int64_t j = 0; j < blen; ++j) part[j] = R::template Init<P>();
          };
          ForRange(red, 0, red_size, [&](const int64_t* roff, int64_t rlen) MX_LAMBDA_INLINE {
            for (int64_t t = 0; t < rlen; ++t) {
              const T* x = in + koff[0] + b0 + roff[0] + t * red.InnerStride(0);
              if constexpr (kChunked) {
                for (int64_t j = 0; j < blen; ++j) R::Reduce(part[j], P(x[j]));
                if (++rows == kChunk) {
                  flush();
                  rows = 0;
                }
              } else {
                for (int64_t j = 0; j < blen; ++j) R::Reduce(acc[j], A(x[j]));
              }
            }
          });
          if (kChunked && rows > 0) flush();
          T* y = out + koff[1] + b0;
          for (int64_t j = 0; j < blen; ++j) Assign<Req>(y[j], T(R::Finish(acc[j], n)));
        }
      });
}

// ---- on the GPU: one thread per element, offsets from the element's index ----

// Operand k's offset of element i of the walk (row-major over p.dims).
template <int N>
MX_XINLINE void OffsetsOf(const Plan<N>& p, int64_t i, int64_t (&off)[N]) {
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int d = p.ndim - 1; d >= 0; --d) {
    const int64_t idx = i % p.dims[d];
    i /= p.dims[d];
    for (int k = 0; k < N; ++k) off[k] += idx * p.strides[k][d];
  }
}

// E::Apply(off, args...) for element i of plan p (passed by value: it lives in kernel arguments).
template <typename E, int N>
struct PlanKernel {
  template <typename... Args>
  MX_XINLINE static void Map(int64_t i, Plan<N> p, Args... args) {
    int64_t off[N];
    OffsetsOf(p, i, off);
    E::Apply(off, args...);
  }
};

// Runs E::Apply over every element of the walk on the GPU.
template <typename E, int N, typename... Args>
void LaunchPlanGpu(const engine::RunContext& rctx, const Plan<N>& p, Args... args) {
  Kernel<PlanKernel<E, N>>::LaunchGPU(rctx, p.Size(), p, args...);
}

// Output j of a reduction: folds its reduced elements in order (the CPU's order for a reduced
// inner dim), in the wide accumulator.
template <typename R, OpReq Req>
struct ReduceKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t j, Plan<2> kept, Plan<2> red, int64_t red_size, int64_t n,
                             const T* in, T* out) {
    using A = AccType<T>;
    int64_t koff[2], roff[2];
    OffsetsOf(kept, j, koff);
    A acc = R::template Init<A>();
    for (int64_t r = 0; r < red_size; ++r) {
      OffsetsOf(red, r, roff);
      R::Reduce(acc, A(in[koff[0] + roff[0]]));
    }
    Assign<Req>(out[koff[1]], T(R::Finish(acc, n)));
  }
};

// Reduce on rctx's device.
template <typename R, OpReq Req, typename T>
void Reduce(const engine::RunContext& rctx, const Shape& full, const T* in, const Shape& small,
            T* out) {
  if (!rctx.ctx.is_gpu()) {
    Reduce<R, Req>(full, in, small, out);
    return;
  }
  const int64_t out_size = small.Size();
  if (out_size == 0) return;
  const int64_t n = full.Size() / out_size;
  const Plan<2> p = MakePlan<2>(full, {full, small});
  Plan<2> kept, red;
  SplitReducePlan(p, &kept, &red);
  Kernel<ReduceKernel<R, Req>>::LaunchGPU(rctx, out_size, kept, red, red.Size(), n, in, out);
}

// ---- shapes ----

// The numpy broadcast of two shapes; throws naming both when they are incompatible. Unknown dims
// (-1) are allowed: the output's dim is unknown where it depends on one.
Shape BroadcastShapes(const Shape& lhs, const Shape& rhs);

// `data`'s shape with the dims in `reduced` set to 1 (keepdims form).
Shape KeepDimsShape(const Shape& data, const std::vector<bool>& reduced);

// Normalises an axis (negative counts from the end); throws naming the axis and the ndim.
int NormalizeAxis(int64_t axis, int ndim, const std::string& what);

}  // namespace bcast
}  // namespace mx

#endif  // MX_OP_BROADCAST_REDUCE_UTIL_H_
