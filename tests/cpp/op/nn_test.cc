// Cases for the neural-network ops: FullyConnected, Activation, softmax, log_softmax, Embedding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "op/invoke.h"
#include "op_harness.h"

namespace mx {
namespace test {
namespace {

// out (m x n) = x (m x k) . w^T (w: n x k) + b.
std::vector<double> Dense(const std::vector<double>& x, const std::vector<double>& w,
                          const std::vector<double>* b, int64_t n) {
  const int64_t k = static_cast<int64_t>(w.size()) / n;
  const int64_t m = static_cast<int64_t>(x.size()) / k;
  std::vector<double> y(m * n);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = b ? (*b)[j] : 0.0;
      for (int64_t l = 0; l < k; ++l) s += x[i * k + l] * w[j * k + l];
      y[i * n + j] = s;
    }
  }
  return y;
}

OpCase FC(std::vector<Shape> shapes, std::map<std::string, std::string> p, int64_t n) {
  const bool bias = shapes.size() == 3;
  return OpCase("FullyConnected", std::move(shapes), std::move(p)).Ref([n, bias](const Vals& x) {
    return Vals{Dense(x[0], x[1], bias ? &x[2] : nullptr, n)};
  });
}

// Softmax of `x` viewed as (outer, len, inner) along the middle axis.
std::vector<double> SoftmaxRef(const std::vector<double>& x, int64_t len, int64_t inner, bool log) {
  std::vector<double> y(x.size());
  const int64_t outer = static_cast<int64_t>(x.size()) / (len * inner);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t j) { return o * len * inner + j * inner + i; };
      double sum = 0;
      for (int64_t j = 0; j < len; ++j) sum += std::exp(x[at(j)]);
      for (int64_t j = 0; j < len; ++j) {
        y[at(j)] = log ? x[at(j)] - std::log(sum) : std::exp(x[at(j)]) / sum;
      }
    }
  }
  return y;
}

OpCase Act(const std::string& type, std::function<double(double)> f) {
  return OpCase("Activation", {Shape{3, 5}}, {{"act_type", type}})
      .Range(-3, 3)
      .Ref([f](const Vals& x) { return Vals{Map1(x[0], f)}; });
}

// Indices 0..input_dim-1 for input 0 (and, with `out_of_range`, some outside that range).
std::function<void(int, std::vector<double>*)> Indices(int input_dim, bool out_of_range = false) {
  return [input_dim, out_of_range](int input, std::vector<double>* v) {
    if (input != 0) return;
    for (size_t i = 0; i < v->size(); ++i) (*v)[i] = double((i * 7 + 3) % input_dim);
    if (out_of_range) {
      (*v)[0] = -2;
      (*v)[1] = input_dim + 3;
    }
  };
}

std::vector<double> EmbeddingRef(const std::vector<double>& idx, const std::vector<double>& w,
                                 int input_dim, int dim) {
  std::vector<double> y;
  for (double d : idx) {
    const int64_t r = std::min<int64_t>(std::max<int64_t>(int64_t(d), 0), input_dim - 1);
    y.insert(y.end(), w.begin() + r * dim, w.begin() + (r + 1) * dim);
  }
  return y;
}

double Sig(double x) { return 1 / (1 + std::exp(-x)); }

}  // namespace

MX_OP_CASES(nn) {
  return {
      FC({Shape{3, 4}, Shape{5, 4}, Shape{5}}, {{"num_hidden", "5"}}, 5),
      FC({Shape{3, 4}, Shape{2, 4}}, {{"num_hidden", "2"}, {"no_bias", "true"}}, 2),
      // flatten=true collapses (2, 3) into 6 input features.
      FC({Shape{4, 2, 3}, Shape{3, 6}, Shape{3}}, {{"num_hidden", "3"}}, 3),
      // flatten=false keeps the leading axes: (2, 3, 4) -> (2, 3, 5).
      FC({Shape{2, 3, 4}, Shape{5, 4}, Shape{5}}, {{"num_hidden", "5"}, {"flatten", "false"}}, 5),
      Act("relu", [](double x) { return x > 0 ? x : 0; }),
      Act("sigmoid", Sig),
      Act("tanh", [](double x) { return std::tanh(x); }),
      Act("softrelu", [](double x) { return std::log1p(std::exp(x)); }),
      OpCase("softmax", {Shape{3, 6}}).Range(-3, 3).Ref([](const Vals& x) {
        return Vals{SoftmaxRef(x[0], 6, 1, false)};
      }),
      // Along a middle axis: lanes are strided.
      OpCase("softmax", {Shape{2, 4, 3}}, {{"axis", "1"}}).Range(-3, 3).Ref([](const Vals& x) {
        return Vals{SoftmaxRef(x[0], 4, 3, false)};
      }),
      OpCase("log_softmax", {Shape{3, 6}}).Range(-3, 3).Ref([](const Vals& x) {
        return Vals{SoftmaxRef(x[0], 6, 1, true)};
      }),
      OpCase("log_softmax", {Shape{2, 4, 3}}, {{"axis", "-2"}}).Range(-3, 3).Ref([](const Vals& x) {
        return Vals{SoftmaxRef(x[0], 4, 3, true)};
      }),
      OpCase("Embedding", {Shape{2, 3}, Shape{5, 4}}, {{"input_dim", "5"}, {"output_dim", "4"}})
          .Init(Indices(5))
          .GradInputs({1})
          .Ref([](const Vals& x) { return Vals{EmbeddingRef(x[0], x[1], 5, 4)}; }),
      // Out-of-range indices are clipped; repeated indices accumulate in the weight gradient.
      OpCase("Embedding", {Shape{6}, Shape{3, 2}}, {{"input_dim", "3"}, {"output_dim", "2"}})
          .Init(Indices(3, true))
          .GradInputs({1})
          .Ref([](const Vals& x) { return Vals{EmbeddingRef(x[0], x[1], 3, 2)}; }),
  };
}

namespace {

NDArray Ones(const Shape& s, DType dtype = DType::kFloat32) {
  return MakeArray(s, std::vector<double>(s.Size(), 1.0), dtype);
}

// Runs the op (shape inference happens in Invoke) and returns the error message, or "".
std::string ErrorOf(const std::string& op, const std::map<std::string, std::string>& params,
                    const std::vector<NDArray>& inputs) {
  try {
    auto out = RunOp(op, params, inputs);
    for (auto& o : out) o.WaitToRead();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

void ExpectMentions(const std::string& msg, const std::vector<std::string>& parts) {
  EXPECT_FALSE(msg.empty()) << "expected an error";
  for (const auto& p : parts)
    EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' in: " << msg;
}

}  // namespace

TEST(FullyConnected, WrongWeightShapeNamesArgumentAndShapes) {
  ExpectMentions(ErrorOf("FullyConnected", {{"num_hidden", "3"}},
                         {Ones(Shape{2, 4}), Ones(Shape{5, 4}), Ones(Shape{3})}),
                 {"FullyConnected", "weight", "(5,4)", "(3,4)"});
  ExpectMentions(ErrorOf("FullyConnected", {{"num_hidden", "3"}},
                         {Ones(Shape{2, 4}), Ones(Shape{3, 7}), Ones(Shape{3})}),
                 {"weight", "(3,7)", "(3,4)"});
  ExpectMentions(ErrorOf("FullyConnected", {{"num_hidden", "3"}},
                         {Ones(Shape{2, 4}), Ones(Shape{3, 4}), Ones(Shape{4})}),
                 {"bias", "(4)", "(3)"});
}

TEST(FullyConnected, OneDimensionalDataIsAnErrorWhenFlattening) {
  ExpectMentions(ErrorOf("FullyConnected", {{"num_hidden", "3"}},
                         {Ones(Shape{4}), Ones(Shape{3, 4}), Ones(Shape{3})}),
                 {"data", "at least 2 dimensions", "(4)"});
}

TEST(FullyConnected, BadParamsAndInputCount) {
  EXPECT_NE(ErrorOf("FullyConnected", {{"num_hidden", "0"}},
                    {Ones(Shape{2, 4}), Ones(Shape{3, 4}), Ones(Shape{3})}),
            "");
  ExpectMentions(ErrorOf("FullyConnected", {}, {Ones(Shape{2, 4}), Ones(Shape{3, 4})}),
                 {"num_hidden"});
  ExpectMentions(ErrorOf("FullyConnected", {{"num_hidden", "3"}, {"no_bias", "true"}},
                         {Ones(Shape{2, 4}), Ones(Shape{3, 4}), Ones(Shape{3})}),
                 {"takes 2 inputs"});
}

TEST(FullyConnected, InfersWeightAndBiasShapesFromData) {
  const Op* op = OpRegistry::Get()->Get("FullyConnected");
  NodeAttrs attrs = MakeAttrs(op, {{"num_hidden", "7"}});
  std::vector<Shape> in{Shape{8, 2, 5}, Shape::Unknown(), Shape::Unknown()};
  std::vector<Shape> out{Shape::Unknown()};
  EXPECT_TRUE(op->infer_shape(attrs, &in, &out));
  EXPECT_EQ(in[1], (Shape{7, 10}));
  EXPECT_EQ(in[2], (Shape{7}));
  EXPECT_EQ(out[0], (Shape{8, 7}));
  // Backward: the batch size of data from the output, the features from the weight.
  std::vector<Shape> in2{Shape{-1, -1}, Shape{7, 10}, Shape::Unknown()};
  std::vector<Shape> out2{Shape{8, 7}};
  EXPECT_TRUE(op->infer_shape(attrs, &in2, &out2));
  EXPECT_EQ(in2[0], (Shape{8, 10}));
}

TEST(FullyConnected, AccumulatesGradientsWithAddReq) {
  // kAdd through the compute function directly: grads land on top of what is there.
  const Op* op = OpRegistry::Get()->Get("_backward_FullyConnected");
  NodeAttrs attrs = MakeAttrs(op, {{"num_hidden", "2"}});
  std::vector<double> og{1, 2, 3, 4}, x{1, 0, 2, 1, 1, 0}, w{1, 1, 1, 0, 1, 0};
  std::vector<double> gx(6, 10.0), gw(6, 10.0), gb(2, 10.0);
  auto blob = [](std::vector<double>& v, Shape s) {
    TBlob b;
    b.dptr = v.data();
    b.shape = s;
    b.dtype = DType::kFloat64;
    return b;
  };
  OpContext ctx;
  (*op->Compute(DeviceType::kCPU))(
      attrs, ctx, {blob(og, Shape{2, 2}), blob(x, Shape{2, 3}), blob(w, Shape{2, 3})},
      {OpReq::kAdd, OpReq::kAdd, OpReq::kAdd},
      {blob(gx, Shape{2, 3}), blob(gw, Shape{2, 3}), blob(gb, Shape{2})});
  // gx = og . w, gw = og^T . x, gb = column sums of og; each plus 10.
  EXPECT_EQ(gx, (std::vector<double>{11, 13, 11, 13, 17, 13}));
  EXPECT_EQ(gw, (std::vector<double>{14, 13, 12, 16, 14, 14}));
  EXPECT_EQ(gb, (std::vector<double>{14, 16}));
}

TEST(Activation, UnknownActTypeListsTheValidOnes) {
  ExpectMentions(ErrorOf("Activation", {{"act_type", "gelu"}}, {Ones(Shape{2})}),
                 {"Activation", "gelu", "relu", "softrelu"});
}

TEST(Softmax, AxisOutOfRangeNamesAxisAndShape) {
  ExpectMentions(ErrorOf("softmax", {{"axis", "2"}}, {Ones(Shape{2, 3})}),
                 {"softmax", "axis 2", "(2,3)"});
}

TEST(Softmax, StableForLargeInputs) {
  auto out = RunOp("softmax", {}, {MakeArray(Shape{1, 3}, {1000, 1000, -1000})});
  auto v = ToVector(out[0]);
  EXPECT_NEAR(v[0], 0.5, 1e-6);
  EXPECT_NEAR(v[1], 0.5, 1e-6);
  EXPECT_NEAR(v[2], 0.0, 1e-6);
  auto lout = RunOp("log_softmax", {}, {MakeArray(Shape{1, 2}, {1000, 0}, DType::kFloat32)});
  auto lv = ToVector(lout[0]);
  EXPECT_NEAR(lv[0], 0.0, 1e-6);
  EXPECT_NEAR(lv[1], -1000.0, 1e-3);
}

TEST(Embedding, WrongWeightShapeAndIntegerIndices) {
  ExpectMentions(ErrorOf("Embedding", {{"input_dim", "5"}, {"output_dim", "4"}},
                         {Ones(Shape{3}), Ones(Shape{4, 5})}),
                 {"Embedding", "weight", "(4,5)", "(5,4)"});
  // Integer indices select rows of a float weight; the output takes the weight's type.
  NDArray idx = MakeArray(Shape{2}, {2, 0}, DType::kInt32);
  NDArray w = MakeArray(Shape{3, 2}, {0, 1, 10, 11, 20, 21}, DType::kFloat32);
  auto out = RunOp("Embedding", {{"input_dim", "3"}, {"output_dim", "2"}}, {idx, w});
  EXPECT_EQ(out[0].dtype(), DType::kFloat32);
  EXPECT_EQ(out[0].shape(), (Shape{2, 2}));
  EXPECT_EQ(ToVector(out[0]), (std::vector<double>{20, 21, 0, 1}));
}

}  // namespace test
}  // namespace mx
