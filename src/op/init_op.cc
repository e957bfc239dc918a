// Ops that create arrays: constants (_zeros, _ones, _full, _arange, zeros_like, ones_like) and
// random draws (_random_uniform, _random_normal).
//
// The creation ops have no inputs: their shape and dtype come from parameters, and the device
// from the caller (Invoke's ctx); the ctx parameter is accepted, as in MXNet, and only checked.
// Random ops draw from the device's counter-based generator (ResourceType::kRandom): each call
// reserves a block of draws and element i uses draw base + i, so a parallel fill gives the same
// numbers for any thread count, and reseeding gives the same numbers again.
// dmlc::optional (arange's stop) trips GCC 12's -Wmaybe-uninitialized inside the dmlc headers,
// a false positive emitted at code generation, hence silenced for the file.
#if defined(__GNUC__) && !defined(__clang__)  // clang has no such warning (the fuzz build)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <dmlc/optional.h>

#include <cmath>
#include <cstring>
#include <sstream>

#include "op/all_ops.h"
#include "op/cuda_util.h"
#include "op/fill.h"
#include "op/matrix_ops.h"
#include "op/param_types.h"

namespace mx {
namespace {

using matrix::AddDTypeEnums;

constexpr int kDefaultDType = static_cast<int>(DType::kFloat32);

// ctx is "" or "cpu(0)", "gpu(1)", "cpu_pinned(0)".
void CheckContextString(const std::string& s) {
  if (s.empty()) return;
  for (const char* type : {"cpu", "gpu", "cpu_pinned"}) {
    const std::string prefix = std::string(type) + "(";
    if (s.compare(0, prefix.size(), prefix) != 0 || s.back() != ')') continue;
    const std::string id = s.substr(prefix.size(), s.size() - prefix.size() - 1);
    if (!id.empty() && id.size() < 9 && id.find_first_not_of("0123456789") == std::string::npos) {
      return;
    }
  }
  MX_THROW(kInvalidArgument) << "ctx='" << s << "' is not a device (e.g. cpu(0), gpu(0))";
}

Shape ShapeParam(const Tuple& t) {
  std::ostringstream os;
  os << t;
  MX_CHECK(static_cast<int>(t.size()) <= Shape::kMaxNDim, kInvalidArgument)
      << "shape=" << os.str() << " has more than " << Shape::kMaxNDim << " dims";
  for (int64_t d : t.v) {
    MX_CHECK(d >= 0, kInvalidArgument) << "shape=" << os.str() << " has a negative dim";
  }
  return t.ToShape();
}

#define MX_INIT_COMMON_FIELDS                                                      \
  DMLC_DECLARE_FIELD(shape).set_default(Tuple()).describe("The output's shape.");  \
  DMLC_DECLARE_FIELD(ctx).set_default("").describe(                                \
      "The device, e.g. cpu(0) (the caller places the output; accepted for MXNet " \
      "compatibility).");                                                          \
  AddDTypeEnums(DMLC_DECLARE_FIELD(dtype))                                         \
      .set_default(kDefaultDType)                                                  \
      .describe("The output's element type.")

struct InitParam : public dmlc::Parameter<InitParam> {
  Tuple shape;
  std::string ctx;
  int dtype;
  DMLC_DECLARE_PARAMETER(InitParam) { MX_INIT_COMMON_FIELDS; }
};

struct FullParam : public dmlc::Parameter<FullParam> {
  Tuple shape;
  std::string ctx;
  int dtype;
  double value;
  DMLC_DECLARE_PARAMETER(FullParam) {
    MX_INIT_COMMON_FIELDS;
    DMLC_DECLARE_FIELD(value).describe("The value of every element.");
  }
};

struct UniformParam : public dmlc::Parameter<UniformParam> {
  Tuple shape;
  std::string ctx;
  int dtype;
  double low, high;
  DMLC_DECLARE_PARAMETER(UniformParam) {
    MX_INIT_COMMON_FIELDS;
    DMLC_DECLARE_FIELD(low).set_default(0.0).describe("The lower bound (included).");
    DMLC_DECLARE_FIELD(high).set_default(1.0).describe("The upper bound (excluded).");
  }
};

struct NormalParam : public dmlc::Parameter<NormalParam> {
  Tuple shape;
  std::string ctx;
  int dtype;
  double loc, scale;
  DMLC_DECLARE_PARAMETER(NormalParam) {
    MX_INIT_COMMON_FIELDS;
    DMLC_DECLARE_FIELD(loc).set_default(0.0).describe("The mean.");
    DMLC_DECLARE_FIELD(scale).set_default(1.0).describe("The standard deviation (>= 0).");
  }
};

struct ArangeParam : public dmlc::Parameter<ArangeParam> {
  double start;
  dmlc::optional<double> stop;
  double step;
  int repeat;
  std::string ctx;
  int dtype;
  DMLC_DECLARE_PARAMETER(ArangeParam) {
    DMLC_DECLARE_FIELD(start).describe("The first value (or the end, when stop is None).");
    DMLC_DECLARE_FIELD(stop)
        .set_default(dmlc::optional<double>())
        .describe("The end (excluded); None means the range is [0, start).");
    DMLC_DECLARE_FIELD(step).set_default(1.0).describe("The spacing between values (not 0).");
    DMLC_DECLARE_FIELD(repeat).set_default(1).set_lower_bound(1).describe(
        "How many times each value is repeated in a row.");
    DMLC_DECLARE_FIELD(ctx).set_default("").describe(
        "The device, e.g. cpu(0) (the caller places the output; accepted for MXNet "
        "compatibility).");
    AddDTypeEnums(DMLC_DECLARE_FIELD(dtype))
        .set_default(kDefaultDType)
        .describe("The output's element type.");
  }
};

#undef MX_INIT_COMMON_FIELDS

// Shape and type of a creation op with parameter struct P (which has shape, ctx and dtype).
template <typename P>
bool InitShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const P& p = attrs.get<P>();
  CheckContextString(p.ctx);
  AssignShape(out, 0, ShapeParam(p.shape), "output");
  return true;
}

template <typename P>
bool InitType(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  const int t = attrs.get<P>().dtype;
  MX_CHECK((*out)[0] < 0 || (*out)[0] == t, kInvalidArgument)
      << "output is " << DTypeName(static_cast<DType>((*out)[0])) << ", expected "
      << DTypeName(static_cast<DType>(t)) << " (dtype)";
  (*out)[0] = t;
  return true;
}

template <OpReq Req>
struct FillKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* out, T v) {
    Assign<Req>(out[i], v);
  }
};

FCompute FillCompute(double value) {
  return [value](const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>&,
                 const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
    FillBlob(ctx.run, out[0], req[0], value, attrs.op->name.c_str());
  };
}

// ---- arange ----

// The number of distinct values of an arange call.
int64_t ArangeCount(const ArangeParam& p) {
  const double start = p.stop.has_value() ? p.start : 0.0;
  const double stop = p.stop.has_value() ? p.stop.value() : p.start;
  MX_CHECK(p.step != 0, kInvalidArgument) << "step must not be 0";
  const double count = std::ceil((stop - start) / p.step);
  MX_CHECK(count > 0 && count < 1e15, kInvalidArgument)
      << "start=" << start << ", stop=" << stop << ", step=" << p.step
      << " do not give a non-empty range";
  return static_cast<int64_t>(count);
}

bool ArangeShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const auto& p = attrs.get<ArangeParam>();
  CheckContextString(p.ctx);
  int64_t n = 0;
  MX_CHECK(!__builtin_mul_overflow(ArangeCount(p), int64_t{p.repeat}, &n), kInvalidArgument)
      << ArangeCount(p) << " values repeated repeat=" << p.repeat
      << " times is more elements than fit in 64 bits";
  AssignShape(out, 0, Shape{n}, "output");
  return true;
}

// Element i is value i / repeat of the range, computed from its index in double (not
// accumulated), so errors do not grow along the range.
template <OpReq Req>
struct ArangeKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* out, double start, double step, int64_t repeat) {
    Assign<Req>(out[i], static_cast<T>(start + static_cast<double>(i / repeat) * step));
  }
};

void ArangeCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>&,
                   const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const auto& p = attrs.get<ArangeParam>();
  const double start = p.stop.has_value() ? p.start : 0.0;
  MX_NUMERIC_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<ArangeKernel<Req>>::Launch(ctx, out[0].Size(), out[0].data<T>(), start, p.step,
                                        int64_t{p.repeat});
    });
  });
}

// ---- random ----

// Uniform in [0, 1) with the precision of T.
template <typename T>
MX_XINLINE T UniformAt(const RandomGenerator& g, uint64_t i) {
  if constexpr (sizeof(T) == sizeof(float)) {
    return g.Uniform(i);
  } else {
    return static_cast<T>((g.Bits(i) >> 11) * (1.0 / 9007199254740992.0));
  }
}

// The generator is passed by value: its draws are a pure function of (seed, index), so the
// device computes exactly the host's numbers.
template <OpReq Req>
struct UniformKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* out, RandomGenerator g, uint64_t base, T low, T width) {
    Assign<Req>(out[i], T(low + width * UniformAt<T>(g, base + i)));
  }
};

// Box-Muller: draws 2j and 2j+1 give elements 2j and 2j+1.
template <OpReq Req>
struct NormalKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t j, T* out, int64_t n, RandomGenerator g, uint64_t base,
                             double loc, double scale) {
    constexpr double kTwoPi = 6.283185307179586;
    const double u1 = g.UniformOpen(base + 2 * j), u2 = g.UniformOpen(base + 2 * j + 1);
    const double r = scale * ::sqrt(-2.0 * ::log(u1));
    Assign<Req>(out[2 * j], static_cast<T>(loc + r * ::cos(kTwoPi * u2)));
    if (2 * j + 1 < n) Assign<Req>(out[2 * j + 1], static_cast<T>(loc + r * ::sin(kTwoPi * u2)));
  }
};

void UniformCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>&,
                    const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  const auto& p = attrs.get<UniformParam>();
  const int64_t n = out[0].Size();
  RandomGenerator* gen = ctx.Random();
  const uint64_t base = gen->Reserve(static_cast<uint64_t>(n));
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<UniformKernel<Req>>::Launch(ctx, n, out[0].data<T>(), *gen, base, T(p.low),
                                         T(p.high - p.low));
    });
  });
}

void NormalCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>&,
                   const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  const auto& p = attrs.get<NormalParam>();
  const int64_t n = out[0].Size();
  const int64_t pairs = (n + 1) / 2;
  RandomGenerator* gen = ctx.Random();
  const uint64_t base = gen->Reserve(static_cast<uint64_t>(2 * pairs));
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<NormalKernel<Req>>::Launch(ctx, pairs, out[0].data<T>(), n, *gen, base, p.loc,
                                        p.scale);
    });
  });
}

bool UniformShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const auto& p = attrs.get<UniformParam>();
  MX_CHECK(p.low <= p.high, kInvalidArgument)
      << "low=" << p.low << " is greater than high=" << p.high;
  return InitShape<UniformParam>(attrs, in, out);
}

bool NormalShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const auto& p = attrs.get<NormalParam>();
  MX_CHECK(p.scale >= 0, kInvalidArgument) << "scale=" << p.scale << " is negative";
  return InitShape<NormalParam>(attrs, in, out);
}

DMLC_REGISTER_PARAMETER(InitParam);
DMLC_REGISTER_PARAMETER(FullParam);
DMLC_REGISTER_PARAMETER(UniformParam);
DMLC_REGISTER_PARAMETER(NormalParam);
DMLC_REGISTER_PARAMETER(ArangeParam);

template <typename P>
Op& AddCreation(OpRegistry* reg, const std::string& name, const std::string& doc,
                FInferShape shape = InitShape<P>) {
  return reg->Add(name)
      .Describe(doc)
      .SetParam<P>()
      .SetInputs(std::vector<std::string>{})
      .SetNumOutputs(1)
      .SetInferShape(std::move(shape))
      .SetInferType(InitType<P>)
      .SetNotDifferentiable();
}

void AddFillLike(OpRegistry* reg, const std::string& name, const std::string& doc, double v) {
  reg->Add(name)
      .Describe(doc)
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(ElemwiseShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(FillCompute(v), kGpuKernels)
      .SetNotDifferentiable();
}

}  // namespace

void FillBlob(const engine::RunContext& rctx, const TBlob& out, OpReq req, double value,
              const char* what) {
  if (req == OpReq::kNull || (req == OpReq::kAdd && value == 0)) return;
  if (req != OpReq::kAdd && value == 0) {
    // An empty output's data pointer may be null, which memset must not get even for 0 bytes.
    if (out.Bytes() == 0) return;
#if MX_USE_CUDA
    if (rctx.ctx.is_gpu()) {
      cuda::Check(cudaMemsetAsync(out.dptr, 0, out.Bytes(), cuda::StreamOf(rctx)),
                  "cudaMemsetAsync");
      return;
    }
#endif
    std::memset(out.dptr, 0, out.Bytes());
    return;
  }
  MX_NUMERIC_TYPE_SWITCH(out.dtype, T, what, {
    MX_REQ_SWITCH(req, Req, {
      Kernel<FillKernel<Req>>::Launch(rctx, out.Size(), out.data<T>(), static_cast<T>(value));
    });
  });
}

void RegisterInitOps(OpRegistry* reg) {
  AddCreation<InitParam>(reg, "_zeros", "An array of the given shape and dtype filled with 0.")
      .SetComputeAll(FillCompute(0.0), kGpuKernels);
  AddCreation<InitParam>(reg, "_ones", "An array of the given shape and dtype filled with 1.")
      .SetComputeAll(FillCompute(1.0), kGpuKernels);
  AddCreation<FullParam>(reg, "_full", "An array of the given shape and dtype filled with value.")
      .SetComputeAll(
          [](const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>&,
             const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
            FillBlob(ctx.run, out[0], req[0], attrs.get<FullParam>().value, attrs.op->name.c_str());
          },
          kGpuKernels);
  AddCreation<ArangeParam>(
      reg, "_arange",
      "Evenly spaced values start, start+step, ... below stop (above it for a negative step), "
      "each repeated repeat times: a 1-D array of ceil((stop-start)/step)*repeat elements.",
      ArangeShape)
      .SetComputeAll(ArangeCompute, kGpuKernels);
  AddCreation<UniformParam>(reg, "_random_uniform",
                            "Random numbers drawn uniformly from [low, high), from the seeded "
                            "generator of the device.",
                            UniformShape)
      .SetResources({ResourceType::kRandom})
      .SetComputeAll(UniformCompute, kGpuKernels);
  AddCreation<NormalParam>(reg, "_random_normal",
                           "Random numbers from the normal distribution N(loc, scale^2), from "
                           "the seeded generator of the device.",
                           NormalShape)
      .SetResources({ResourceType::kRandom})
      .SetComputeAll(NormalCompute, kGpuKernels);

  AddFillLike(reg, "zeros_like", "An array of zeros with the shape and dtype of data.", 0.0);
  AddFillLike(reg, "ones_like", "An array of ones with the shape and dtype of data.", 1.0);
}

}  // namespace mx
