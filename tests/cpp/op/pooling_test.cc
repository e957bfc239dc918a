// Cases for Pooling: max/avg/sum, 1-D and 2-D, stride, padding, valid and full conventions,
// count_include_pad, global pooling; a direct float64 reference; shape errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "op/invoke.h"
#include "op_harness.h"

namespace mx {
namespace test {
namespace {

struct PoolGeo {
  int64_t kh, kw, sh, sw, ph, pw;
  bool full = false;
};

// Pools every (n, c) plane of an (planes, h, w) array; `type` is "max", "avg" or "sum".
std::vector<double> PoolRef(const std::vector<double>& x, int64_t planes, int64_t h, int64_t w,
                            const PoolGeo& g, const std::string& type, bool include_pad = true) {
  auto extent = [&](int64_t in, int64_t k, int64_t s, int64_t p) {
    const double r = static_cast<double>(in + 2 * p - k) / s;
    return static_cast<int64_t>(g.full ? std::ceil(r) : std::floor(r)) + 1;
  };
  const int64_t oh = extent(h, g.kh, g.sh, g.ph), ow = extent(w, g.kw, g.sw, g.pw);
  std::vector<double> y;
  for (int64_t pl = 0; pl < planes; ++pl) {
    for (int64_t oy = 0; oy < oh; ++oy) {
      for (int64_t ox = 0; ox < ow; ++ox) {
        double mx = -std::numeric_limits<double>::infinity(), sum = 0;
        int64_t padded = 0, inside = 0;
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            const int64_t iy = oy * g.sh - g.ph + ky, ix = ox * g.sw - g.pw + kx;
            if (iy >= h + g.ph || ix >= w + g.pw) continue;  // beyond the padded data (full)
            ++padded;
            if (iy < 0 || ix < 0 || iy >= h || ix >= w) continue;
            ++inside;
            const double v = x[(pl * h + iy) * w + ix];
            mx = std::max(mx, v);
            sum += v;
          }
        }
        if (type == "max") y.push_back(mx);
        if (type == "sum") y.push_back(sum);
        if (type == "avg") y.push_back(sum / static_cast<double>(include_pad ? padded : inside));
      }
    }
  }
  return y;
}

std::string T2(int64_t a, int64_t b) {
  return "(" + std::to_string(a) + "," + std::to_string(b) + ")";
}

OpCase Pool(Shape s, PoolGeo g, const std::string& type, bool include_pad = true) {
  std::map<std::string, std::string> p{{"kernel", T2(g.kh, g.kw)}, {"pool_type", type}};
  if (g.sh != 1 || g.sw != 1) p["stride"] = T2(g.sh, g.sw);
  if (g.ph != 0 || g.pw != 0) p["pad"] = T2(g.ph, g.pw);
  if (g.full) p["pooling_convention"] = "full";
  if (!include_pad) p["count_include_pad"] = "false";
  return OpCase("Pooling", {s}, p).Ref([=](const Vals& x) {
    return Vals{PoolRef(x[0], s[0] * s[1], s[2], s[3], g, type, include_pad)};
  });
}

MX_OP_CASES(pooling) {
  std::vector<OpCase> cases;
  for (const char* type : {"max", "avg", "sum"}) {
    cases.push_back(Pool(Shape{2, 3, 6, 6}, {2, 2, 2, 2, 0, 0}, type));        // LeNet's pool
    cases.push_back(Pool(Shape{1, 2, 7, 5}, {3, 3, 2, 2, 1, 1}, type));        // padded
    cases.push_back(Pool(Shape{1, 2, 7, 6}, {3, 2, 2, 2, 0, 0, true}, type));  // full
    cases.push_back(Pool(Shape{1, 1, 5, 5}, {3, 3, 1, 1, 1, 1, true}, type));  // both
  }
  cases.push_back(Pool(Shape{1, 2, 7, 5}, {3, 3, 2, 2, 1, 1}, "avg", false));
  cases.push_back(Pool(Shape{2, 2, 5, 5}, {3, 3, 2, 2, 1, 1, true}, "avg", false));
  // Global pooling: one value per plane.
  for (const char* type : {"max", "avg"}) {
    const std::string t = type;
    cases.push_back(
        OpCase("Pooling", {Shape{2, 3, 4, 5}}, {{"global_pool", "true"}, {"pool_type", t}})
            .Ref([t](const Vals& x) {
              return Vals{PoolRef(x[0], 6, 4, 5, {4, 5, 1, 1, 0, 0}, t)};
            }));
  }
  // 1-D: (N, C, W) with a kernel of one value.
  cases.push_back(OpCase("Pooling", {Shape{2, 3, 9}},
                         {{"kernel", "(3,)"}, {"stride", "(2,)"}, {"pool_type", "max"}})
                      .Ref([](const Vals& x) {
                        return Vals{PoolRef(x[0], 6, 1, 9, {1, 3, 1, 2, 0, 0}, "max")};
                      }));
  return cases;
}

TEST(Pooling, ShapeAndParameterErrors) {
  auto fails = [](std::map<std::string, std::string> p, Shape s, const std::string& want) {
    try {
      RunOp("Pooling", p, {NDArray(s, Context::CPU(), DType::kFloat32)});
      ADD_FAILURE() << "expected an error containing '" << want << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
    }
  };
  fails({{"pool_type", "max"}}, Shape{1, 1, 4, 4}, "kernel is required");
  fails({{"kernel", "(2,2)"}, {"pool_type", "median"}}, Shape{1, 1, 4, 4}, "median");
  fails({{"kernel", "(5,5)"}}, Shape{1, 1, 4, 4}, "larger than the padded input");
  fails({{"kernel", "(2,2)"}}, Shape{4, 4}, "must be 3-D (N, C, W) or 4-D");
  fails({{"kernel", "(2,)"}}, Shape{1, 1, 4, 4}, "has 1 value but input 'data' has 2 spatial");
  fails({{"kernel", "(2,2)"}, {"pad", "(2,2)"}}, Shape{1, 1, 4, 4}, "must be smaller than");
  // Still working afterwards.
  NDArray x = MakeArray(Shape{1, 1, 2, 2}, {1, 4, 3, 2});
  EXPECT_EQ(ToVector(RunOp("Pooling", {{"kernel", "(2,2)"}}, {x})[0]), std::vector<double>{4});
}

}  // namespace
}  // namespace test
}  // namespace mx
