// Cases for Convolution: 1-D and 2-D, stride, padding, dilation, groups, 1x1, no_bias; a direct
// float64 reference; shape inference and its errors.
#include <gtest/gtest.h>

#include "graph/symbol.h"
#include "op/convolution.h"
#include "op/invoke.h"
#include "op_harness.h"

namespace mx {
namespace test {
namespace {

struct Geo {
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
};

// Direct convolution: y[n, f, oy, ox] = b[f] + sum_{c, ky, kx} x[n, g*cg + c, iy, ix] w[f, c, ky,
// kx] with iy = oy*sh - ph + ky*dh (zero outside), over NCHW shapes (1-D data has h = 1).
std::vector<double> ConvRef(const std::vector<double>& x, const std::vector<double>& w,
                            const std::vector<double>* b, int64_t n, int64_t c, int64_t h,
                            int64_t wd, int64_t f, int64_t groups, const Geo& g) {
  const int64_t oh = (h + 2 * g.ph - g.dh * (g.kh - 1) - 1) / g.sh + 1;
  const int64_t ow = (wd + 2 * g.pw - g.dw * (g.kw - 1) - 1) / g.sw + 1;
  const int64_t cg = c / groups, fg = f / groups;
  std::vector<double> y(n * f * oh * ow);
  for (int64_t in = 0; in < n; ++in)
    for (int64_t of = 0; of < f; ++of)
      for (int64_t oy = 0; oy < oh; ++oy)
        for (int64_t ox = 0; ox < ow; ++ox) {
          double s = b ? (*b)[of] : 0.0;
          const int64_t grp = of / fg;
          for (int64_t ic = 0; ic < cg; ++ic)
            for (int64_t ky = 0; ky < g.kh; ++ky)
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                const int64_t iy = oy * g.sh - g.ph + ky * g.dh;
                const int64_t ix = ox * g.sw - g.pw + kx * g.dw;
                if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                s += x[((in * c + grp * cg + ic) * h + iy) * wd + ix] *
                     w[((of * cg + ic) * g.kh + ky) * g.kw + kx];
              }
          y[((in * f + of) * oh + oy) * ow + ox] = s;
        }
  return y;
}

std::string T2(int64_t a, int64_t b) {
  return "(" + std::to_string(a) + "," + std::to_string(b) + ")";
}

OpCase Conv2D(int64_t n, int64_t c, int64_t h, int64_t w, int64_t f, Geo g, int64_t groups = 1,
              bool bias = true) {
  std::map<std::string, std::string> p{{"kernel", T2(g.kh, g.kw)},
                                       {"num_filter", std::to_string(f)}};
  if (g.sh != 1 || g.sw != 1) p["stride"] = T2(g.sh, g.sw);
  if (g.ph != 0 || g.pw != 0) p["pad"] = T2(g.ph, g.pw);
  if (g.dh != 1 || g.dw != 1) p["dilate"] = T2(g.dh, g.dw);
  if (groups != 1) p["num_group"] = std::to_string(groups);
  if (!bias) p["no_bias"] = "true";
  std::vector<Shape> shapes{Shape{n, c, h, w}, Shape{f, c / groups, g.kh, g.kw}};
  if (bias) shapes.push_back(Shape{f});
  return OpCase("Convolution", shapes, p)
      .Ref([=](const Vals& x) {
        return Vals{ConvRef(x[0], x[1], bias ? &x[2] : nullptr, n, c, h, w, f, groups, g)};
      })
      .Tol(1e-4, 1e-5);
}

MX_OP_CASES(convolution) {
  std::vector<OpCase> cases{
      Conv2D(2, 3, 6, 5, 4, {3, 3, 1, 1, 0, 0, 1, 1}),
      Conv2D(2, 2, 7, 6, 3, {3, 2, 2, 1, 1, 0, 1, 1}),     // stride and asymmetric padding
      Conv2D(1, 2, 7, 7, 2, {3, 3, 1, 1, 2, 2, 2, 2}),     // dilation with padding
      Conv2D(2, 4, 5, 5, 6, {3, 3, 2, 2, 1, 1, 1, 1}, 2),  // groups
      Conv2D(2, 4, 3, 4, 6, {1, 1, 1, 1, 0, 0, 1, 1}, 2),  // 1x1: no unfolding
      Conv2D(3, 2, 4, 4, 2, {1, 1, 2, 2, 0, 0, 1, 1}),     // 1x1 with stride: unfolded
      Conv2D(2, 3, 5, 5, 2, {2, 2, 1, 1, 0, 0, 1, 1}, 1, false),
      // The direct kernel's shapes (at most 4 channels, stride 1; float32 takes it): LeNet's
      // first layer, the ResNet stem's, 4 vectors per row, a masked tail with a 2x3 window and
      // uneven padding, filters left over from blocks of 4, 1 output column.
      Conv2D(2, 1, 28, 28, 20, {5, 5, 1, 1, 0, 0, 1, 1}),
      Conv2D(2, 1, 28, 28, 16, {3, 3, 1, 1, 1, 1, 1, 1}),
      Conv2D(1, 2, 6, 64, 5, {3, 3, 1, 1, 1, 1, 1, 1}),
      Conv2D(1, 4, 5, 40, 6, {2, 3, 1, 1, 0, 2, 1, 1}, 1, false),
      Conv2D(3, 3, 5, 5, 7, {5, 5, 1, 1, 0, 0, 1, 1}),
  };
  // 1-D: (N, C, W) with a kernel of one value.
  const Geo g1{1, 3, 1, 2, 0, 1, 1, 1};
  cases.push_back(
      OpCase("Convolution", {Shape{2, 3, 9}, Shape{4, 3, 3}, Shape{4}},
             {{"kernel", "(3,)"}, {"stride", "(2,)"}, {"pad", "(1,)"}, {"num_filter", "4"}})
          .Ref([g1](const Vals& x) {
            return Vals{ConvRef(x[0], x[1], &x[2], 2, 3, 1, 9, 4, 1, g1)};
          })
          .Tol(1e-4, 1e-5));
  return cases;
}

// The registered cases check the direct kernel (float32 against the float64 reference) only if
// it takes them.
TEST(Convolution, FewChannelsTakeTheDirectKernel) {
  if (!__builtin_cpu_supports("avx512f")) GTEST_SKIP() << "the direct kernel needs AVX-512";
  const uint64_t before = DirectConvCalls();
  NDArray x =
      MakeArray(Shape{2, 1, 28, 28}, std::vector<double>(2 * 28 * 28, 1.0), DType::kFloat32);
  NDArray w = MakeArray(Shape{16, 1, 3, 3}, std::vector<double>(16 * 9, 0.5), DType::kFloat32);
  NDArray b = MakeArray(Shape{16}, std::vector<double>(16, 0.25), DType::kFloat32);
  const std::vector<NDArray> y = RunOp(
      "Convolution", {{"kernel", "(3,3)"}, {"pad", "(1,1)"}, {"num_filter", "16"}}, {x, w, b});
  const std::vector<double> v = ToVector(y[0]);
  EXPECT_EQ(DirectConvCalls(), before + 1);
  EXPECT_DOUBLE_EQ(v[0], 0.25 + 4 * 0.5);            // corner: 4 taps inside
  EXPECT_DOUBLE_EQ(v[28 + 1], 0.25 + 9 * 0.5);       // interior
  EXPECT_DOUBLE_EQ(v[28 * 28 - 1], 0.25 + 4 * 0.5);  // last column of the masked tail
}

TEST(Convolution, InfersWeightBiasAndOutputShapes) {
  Symbol net = Symbol::CreateOp("Convolution", {{"kernel", "(5,5)"}, {"num_filter", "20"}});
  net.Compose({Symbol::Variable("data")}, {}, "conv1");
  EXPECT_EQ(net.ListArguments(), (std::vector<std::string>{"data", "conv1_weight", "conv1_bias"}));
}

TEST(Convolution, ShapeErrorsNameTheProblem) {
  auto fails = [](std::map<std::string, std::string> p, std::vector<Shape> shapes,
                  const std::string& want) {
    std::vector<NDArray> in;
    for (const Shape& s : shapes) in.push_back(NDArray(s, Context::CPU(), DType::kFloat32));
    try {
      RunOp("Convolution", p, in);
      ADD_FAILURE() << "expected an error containing '" << want << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("Convolution"), std::string::npos) << e.what();
    }
  };
  fails({{"kernel", "(3,3)"}, {"num_filter", "2"}}, {Shape{1, 3, 8}, Shape{2, 3, 3, 3}, Shape{2}},
        "must be 4-D");
  fails({{"kernel", "(3,3)"}, {"num_filter", "2"}},
        {Shape{1, 3, 8, 8}, Shape{2, 4, 3, 3}, Shape{2}}, "input 'weight'");
  fails({{"kernel", "(9,9)"}, {"num_filter", "2"}},
        {Shape{1, 1, 4, 4}, Shape{2, 1, 9, 9}, Shape{2}}, "larger than the padded input");
  fails({{"kernel", "(3,3)"}, {"num_filter", "3"}, {"num_group", "2"}},
        {Shape{1, 4, 8, 8}, Shape{3, 2, 3, 3}, Shape{3}}, "not divisible by num_group");
  fails({{"kernel", "(3,3)"}, {"stride", "(1,1,1)"}, {"num_filter", "2"}},
        {Shape{1, 1, 8, 8}, Shape{2, 1, 3, 3}, Shape{2}}, "stride (1,1,1) must have 2 values");
  fails({{"kernel", "(3,3,3)"}, {"num_filter", "2"}},
        {Shape{1, 1, 8, 8, 8}, Shape{2, 1, 3, 3, 3}, Shape{2}}, "must have 1 (NCW data) or 2");
  // The library keeps working afterwards.
  std::vector<NDArray> ok{MakeArray(Shape{1, 1, 3, 3}, std::vector<double>(9, 1.0)),
                          MakeArray(Shape{1, 1, 3, 3}, std::vector<double>(9, 2.0))};
  EXPECT_EQ(ToVector(RunOp("Convolution",
                           {{"kernel", "(3,3)"}, {"num_filter", "1"}, {"no_bias", "1"}}, ok)[0]),
            std::vector<double>{18.0});
}

}  // namespace
}  // namespace test
}  // namespace mx
