// Scalar math functors for elementwise ops: one definition for the CPU and (under nvcc) the GPU.
//
// Unary functors (also used for the *_scalar ops, where `s` is the scalar operand; plain unary
// ops ignore it):
//   Map(x, s)   the value
//   Grad(v, s)  dy/dx, from v = x when kGradUsesOutput is false, else from v = y
// Binary functors:
//   Map(a, b), LGrad(a, b) = d/da, RGrad(a, b) = d/db
#ifndef MX_OP_MATH_FUNCTORS_H_
#define MX_OP_MATH_FUNCTORS_H_

#include <math.h>

#include "op/kernel.h"

namespace mx {
namespace math {

// Overloads that resolve to the C library on the host and CUDA's math on the device.
MX_XINLINE float exp(float x) { return ::expf(x); }
MX_XINLINE double exp(double x) { return ::exp(x); }
MX_XINLINE float log(float x) { return ::logf(x); }
MX_XINLINE double log(double x) { return ::log(x); }
MX_XINLINE float log1p(float x) { return ::log1pf(x); }
MX_XINLINE double log1p(double x) { return ::log1p(x); }
MX_XINLINE float sqrt(float x) { return ::sqrtf(x); }
MX_XINLINE double sqrt(double x) { return ::sqrt(x); }
MX_XINLINE float sin(float x) { return ::sinf(x); }
MX_XINLINE double sin(double x) { return ::sin(x); }
MX_XINLINE float cos(float x) { return ::cosf(x); }
MX_XINLINE double cos(double x) { return ::cos(x); }
// float tanh on the host: libm's tanhf is scalar and slow (it was 38% of LeNet's training time),
// so a rational minimax approximation of degree 13/6 on [-7.9, 7.9] (beyond which tanh rounds to
// +-1 in float) is used instead: within a few ulp everywhere, tiny inputs included (p/q ~ x), and
// branch-free so the loops vectorise. double keeps libm's; the device keeps CUDA's tanhf.
MX_XINLINE float tanh(float x) {
#if defined(__CUDA_ARCH__)
  return ::tanhf(x);
#else
  float c = x;  // clamped one side at a time: two selects the vectoriser turns into blends
  c = c < -7.90531110763549805f ? -7.90531110763549805f : c;
  c = c > 7.90531110763549805f ? 7.90531110763549805f : c;
  const float x2 = c * c;
  float p = -2.76076847742355e-16f;
  p = p * x2 + 2.00018790482477e-13f;
  p = p * x2 - 8.60467152213735e-11f;
  p = p * x2 + 5.12229709037114e-08f;
  p = p * x2 + 1.48572235717979e-05f;
  p = p * x2 + 6.37261928875436e-04f;
  p = p * x2 + 4.89352455891786e-03f;
  float q = 1.19825839466702e-06f;
  q = q * x2 + 1.18534705686654e-04f;
  q = q * x2 + 2.26843463243900e-03f;
  q = q * x2 + 4.89352518554385e-03f;
  return c * p / q;
#endif
}
MX_XINLINE double tanh(double x) { return ::tanh(x); }
MX_XINLINE float pow(float a, float b) { return ::powf(a, b); }
MX_XINLINE double pow(double a, double b) { return ::pow(a, b); }
MX_XINLINE float fabs(float x) { return ::fabsf(x); }
MX_XINLINE double fabs(double x) { return ::fabs(x); }

}  // namespace math

namespace fn {

#define MX_UNARY(NAME, USES_OUT, VALUE, GRAD)         \
  struct NAME {                                       \
    static constexpr bool kGradUsesOutput = USES_OUT; \
    template <typename T>                             \
    MX_XINLINE static T Map(T x, T s) {               \
      (void)s;                                        \
      return VALUE;                                   \
    }                                                 \
    template <typename T>                             \
    MX_XINLINE static T Grad(T v, T s) {              \
      (void)v;                                        \
      (void)s;                                        \
      return GRAD;                                    \
    }                                                 \
  }

// clang-format off
// Plain unary math. Grad's argument is x unless the second field says the output is used.
MX_UNARY(Identity, false, x, T(1));
MX_UNARY(Negative, false, -x, T(-1));
MX_UNARY(Abs, false, math::fabs(x), T(v > 0 ? 1 : (v < 0 ? -1 : 0)));
MX_UNARY(Sign, false, T(x > 0 ? 1 : (x < 0 ? -1 : 0)), T(0));
MX_UNARY(Exp, true, math::exp(x), v);
MX_UNARY(Log, false, math::log(x), T(1) / v);
MX_UNARY(Sqrt, true, math::sqrt(x), T(0.5) / v);
MX_UNARY(Square, false, x * x, T(2) * v);
MX_UNARY(Rsqrt, true, T(1) / math::sqrt(x), T(-0.5) * v * v * v);
MX_UNARY(Sin, false, math::sin(x), math::cos(v));
MX_UNARY(Cos, false, math::cos(x), -math::sin(v));
MX_UNARY(Tanh, true, math::tanh(x), T(1) - v * v);
// sigmoid(x) = (1 + tanh(x/2)) / 2: the same function without a scalar expf per element.
MX_UNARY(Sigmoid, true, T(0.5) + T(0.5) * math::tanh(T(0.5) * x), v * (T(1) - v));
MX_UNARY(Relu, true, T(x > 0 ? x : 0), T(v > 0 ? 1 : 0));
// log(1 + e^x), computed without overflow for large x; its derivative is sigmoid(x) = 1 - e^-y.
MX_UNARY(SoftRelu, true, T(x > 20 ? x : math::log1p(math::exp(x))), T(1) - math::exp(-v));

// With a scalar operand s.
MX_UNARY(PlusScalar, false, x + s, T(1));
MX_UNARY(MinusScalar, false, x - s, T(1));
MX_UNARY(RMinusScalar, false, s - x, T(-1));
MX_UNARY(MulScalar, false, x * s, s);
MX_UNARY(DivScalar, false, x / s, T(1) / s);
MX_UNARY(RDivScalar, false, s / x, -s / (v * v));
MX_UNARY(PowerScalar, false, math::pow(x, s), s * math::pow(v, s - T(1)));
MX_UNARY(RPowerScalar, true, math::pow(s, x), v * math::log(s));
MX_UNARY(MaximumScalar, false, T(x > s ? x : s), T(v >= s ? 1 : 0));
MX_UNARY(MinimumScalar, false, T(x < s ? x : s), T(v <= s ? 1 : 0));
MX_UNARY(EqualScalar, false, T(x == s ? 1 : 0), T(0));
MX_UNARY(NotEqualScalar, false, T(x != s ? 1 : 0), T(0));
MX_UNARY(GreaterScalar, false, T(x > s ? 1 : 0), T(0));
MX_UNARY(GreaterEqualScalar, false, T(x >= s ? 1 : 0), T(0));
MX_UNARY(LesserScalar, false, T(x < s ? 1 : 0), T(0));
MX_UNARY(LesserEqualScalar, false, T(x <= s ? 1 : 0), T(0));
// clang-format on
#undef MX_UNARY

#define MX_BINARY(NAME, VALUE, LGRAD, RGRAD) \
  struct NAME {                              \
    template <typename T>                    \
    MX_XINLINE static T Map(T a, T b) {      \
      return VALUE;                          \
    }                                        \
    template <typename T>                    \
    MX_XINLINE static T LGrad(T a, T b) {    \
      (void)a;                               \
      (void)b;                               \
      return LGRAD;                          \
    }                                        \
    template <typename T>                    \
    MX_XINLINE static T RGrad(T a, T b) {    \
      (void)a;                               \
      (void)b;                               \
      return RGRAD;                          \
    }                                        \
  }

// clang-format off
MX_BINARY(Plus, a + b, T(1), T(1));
MX_BINARY(Minus, a - b, T(1), T(-1));
MX_BINARY(Mul, a * b, b, a);
MX_BINARY(Div, a / b, T(1) / b, -a / (b * b));
MX_BINARY(Power, math::pow(a, b), b * math::pow(a, b - T(1)), math::pow(a, b) * math::log(a));
MX_BINARY(Maximum, T(a > b ? a : b), T(a >= b ? 1 : 0), T(a < b ? 1 : 0));
MX_BINARY(Minimum, T(a < b ? a : b), T(a <= b ? 1 : 0), T(a > b ? 1 : 0));
MX_BINARY(Equal, T(a == b ? 1 : 0), T(0), T(0));
MX_BINARY(NotEqual, T(a != b ? 1 : 0), T(0), T(0));
MX_BINARY(Greater, T(a > b ? 1 : 0), T(0), T(0));
MX_BINARY(GreaterEqual, T(a >= b ? 1 : 0), T(0), T(0));
MX_BINARY(Lesser, T(a < b ? 1 : 0), T(0), T(0));
MX_BINARY(LesserEqual, T(a <= b ? 1 : 0), T(0), T(0));
// clang-format on
#undef MX_BINARY

}  // namespace fn
}  // namespace mx

#endif  // MX_OP_MATH_FUNCTORS_H_
