// L2Normalization: out = x / sqrt(sum x^2 + eps), the sum taken per instance (every axis but the
// first), per channel vector (axis 1, at each position) or per spatial map (the axes after 1).
//
// All three are one reduction over the middle axis of an (outer, len, inner) view:
//   instance  (N, C*H*W, 1)    channel  (N, C, H*W)    spatial  (N*C, H*W, 1)
// Each outer slice accumulates its inner sums row by row, so the loops stay contiguous, and the
// slices run in parallel (the GPU has its own lane passes below). The backward op recomputes the
// norms from the input (MXNet keeps them as a hidden output): dx = dy / n - x * sum(dy * x) / n^3.
#include <algorithm>

#include "op/kernel.h"
#include "op/math_functors.h"
#include "op/nn_ops.h"
#include "op/op_util.h"

namespace mx {
namespace {

enum L2Mode { kInstance, kChannel, kSpatial };

struct L2NormalizationParam : public dmlc::Parameter<L2NormalizationParam> {
  float eps;
  int mode;
  DMLC_DECLARE_PARAMETER(L2NormalizationParam) {
    DMLC_DECLARE_FIELD(eps).set_default(1e-10f).describe(
        "Added to the sum of squares before the square root, so zeros do not divide by zero.");
    DMLC_DECLARE_FIELD(mode)
        .set_default(kInstance)
        .add_enum("instance", kInstance)
        .add_enum("channel", kChannel)
        .add_enum("spatial", kSpatial)
        .describe(
            "What one norm covers: instance, all of a sample (every axis but the first); channel, "
            "the channel vector (axis 1) at each position; spatial, each channel's map (the axes "
            "after the channel axis).");
  }
};

const L2NormalizationParam& Param(const NodeAttrs& attrs) {
  return attrs.get<L2NormalizationParam>();
}

struct L2View {
  int64_t outer, len, inner;
};

L2View ViewOf(int mode, const Shape& s) {
  switch (mode) {
    case kChannel:
      return {s[0], s[1], s.ProdDims(2, s.ndim())};
    case kSpatial:
      return {s[0] * s[1], s.ProdDims(2, s.ndim()), 1};
    default:
      return {s[0], s.ProdDims(1, s.ndim()), 1};
  }
}

bool L2Shape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const bool known = ElemwiseShape(attrs, in, out);
  const Shape& d = (*in)[0];
  const int mode = Param(attrs).mode;
  const int min_ndim = mode == kInstance ? 1 : 3;
  MX_CHECK(d.ndim() < 0 || d.ndim() >= min_ndim, kInvalidArgument)
      << "mode="
      << (mode == kInstance  ? "instance"
          : mode == kChannel ? "channel"
                             : "spatial")
      << " needs input 'data' with at least " << min_ndim << " dimensions"
      << (min_ndim == 3 ? " (batch, channel, spatial...)" : "") << ", got shape " << d;
  return known;
}

template <typename T, OpReq Req>
void L2Forward(const T* x, T* y, const L2View& v, T eps, T* inv) {
#if MX_USE_OPENMP
  MX_OMP_FOR_IF(v.outer * v.len * v.inner >= kOmpMinWork)
#endif
  for (int64_t o = 0; o < v.outer; ++o) {
    const T* xs = x + o * v.len * v.inner;
    T* ys = y + o * v.len * v.inner;
    T* n = inv + o * v.inner;
    std::fill(n, n + v.inner, T(0));
    for (int64_t r = 0; r < v.len; ++r) {
      for (int64_t j = 0; j < v.inner; ++j) n[j] += xs[r * v.inner + j] * xs[r * v.inner + j];
    }
    for (int64_t j = 0; j < v.inner; ++j) n[j] = T(1) / math::sqrt(n[j] + eps);
    for (int64_t r = 0; r < v.len; ++r) {
      for (int64_t j = 0; j < v.inner; ++j) {
        Assign<Req>(ys[r * v.inner + j], T(xs[r * v.inner + j] * n[j]));
      }
    }
  }
}

// The GPU's passes: one thread per (outer, inner) lane sums its column of the (outer, len, inner)
// view (strided, but neighbouring threads read neighbouring elements), then one thread per
// element applies the lane's factors. Lanes are few in instance mode (one per sample), so that
// pass is correct rather than fast there.
struct L2LaneNorm {
  template <typename T>
  MX_XINLINE static void Map(int64_t l, T* inv, const T* x, L2View v, T eps) {
    const T* xs = x + (l / v.inner) * v.len * v.inner + l % v.inner;
    T sum = 0;
    for (int64_t r = 0; r < v.len; ++r) sum += xs[r * v.inner] * xs[r * v.inner];
    inv[l] = T(1) / math::sqrt(sum + eps);
  }
};

template <OpReq Req>
struct L2Scale {
  template <typename T>
  MX_XINLINE static void Map(int64_t e, T* y, const T* x, const T* inv, L2View v) {
    Assign<Req>(y[e], T(x[e] * inv[(e / (v.len * v.inner)) * v.inner + e % v.inner]));
  }
};

// Backward lanes: inv = 1 / n and k = sum(dy * x) / n^3.
struct L2LaneGrad {
  template <typename T>
  MX_XINLINE static void Map(int64_t l, T* inv, T* k, const T* dy, const T* x, L2View v, T eps) {
    const int64_t base = (l / v.inner) * v.len * v.inner + l % v.inner;
    T sq = 0, dot = 0;
    for (int64_t r = 0; r < v.len; ++r) {
      const T xe = x[base + r * v.inner];
      sq += xe * xe;
      dot += dy[base + r * v.inner] * xe;
    }
    const T i = T(1) / math::sqrt(sq + eps);
    inv[l] = i;
    k[l] = dot * i * i * i;
  }
};

template <OpReq Req>
struct L2GradScale {
  template <typename T>
  MX_XINLINE static void Map(int64_t e, T* dx, const T* dy, const T* x, const T* inv, const T* k,
                             L2View v) {
    const int64_t l = (e / (v.len * v.inner)) * v.inner + e % v.inner;
    Assign<Req>(dx[e], T(dy[e] * inv[l] - x[e] * k[l]));
  }
};

void L2NormalizationForward(const NodeAttrs& attrs, const OpContext& ctx,
                            const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                            const std::vector<TBlob>& out) {
  const L2NormalizationParam& p = Param(attrs);
  const L2View v = ViewOf(p.mode, in[0].shape);
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    T* inv = static_cast<T*>(ctx.TempSpace(sizeof(T) * v.outer * v.inner));
    if (ctx.run.ctx.is_gpu()) {
      Kernel<L2LaneNorm>::LaunchGPU(ctx.run, v.outer * v.inner, inv, in[0].data<T>(), v, T(p.eps));
      MX_REQ_SWITCH(req[0], Req, {
        Kernel<L2Scale<Req>>::LaunchGPU(ctx.run, out[0].Size(), out[0].data<T>(), in[0].data<T>(),
                                        static_cast<const T*>(inv), v);
      });
      return;
    }
    MX_REQ_SWITCH(req[0], Req,
                  { L2Forward<T, Req>(in[0].data<T>(), out[0].data<T>(), v, T(p.eps), inv); });
  });
}

// ---- backward: inputs (ograd, data) ----

template <typename T, OpReq Req>
void L2Backward(const T* dy, const T* x, T* dx, const L2View& v, T eps, T* tmp) {
#if MX_USE_OPENMP
  MX_OMP_FOR_IF(v.outer * v.len * v.inner >= kOmpMinWork)
#endif
  for (int64_t o = 0; o < v.outer; ++o) {
    const int64_t base = o * v.len * v.inner;
    T* inv = tmp + 2 * o * v.inner;  // 1 / n
    T* k = inv + v.inner;            // sum(dy * x) / n^3
    std::fill(inv, inv + 2 * v.inner, T(0));
    for (int64_t r = 0; r < v.len; ++r) {
      for (int64_t j = 0; j < v.inner; ++j) {
        const T xe = x[base + r * v.inner + j];
        inv[j] += xe * xe;
        k[j] += dy[base + r * v.inner + j] * xe;
      }
    }
    for (int64_t j = 0; j < v.inner; ++j) {
      inv[j] = T(1) / math::sqrt(inv[j] + eps);
      k[j] *= inv[j] * inv[j] * inv[j];
    }
    for (int64_t r = 0; r < v.len; ++r) {
      for (int64_t j = 0; j < v.inner; ++j) {
        const int64_t e = base + r * v.inner + j;
        Assign<Req>(dx[e], T(dy[e] * inv[j] - x[e] * k[j]));
      }
    }
  }
}

void L2NormalizationBackward(const NodeAttrs& attrs, const OpContext& ctx,
                             const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                             const std::vector<TBlob>& out) {
  const L2NormalizationParam& p = Param(attrs);
  const L2View v = ViewOf(p.mode, in[1].shape);
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    T* tmp = static_cast<T*>(ctx.TempSpace(2 * sizeof(T) * v.outer * v.inner));
    if (ctx.run.ctx.is_gpu()) {
      const int64_t lanes = v.outer * v.inner;
      Kernel<L2LaneGrad>::LaunchGPU(ctx.run, lanes, tmp, tmp + lanes, in[0].data<T>(),
                                    in[1].data<T>(), v, T(p.eps));
      MX_REQ_SWITCH(req[0], Req, {
        Kernel<L2GradScale<Req>>::LaunchGPU(
            ctx.run, out[0].Size(), out[0].data<T>(), in[0].data<T>(), in[1].data<T>(),
            static_cast<const T*>(tmp), static_cast<const T*>(tmp + lanes), v);
      });
      return;
    }
    MX_REQ_SWITCH(req[0], Req, {
      L2Backward<T, Req>(in[0].data<T>(), in[1].data<T>(), out[0].data<T>(), v, T(p.eps), tmp);
    });
  });
}

}  // namespace

DMLC_REGISTER_PARAMETER(L2NormalizationParam);

void RegisterL2NormalizationOps(OpRegistry* reg) {
  reg->Add("L2Normalization")
      .Describe(
          "Divides by the L2 norm: out = x / sqrt(sum(x^2) + eps), with the sum over every axis "
          "but the first (mode=instance), over the channel axis at each position (channel), or "
          "over the spatial axes of each channel (spatial).")
      .SetParam<L2NormalizationParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(L2Shape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})  // every norm is taken before its slice is written
      .SetResources({ResourceType::kTempSpace})
      .SetComputeAll(L2NormalizationForward, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{MakeGradEntry("_backward_L2Normalization", n, "backward",
                                                    {og[0], InputOf(n, 0)}, n->attrs.dict)};
      });

  reg->Add("_backward_L2Normalization")
      .Describe("Gradient of L2Normalization, recomputing the norms from the input.")
      .SetParam<L2NormalizationParam>()
      .SetInputs({"ograd", "data"})
      .SetNumOutputs(1)
      .SetInferShape(L2Shape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})  // dx over dy: the sums are taken before the slice is written
      .SetResources({ResourceType::kTempSpace})
      .SetComputeAll(L2NormalizationBackward, kGpuKernels)
      .SetBackwardOf("L2Normalization");
}

}  // namespace mx
