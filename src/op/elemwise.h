// Elementwise kernels shared by the unary, scalar, binary and broadcast op families.
#ifndef MX_OP_ELEMWISE_H_
#define MX_OP_ELEMWISE_H_

#include <dmlc/parameter.h>

#include <type_traits>
#include <vector>

#include "op/kernel.h"
#include "op/math_functors.h"
#include "op/op_util.h"

namespace mx {

// Runs `...` with `T` bound to any type but float16 (which has no arithmetic yet).
#define MX_NUMERIC_TYPE_SWITCH(dtype, T, opname, ...)                                   \
  switch (dtype) {                                                                      \
    case ::mx::DType::kFloat32: {                                                       \
      using T = float;                                                                  \
      __VA_ARGS__;                                                                      \
      break;                                                                            \
    }                                                                                   \
    case ::mx::DType::kFloat64: {                                                       \
      using T = double;                                                                 \
      __VA_ARGS__;                                                                      \
      break;                                                                            \
    }                                                                                   \
    case ::mx::DType::kUint8: {                                                         \
      using T = uint8_t;                                                                \
      __VA_ARGS__;                                                                      \
      break;                                                                            \
    }                                                                                   \
    case ::mx::DType::kInt8: {                                                          \
      using T = int8_t;                                                                 \
      __VA_ARGS__;                                                                      \
      break;                                                                            \
    }                                                                                   \
    case ::mx::DType::kInt32: {                                                         \
      using T = int32_t;                                                                \
      __VA_ARGS__;                                                                      \
      break;                                                                            \
    }                                                                                   \
    case ::mx::DType::kInt64: {                                                         \
      using T = int64_t;                                                                \
      __VA_ARGS__;                                                                      \
      break;                                                                            \
    }                                                                                   \
    default:                                                                            \
      MX_THROW(kUnsupported) << "operator '" << (opname) << "' does not support dtype " \
                             << ::mx::DTypeName(dtype);                                 \
  }

// The scalar operand of the *_scalar ops.
struct ScalarParam : public dmlc::Parameter<ScalarParam> {
  double scalar;
  DMLC_DECLARE_PARAMETER(ScalarParam) {
    DMLC_DECLARE_FIELD(scalar).describe("The scalar operand.");
  }
};

template <typename F, OpReq Req>
struct UnaryKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* out, const T* in, T s) {
    Assign<Req>(out[i], F::Map(in[i], s));
  }
};

template <typename F, OpReq Req>
struct UnaryGradKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* igrad, const T* ograd, const T* v, T s) {
    Assign<Req>(igrad[i], T(ograd[i] * F::Grad(v[i], s)));
  }
};

template <typename F, OpReq Req>
struct BinaryKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* out, const T* a, const T* b) {
    Assign<Req>(out[i], F::Map(a[i], b[i]));
  }
};

template <typename F, OpReq Req, bool kLeft>
struct BinaryGradKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* grad, const T* ograd, const T* a, const T* b) {
    Assign<Req>(grad[i], T(ograd[i] * (kLeft ? F::LGrad(a[i], b[i]) : F::RGrad(a[i], b[i]))));
  }
};

// The scalar parameter of a *_scalar op, or 0 for plain unary ops.
inline double ScalarOf(const NodeAttrs& attrs) {
  const ScalarParam* p = std::any_cast<ScalarParam>(&attrs.parsed);
  return p != nullptr ? p->scalar : 0.0;
}

// Forward of a unary or scalar op: out = F(in, scalar). `kReal` restricts to float types (math
// functions); otherwise every numeric type.
template <typename F, bool kReal>
void UnaryCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                  const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const double s = ScalarOf(attrs);
  const int64_t n = out[0].Size();
  if constexpr (kReal) {
    MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
      MX_REQ_SWITCH(req[0], Req, {
        Kernel<UnaryKernel<F, Req>>::Launch(ctx, n, out[0].data<T>(), in[0].data<T>(), T(s));
      });
    });
  } else {
    MX_NUMERIC_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
      MX_REQ_SWITCH(req[0], Req, {
        Kernel<UnaryKernel<F, Req>>::Launch(ctx, n, out[0].data<T>(), in[0].data<T>(), T(s));
      });
    });
  }
}

// Backward of a unary op: inputs (ograd, v) where v is x or y (F::kGradUsesOutput).
template <typename F>
void UnaryGradCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                      const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const double s = ScalarOf(attrs);
  const int64_t n = out[0].Size();
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<UnaryGradKernel<F, Req>>::Launch(ctx, n, out[0].data<T>(), in[0].data<T>(),
                                              in[1].data<T>(), T(s));
    });
  });
}

}  // namespace mx

#endif  // MX_OP_ELEMWISE_H_
