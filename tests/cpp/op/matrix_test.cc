// Cases for the matrix/shape family: dot, batch_dot, transpose, Reshape, reshape_like, Flatten,
// expand_dims, Concat, SliceChannel, slice_axis, take, one_hot, clip, Cast, add_n.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "op/invoke.h"
#include "op_harness.h"

namespace mx {
namespace test {
namespace {

using Vec = std::vector<double>;

// ---- float64 references ----

// MXNet's dot: lhs contracts its last axis (first with ta), rhs its first (last with tb).
Vec DotRef(const Vec& a, const Vec& b, const Shape& ls, const Shape& rs, bool ta, bool tb) {
  const int64_t k = ta ? ls[0] : ls[ls.ndim() - 1];
  const int64_t m = ls.Size() / k, n = rs.Size() / k;
  Vec c(m * n, 0.0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t p = 0; p < k; ++p) {
        s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      }
      c[i * n + j] = s;
    }
  }
  return c;
}

OpCase Dot(Shape l, Shape r, bool ta = false, bool tb = false) {
  return OpCase("dot", {l, r}, {{"transpose_a", ta ? "1" : "0"}, {"transpose_b", tb ? "1" : "0"}})
      .Ref([=](const Vals& x) { return Vals{DotRef(x[0], x[1], l, r, ta, tb)}; });
}

OpCase BatchDot(Shape l, Shape r, bool ta, bool tb) {
  return OpCase("batch_dot", {l, r},
                {{"transpose_a", ta ? "true" : "false"}, {"transpose_b", tb ? "true" : "false"}})
      .Ref([=](const Vals& x) {
        Vec out;
        const int64_t lb = l.Size() / l[0], rb = r.Size() / r[0];
        for (int64_t i = 0; i < l[0]; ++i) {
          Vec a(x[0].begin() + i * lb, x[0].begin() + (i + 1) * lb);
          Vec b(x[1].begin() + i * rb, x[1].begin() + (i + 1) * rb);
          Vec c = DotRef(a, b, Shape{l[1], l[2]}, Shape{r[1], r[2]}, ta, tb);
          out.insert(out.end(), c.begin(), c.end());
        }
        return Vals{out};
      });
}

// Row-major strides of a shape.
std::vector<int64_t> Strides(const Shape& s) {
  std::vector<int64_t> st(s.ndim(), 1);
  for (int i = s.ndim() - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

Vec TransposeRef(const Vec& x, const Shape& s, std::vector<int> perm) {
  const int nd = s.ndim();
  if (perm.empty()) {
    for (int i = nd - 1; i >= 0; --i) perm.push_back(i);
  }
  for (int& p : perm) p = p < 0 ? p + nd : p;
  const std::vector<int64_t> st = Strides(s);
  std::vector<int64_t> od(nd);
  for (int i = 0; i < nd; ++i) od[i] = s[perm[i]];
  Vec out(x.size());
  for (int64_t o = 0; o < static_cast<int64_t>(x.size()); ++o) {
    int64_t rem = o, off = 0;
    for (int i = nd - 1; i >= 0; --i) {
      off += (rem % od[i]) * st[perm[i]];
      rem /= od[i];
    }
    out[o] = x[off];
  }
  return out;
}

OpCase Transpose(Shape s, std::vector<int> perm, const std::string& axes) {
  std::map<std::string, std::string> p;
  if (!axes.empty()) p["axes"] = axes;
  return OpCase("transpose", {s}, p).Ref([=](const Vals& x) {
    return Vals{TransposeRef(x[0], s, perm)};
  });
}

// Values unchanged (Reshape, Flatten, expand_dims, reshape_like).
OpCase Same(const std::string& op, std::vector<Shape> shapes,
            std::map<std::string, std::string> p = {}) {
  return OpCase(op, shapes, p).Ref([](const Vals& x) { return Vals{x[0]}; });
}

// Element (rows, len) blocks along an axis: rows = product of dims before it.
int64_t Before(const Shape& s, int axis) { return s.ProdDims(0, axis); }
int64_t From(const Shape& s, int axis) { return s.ProdDims(axis, s.ndim()); }

Vec ConcatRef(const Vals& x, const std::vector<Shape>& shapes, int axis) {
  Vec out;
  const int64_t rows = Before(shapes[0], axis);
  for (int64_t r = 0; r < rows; ++r) {
    for (size_t i = 0; i < x.size(); ++i) {
      const int64_t len = From(shapes[i], axis);
      out.insert(out.end(), x[i].begin() + r * len, x[i].begin() + (r + 1) * len);
    }
  }
  return out;
}

OpCase Concat(std::vector<Shape> shapes, int dim) {
  return OpCase("Concat", shapes,
                {{"num_args", std::to_string(shapes.size())}, {"dim", std::to_string(dim)}})
      .Ref([=](const Vals& x) {
        return Vals{ConcatRef(x, shapes, dim < 0 ? dim + shapes[0].ndim() : dim)};
      });
}

// Elements [begin, end) of `axis`.
Vec SliceRef(const Vec& x, const Shape& s, int axis, int64_t begin, int64_t end) {
  const int64_t rows = Before(s, axis), inner = From(s, axis) / s[axis];
  Vec out;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t base = r * s[axis] * inner;
    out.insert(out.end(), x.begin() + base + begin * inner, x.begin() + base + end * inner);
  }
  return out;
}

OpCase Split(Shape s, int n, int axis, bool squeeze) {
  return OpCase("SliceChannel", {s},
                {{"num_outputs", std::to_string(n)},
                 {"axis", std::to_string(axis)},
                 {"squeeze_axis", squeeze ? "1" : "0"}})
      .Ref([=](const Vals& x) {
        const int a = axis < 0 ? axis + s.ndim() : axis;
        const int64_t len = s[a] / n;
        Vals out;
        for (int i = 0; i < n; ++i) out.push_back(SliceRef(x[0], s, a, i * len, (i + 1) * len));
        return out;
      });
}

OpCase SliceAxis(Shape s, int axis, int begin, const std::string& end, int64_t b, int64_t e) {
  return OpCase("slice_axis", {s},
                {{"axis", std::to_string(axis)}, {"begin", std::to_string(begin)}, {"end", end}})
      .Ref([=](const Vals& x) {
        return Vals{SliceRef(x[0], s, axis < 0 ? axis + s.ndim() : axis, b, e)};
      });
}

// Integer-valued indices in [lo, hi] (input 1, or input 0 for one_hot).
std::function<void(int, std::vector<double>*)> Indices(int input, int lo, int hi) {
  return [=](int i, std::vector<double>* v) {
    if (i != input) return;
    for (size_t j = 0; j < v->size(); ++j)
      (*v)[j] = lo + static_cast<int>((j * 7 + 3) % (hi - lo + 1));
  };
}

OpCase Take(Shape a, Shape idx, int axis, const std::string& mode, int lo, int hi) {
  return OpCase("take", {a, idx}, {{"axis", std::to_string(axis)}, {"mode", mode}})
      .Init(Indices(1, lo, hi))
      .GradInputs({0})
      .Ref([=](const Vals& x) {
        const int ax = axis < 0 ? axis + a.ndim() : axis;
        const int64_t rows = Before(a, ax), n = a[ax], inner = From(a, ax) / n;
        Vec out;
        for (int64_t r = 0; r < rows; ++r) {
          for (double v : x[1]) {
            int64_t j = static_cast<int64_t>(v);
            j = mode == "wrap" ? ((j % n) + n) % n : std::min(std::max<int64_t>(j, 0), n - 1);
            const int64_t base = (r * n + j) * inner;
            out.insert(out.end(), x[0].begin() + base, x[0].begin() + base + inner);
          }
        }
        return Vals{out};
      });
}

OpCase OneHot(Shape s, int depth, double on, double off, const std::string& dtype) {
  return OpCase("one_hot", {s},
                {{"depth", std::to_string(depth)},
                 {"on_value", std::to_string(on)},
                 {"off_value", std::to_string(off)},
                 {"dtype", dtype}})
      .Init(Indices(0, -1, depth))
      .NoGrad()
      .Ref([=](const Vals& x) {
        Vec out;
        for (double v : x[0]) {
          for (int c = 0; c < depth; ++c) out.push_back(c == static_cast<int>(v) ? on : off);
        }
        return Vals{out};
      });
}

OpCase AddN(const std::string& op, int n) {
  return OpCase(op, std::vector<Shape>(n, Shape{3, 4}), {{"num_args", std::to_string(n)}})
      .Ref([](const Vals& x) {
        Vec out(x[0].size(), 0.0);
        for (const Vec& v : x) {
          for (size_t i = 0; i < v.size(); ++i) out[i] += v[i];
        }
        return Vals{out};
      });
}

}  // namespace

MX_OP_CASES(matrix) {
  OpCase cast32 =
      OpCase("Cast", {Shape{3, 4}}, {{"dtype", "float32"}}).NoGrad().Ref([](const Vals& x) {
        return Vals{Map1(x[0], [](double v) { return double(float(v)); })};
      });
  return {
      Dot(Shape{3, 4}, Shape{4, 5}),
      Dot(Shape{4, 3}, Shape{4, 5}, true, false),
      Dot(Shape{3, 4}, Shape{5, 4}, false, true),
      Dot(Shape{4, 3}, Shape{5, 4}, true, true),
      Dot(Shape{4}, Shape{4}),
      Dot(Shape{3, 4}, Shape{4}),
      Dot(Shape{4}, Shape{4, 2}),
      Dot(Shape{2, 3, 4}, Shape{4, 5}),
      Dot(Shape{2, 3, 4}, Shape{4, 2, 3}),
      Dot(Shape{4, 2, 3}, Shape{3, 4}, true, true),
      Dot(Shape{64, 96}, Shape{96, 48}).NoGrad().Tol(1e-4, 1e-5),
      BatchDot(Shape{2, 3, 4}, Shape{2, 4, 5}, false, false),
      BatchDot(Shape{2, 4, 3}, Shape{2, 4, 5}, true, false),
      BatchDot(Shape{2, 3, 4}, Shape{2, 5, 4}, false, true),
      BatchDot(Shape{3, 4, 3}, Shape{3, 2, 4}, true, true),
      Transpose(Shape{2, 3}, {}, ""),
      Transpose(Shape{2, 3, 4}, {1, 2, 0}, "(1,2,0)"),
      Transpose(Shape{2, 3, 4}, {0, 2, 1}, "(0,2,1)"),
      Transpose(Shape{2, 3, 2, 3}, {3, 1, 0, 2}, "(3,1,0,2)"),
      Transpose(Shape{2, 3, 4}, {-1, 0, 1}, "(-1,0,1)"),
      Transpose(Shape{37, 70}, {}, "").NoGrad(),
      Transpose(Shape{5}, {}, ""),
      Transpose(Shape{1, 1}, {}, ""),
      Transpose(Shape{2, 1, 3, 4}, {0, 2, 1, 3}, "(0,2,1,3)"),
      Transpose(Shape{3, 1, 4}, {2, 1, 0}, "(2,1,0)"),
      Transpose(Shape{2, 3, 2, 5}, {2, 3, 0, 1}, "(2,3,0,1)"),
      Transpose(Shape{2, 40, 37}, {0, 2, 1}, "(0,2,1)").NoGrad(),
      Same("Reshape", {Shape{2, 3, 4}}, {{"shape", "(-1,4)"}}),
      Same("Reshape", {Shape{2, 3, 4}}, {{"shape", "(0,-3)"}}),
      Same("Reshape", {Shape{2, 3, 4}}, {{"shape", "(-4,1,2,-2)"}}),
      Same("Reshape", {Shape{2, 3, 4}}, {{"shape", "(-1,0)"}, {"reverse", "1"}}),
      Same("Reshape", {Shape{6}}, {{"shape", "(2,3)"}}),
      Same("reshape_like", {Shape{2, 6}, Shape{3, 4}}).GradInputs({0}),
      Same("Flatten", {Shape{2, 3, 4}}),
      Same("Flatten", {Shape{5}}),
      Same("expand_dims", {Shape{2, 3}}, {{"axis", "1"}}),
      Same("expand_dims", {Shape{2, 3}}, {{"axis", "-1"}}),
      Concat({Shape{2, 3}, Shape{2, 1}, Shape{2, 2}}, 1),
      Concat({Shape{1, 3, 2}, Shape{2, 3, 2}}, 0),
      Concat({Shape{2, 2, 2}, Shape{2, 2, 3}}, -1),
      Concat({Shape{3, 2}}, 1),
      Split(Shape{2, 6}, 3, 1, false),
      Split(Shape{3, 2, 4}, 3, 0, true),
      Split(Shape{2, 3, 4}, 2, -1, false),
      Split(Shape{2, 3}, 3, -1, true),
      SliceAxis(Shape{3, 5}, 1, 1, "4", 1, 4),
      SliceAxis(Shape{4, 3}, 0, -2, "None", 2, 4),
      SliceAxis(Shape{2, 5, 2}, 1, 0, "-1", 0, 4),
      Take(Shape{5, 3}, Shape{4}, 0, "clip", -1, 6),
      Take(Shape{2, 4, 3}, Shape{2, 2}, 1, "clip", 0, 3),
      Take(Shape{3, 4}, Shape{6}, -1, "wrap", -5, 7),
      OneHot(Shape{2, 3}, 4, 1, 0, "float32"),
      OneHot(Shape{5}, 3, 2.5, -1, "float64"),
      OpCase("clip", {Shape{3, 4}}, {{"a_min", "-0.7"}, {"a_max", "0.9"}})
          .Range(-2, 2)
          .Ref([](const Vals& x) {
            return Vals{Map1(x[0], [](double v) { return std::min(std::max(v, -0.7), 0.9); })};
          }),
      OpCase("Cast", {Shape{3, 4}}, {{"dtype", "float64"}}).Ref([](const Vals& x) {
        return Vals{x[0]};
      }),
      cast32,
      AddN("add_n", 3),
      AddN("add_n", 1),
      AddN("ElementWiseSum", 2),
  };
}

namespace {

// Runs `op` and expects an error whose message contains every one of `parts`.
void ExpectError(const std::string& op, const std::map<std::string, std::string>& params,
                 const std::vector<NDArray>& inputs, const std::vector<std::string>& parts) {
  try {
    std::vector<NDArray> out = RunOp(op, params, inputs);
    for (auto& o : out) o.WaitToRead();
    ADD_FAILURE() << op << ": expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const auto& p : parts)
      EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

NDArray Arr(const Shape& s) {
  Vec v(s.Size());
  std::iota(v.begin(), v.end(), 0.0);
  return MakeArray(s, v);
}

}  // namespace

TEST(MatrixOps, ShapeErrorsNameTheProblem) {
  ExpectError("Reshape", {{"shape", "(4,2)"}}, {Arr(Shape{2, 3})},
              {"Reshape", "(2,3)", "(4,2)", "6 elements"});
  ExpectError("Reshape", {{"shape", "(-1,-1)"}}, {Arr(Shape{2, 3})}, {"at most one"});
  ExpectError("Reshape", {{"shape", "(-1,4)"}}, {Arr(Shape{2, 3})}, {"does not divide"});
  ExpectError("Reshape", {{"shape", "(0,0,0)"}}, {Arr(Shape{2, 3})}, {"has only 2 dims"});
  ExpectError("transpose", {{"axes", "(0,0)"}}, {Arr(Shape{2, 3})}, {"not a permutation"});
  ExpectError("transpose", {{"axes", "(0,1,2)"}}, {Arr(Shape{2, 3})}, {"3 entries", "2 axes"});
  ExpectError("expand_dims", {{"axis", "3"}}, {Arr(Shape{2, 3})}, {"axis=3", "out of range"});
  ExpectError("Flatten", {}, {MakeArray(Shape{}, {1.0})}, {"at least 1 axis"});
  ExpectError("Concat", {{"num_args", "2"}, {"dim", "1"}}, {Arr(Shape{2, 3}), Arr(Shape{3, 3})},
              {"Concat", "arg1", "(3,3)"});
  ExpectError("Concat", {{"num_args", "2"}, {"dim", "2"}}, {Arr(Shape{2, 3}), Arr(Shape{2, 3})},
              {"dim=2", "out of range"});
  ExpectError("Concat", {{"num_args", "3"}}, {Arr(Shape{2, 3}), Arr(Shape{2, 3})},
              {"takes 3 inputs", "got 2"});
  ExpectError("add_n", {{"num_args", "3"}}, {Arr(Shape{2})}, {"takes 3 inputs", "got 1"});
  ExpectError("add_n", {{"num_args", "2"}}, {Arr(Shape{2}), Arr(Shape{3})}, {"(2)", "(3)"});
  ExpectError("dot", {}, {Arr(Shape{2, 3}), Arr(Shape{4, 5})}, {"dot", "(2,3)", "(4,5)", "align"});
  ExpectError("dot", {{"transpose_b", "1"}}, {Arr(Shape{2, 3}), Arr(Shape{3, 4})},
              {"transpose_b=1"});
  ExpectError("batch_dot", {}, {Arr(Shape{2, 3}), Arr(Shape{3, 4})}, {"lhs", "3-D"});
  ExpectError("batch_dot", {}, {Arr(Shape{2, 2, 3}), Arr(Shape{3, 3, 4})}, {"batch sizes"});
  ExpectError("SliceChannel", {{"num_outputs", "4"}}, {Arr(Shape{2, 6})},
              {"6 elements", "num_outputs=4"});
  ExpectError("SliceChannel", {{"num_outputs", "2"}, {"squeeze_axis", "1"}}, {Arr(Shape{2, 6})},
              {"squeeze_axis"});
  ExpectError("slice_axis", {{"axis", "1"}, {"begin", "3"}, {"end", "2"}}, {Arr(Shape{2, 6})},
              {"begin=3", "end=2", "length 6"});
  ExpectError("slice_axis", {{"axis", "1"}, {"begin", "0"}, {"end", "7"}}, {Arr(Shape{2, 6})},
              {"end=7"});
  ExpectError("slice_axis", {{"axis", "2"}, {"begin", "0"}, {"end", "1"}}, {Arr(Shape{2, 6})},
              {"axis=2", "out of range"});
  ExpectError("take", {{"axis", "2"}}, {Arr(Shape{2, 6}), Arr(Shape{2})}, {"axis=2"});
  ExpectError("clip", {{"a_min", "1"}, {"a_max", "0"}}, {Arr(Shape{2})}, {"a_min=1", "a_max=0"});
  ExpectError("one_hot", {{"depth", "0"}}, {Arr(Shape{2})}, {"depth"});
  ExpectError("Cast", {{"dtype", "float33"}}, {Arr(Shape{2})}, {"float33", "float32"});
  ExpectError("Cast", {}, {Arr(Shape{2})}, {"dtype"});
}

TEST(MatrixOps, CastConvertsBetweenTypes) {
  NDArray a = MakeArray(Shape{4}, {-1.7, 2.9, 0.2, 300.4});
  NDArray i = RunOp("Cast", {{"dtype", "int32"}}, {a})[0];
  EXPECT_EQ(i.dtype(), DType::kInt32);
  EXPECT_EQ(ToVector(i), (Vec{-1, 2, 0, 300}));
  NDArray u = RunOp("Cast", {{"dtype", "uint8"}}, {MakeArray(Shape{2}, {3, 250})})[0];
  EXPECT_EQ(u.dtype(), DType::kUint8);
  NDArray back = RunOp("Cast", {{"dtype", "float32"}}, {u})[0];
  EXPECT_EQ(ToVector(back), (Vec{3, 250}));
  // The gradient comes back in the input's type.
  NDArray f32 = MakeArray(Shape{2}, {1, 2}, DType::kFloat32);
  auto g = EvalGradient("Cast", {{"dtype", "float64"}}, {f32}, {MakeArray(Shape{2}, {0.5, -1})});
  EXPECT_EQ(g[0].dtype(), DType::kFloat32);
  EXPECT_EQ(ToVector(g[0]), (Vec{0.5, -1}));
}

TEST(MatrixOps, ShapeOnlyOpsWorkInPlace) {
  // An output that is a view of the input (same memory) is allowed: nothing is copied.
  NDArray a = Arr(Shape{2, 3});
  std::vector<NDArray> out{a.Reshape(Shape{3, 2})};
  Invoke(MakeAttrs(OpRegistry::Get()->Get("Reshape"), {{"shape", "(3,2)"}}), {a}, &out);
  EXPECT_EQ(ToVector(out[0]), (Vec{0, 1, 2, 3, 4, 5}));
  std::vector<NDArray> flat{a.Reshape(Shape{2, 3})};
  Invoke(MakeAttrs(OpRegistry::Get()->Get("Flatten"), {}), {a}, &flat);
  EXPECT_EQ(ToVector(flat[0]), (Vec{0, 1, 2, 3, 4, 5}));
}

TEST(MatrixOps, TakeAndOneHotAcceptIntegerIndices) {
  NDArray a = Arr(Shape{4, 2});
  NDArray idx = MakeArray(Shape{3}, {3, 0, 3}, DType::kInt32);
  EXPECT_EQ(ToVector(RunOp("take", {}, {a, idx})[0]), (Vec{6, 7, 0, 1, 6, 7}));
  // Repeated indices sum their gradients.
  auto g = EvalGradient("take", {}, {a, idx}, {MakeArray(Shape{3, 2}, {1, 2, 3, 4, 5, 6})});
  EXPECT_EQ(ToVector(g[0]), (Vec{3, 4, 0, 0, 0, 0, 6, 8}));
  NDArray oh = RunOp("one_hot", {{"depth", "4"}, {"dtype", "int32"}}, {idx})[0];
  EXPECT_EQ(oh.dtype(), DType::kInt32);
  EXPECT_EQ(ToVector(oh), (Vec{0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1}));
}

// Fuzz findings (fuzz/regressions/op_params/): float indices that are NaN or beyond int64 were
// cast to int64, which is undefined behaviour (x86 gives INT64_MIN, so 1e30 took row 0).
TEST(MatrixOps, TakeAndOneHotAcceptAnyFloatIndex) {
  const double nan = std::nan(""), inf = INFINITY;
  NDArray a = Arr(Shape{4, 2});
  NDArray idx = MakeArray(Shape{5}, {nan, 1e30, -1e30, inf, -inf});
  // Clipped: NaN counts as 0, the rest as the nearest end of the axis.
  EXPECT_EQ(ToVector(RunOp("take", {}, {a, idx})[0]), (Vec{0, 1, 6, 7, 0, 1, 6, 7, 0, 1}));
  auto g = EvalGradient("take", {}, {a, idx}, {MakeArray(Shape{5, 2}, Vec(10, 1))});
  EXPECT_EQ(ToVector(g[0]), (Vec{3, 3, 0, 0, 0, 0, 2, 2}));
  // Wrapped: defined, in range (these floats are far beyond exact integers).
  for (double v : ToVector(RunOp("take", {{"mode", "wrap"}}, {a, idx})[0])) {
    EXPECT_TRUE(v >= 0 && v <= 7) << v;
  }
  // Out of range: a row of off_value.
  EXPECT_EQ(ToVector(RunOp("one_hot", {{"depth", "2"}}, {idx})[0]), Vec(10, 0));
}

// A fuzz finding (fuzz/regressions/op_params/backward_take_ograd_shape.txt): the backward of
// take, which any binding can invoke by name, read ograd with the geometry of a and indices
// whatever its shape.
TEST(MatrixOps, BackwardOfTakeChecksOgrad) {
  ExpectError("_backward_take", {}, {Arr(Shape{1}), Arr(Shape{4, 3}), MakeArray(Shape{2}, {0, 1})},
              {"_backward_take", "ograd", "(1)", "(2,3)"});
}

// Fuzz findings (fuzz/regressions/op_params/backward_{take,slice_axis}_empty_gradient.txt):
// clearing an empty gradient, whose data pointer is null, called memset(nullptr, 0, 0).
TEST(MatrixOps, BackwardsOfTakeAndSliceAxisAllowEmptyGradients) {
  NDArray g = RunOp("_backward_take", {},
                    {Arr(Shape{2, 0}), Arr(Shape{3, 0}), MakeArray(Shape{2}, {0, 1})})[0];
  g.WaitToRead();
  EXPECT_EQ(g.shape(), (Shape{3, 0}));
  g = RunOp("_backward_slice_axis", {{"axis", "0"}, {"begin", "0"}, {"end", "1"}},
            {Arr(Shape{1, 0}), Arr(Shape{2, 0})})[0];
  g.WaitToRead();
  EXPECT_EQ(g.shape(), (Shape{2, 0}));
}

TEST(MatrixOps, IntegerTransposeAndConcat) {
  NDArray a = MakeArray(Shape{2, 3}, {0, 1, 2, 3, 4, 5}, DType::kInt64);
  EXPECT_EQ(ToVector(RunOp("transpose", {}, {a})[0]), (Vec{0, 3, 1, 4, 2, 5}));
  NDArray c = RunOp("Concat", {{"num_args", "2"}, {"dim", "0"}}, {a, a})[0];
  EXPECT_EQ(c.shape(), (Shape{4, 3}));
  EXPECT_EQ(c.dtype(), DType::kInt64);
}

}  // namespace test
}  // namespace mx
