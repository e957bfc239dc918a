// Cases for Deconvolution (transposed convolution): stride, pad, adj, target_shape, dilation,
// groups, bias, 1-D; a direct scatter reference in float64.
#include <gtest/gtest.h>

#include "op_harness.h"

namespace mx {
namespace test {
namespace {

struct DGeo {
  int64_t kh, kw, sh, sw, ph, pw, dh = 1, dw = 1, ah = 0, aw = 0;
};

// Each input pixel scatters its kernel-weighted value: y[n, g*fg+f, iy*sh - ph + ky*dh, ...] +=
// x[n, g*cg+c, iy, ix] * w[g*cg+c, f, ky, kx].
std::vector<double> DeconvRef(const std::vector<double>& x, const std::vector<double>& w,
                              const std::vector<double>* b, int64_t n, int64_t c, int64_t h,
                              int64_t wd, int64_t f, int64_t groups, const DGeo& g) {
  const int64_t oh = (h - 1) * g.sh - 2 * g.ph + g.dh * (g.kh - 1) + 1 + g.ah;
  const int64_t ow = (wd - 1) * g.sw - 2 * g.pw + g.dw * (g.kw - 1) + 1 + g.aw;
  const int64_t cg = c / groups, fg = f / groups;
  std::vector<double> y(n * f * oh * ow, 0.0);
  for (int64_t in = 0; in < n; ++in)
    for (int64_t ic = 0; ic < c; ++ic)
      for (int64_t iy = 0; iy < h; ++iy)
        for (int64_t ix = 0; ix < wd; ++ix)
          for (int64_t of = 0; of < fg; ++of)
            for (int64_t ky = 0; ky < g.kh; ++ky)
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                const int64_t oy = iy * g.sh - g.ph + ky * g.dh;
                const int64_t ox = ix * g.sw - g.pw + kx * g.dw;
                if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                const int64_t grp = ic / cg;
                y[((in * f + grp * fg + of) * oh + oy) * ow + ox] +=
                    x[((in * c + ic) * h + iy) * wd + ix] *
                    w[((ic * fg + of) * g.kh + ky) * g.kw + kx];
              }
  if (b)
    for (int64_t i = 0; i < n * f; ++i)
      for (int64_t j = 0; j < oh * ow; ++j) y[i * oh * ow + j] += (*b)[i % f];
  return y;
}

std::string T2(int64_t a, int64_t b) {
  return "(" + std::to_string(a) + "," + std::to_string(b) + ")";
}

OpCase Deconv(int64_t n, int64_t c, int64_t h, int64_t w, int64_t f, DGeo g, int64_t groups = 1,
              bool bias = false, std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> p{{"kernel", T2(g.kh, g.kw)},
                                       {"num_filter", std::to_string(f)}};
  if (g.sh != 1 || g.sw != 1) p["stride"] = T2(g.sh, g.sw);
  if (g.ph != 0 || g.pw != 0) p["pad"] = T2(g.ph, g.pw);
  if (g.dh != 1 || g.dw != 1) p["dilate"] = T2(g.dh, g.dw);
  if ((g.ah != 0 || g.aw != 0) && !extra.count("target_shape")) p["adj"] = T2(g.ah, g.aw);
  if (groups != 1) p["num_group"] = std::to_string(groups);
  if (bias) p["no_bias"] = "false";
  for (auto& kv : extra) p[kv.first] = kv.second;
  std::vector<Shape> shapes{Shape{n, c, h, w}, Shape{c, f / groups, g.kh, g.kw}};
  if (bias) shapes.push_back(Shape{f});
  return OpCase("Deconvolution", shapes, p)
      .Ref([=](const Vals& x) {
        return Vals{DeconvRef(x[0], x[1], bias ? &x[2] : nullptr, n, c, h, w, f, groups, g)};
      })
      .Tol(1e-4, 1e-5);
}

MX_OP_CASES(deconvolution) {
  std::vector<OpCase> cases{
      Deconv(2, 3, 3, 4, 2, {3, 3, 1, 1, 0, 0}),
      Deconv(1, 2, 3, 3, 3, {4, 4, 2, 2, 1, 1}, 1, true),        // 2x upsampling
      Deconv(1, 2, 3, 3, 2, {3, 3, 2, 2, 1, 1, 1, 1, 1, 1}),     // adj
      Deconv(2, 4, 3, 3, 4, {3, 3, 2, 1, 0, 1, 2, 1}, 2, true),  // dilation, groups
  };
  // target_shape (7, 6) from a 3x3 input, kernel 3, stride 2: pad and adj follow from it.
  cases.push_back(
      Deconv(1, 2, 3, 3, 2, {3, 3, 2, 2, 0, 1, 1, 1, 0, 1}, 1, false, {{"target_shape", "(7,6)"}}));
  cases.push_back(
      OpCase("Deconvolution", {Shape{2, 2, 5}, Shape{2, 3, 3}},
             {{"kernel", "(3,)"}, {"stride", "(2,)"}, {"num_filter", "3"}})
          .Ref([](const Vals& x) {
            return Vals{DeconvRef(x[0], x[1], nullptr, 2, 2, 1, 5, 3, 1, {1, 3, 1, 2, 0, 0})};
          })
          .Tol(1e-4, 1e-5));
  return cases;
}

TEST(Deconvolution, TargetShapeAndErrors) {
  NDArray x(Shape{1, 2, 3, 3}, Context::CPU(), DType::kFloat32);
  NDArray w(Shape{2, 2, 3, 3}, Context::CPU(), DType::kFloat32);
  x.Fill(1);
  w.Fill(1);
  const std::vector<NDArray> out = RunOp(
      "Deconvolution",
      {{"kernel", "(3,3)"}, {"stride", "(2,2)"}, {"num_filter", "2"}, {"target_shape", "(6,6)"}},
      {x, w});
  EXPECT_EQ(out[0].shape(), (Shape{1, 2, 6, 6}));
  EXPECT_THROW(RunOp("Deconvolution",
                     {{"kernel", "(3,3)"}, {"num_filter", "2"}, {"target_shape", "(9,9)"}}, {x, w}),
               Error);
  EXPECT_THROW(
      RunOp("Deconvolution", {{"kernel", "(3,3)"}, {"num_filter", "2"}, {"adj", "(1,1)"}}, {x, w}),
      Error)
      << "adj must be smaller than the stride";
  EXPECT_THROW(RunOp("Deconvolution", {{"kernel", "(3,3)"}, {"num_filter", "2"}},
                     {x, NDArray(Shape{2, 3, 3, 3}, Context::CPU(), DType::kFloat32)}),
               Error);
}

}  // namespace
}  // namespace test
}  // namespace mx
