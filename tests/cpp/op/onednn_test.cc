// The two CPU paths of the convolution-class ops against each other: every registered case of
// Convolution, Pooling and BatchNorm runs in float32 through oneDNN and through the portable
// im2col / loop path, forward and gradients, and must agree. (Each path is also checked against
// the float64 reference by the harness: float64 always takes the portable path.)
#if MX_USE_ONEDNN

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "engine/engine.h"
#include "op/onednn/onednn.h"
#include "op_harness.h"
#include "resource/resource.h"

namespace mx {
namespace test {
namespace {

struct Result {
  std::vector<std::vector<double>> outputs, grads;
};

// Forward, and (when `w` holds the output gradients) the gradients of the inputs.
Result RunCase(const OpCase& c, const Vals& in, const Vals& w) {
  std::vector<NDArray> arrays;
  for (size_t i = 0; i < in.size(); ++i) {
    arrays.push_back(MakeArray(c.in_shapes[i], in[i], DType::kFloat32));
  }
  Result r;
  ResourceManager::Get()->SeedRandom(1);
  const std::vector<NDArray> outs = RunOp(c.op, c.params, arrays, c.is_train);
  std::vector<NDArray> ograds;
  for (size_t k = 0; k < outs.size(); ++k) {
    r.outputs.push_back(ToVector(outs[k]));
    if (!w.empty()) ograds.push_back(MakeArray(outs[k].shape(), w[k], DType::kFloat32));
  }
  if (c.check_grad && !w.empty()) {
    std::vector<NDArray> fresh;  // the forward pass may have moved BatchNorm's statistics
    for (size_t i = 0; i < in.size(); ++i) {
      fresh.push_back(MakeArray(c.in_shapes[i], in[i], DType::kFloat32));
    }
    for (const NDArray& g : EvalGradient(c.op, c.params, fresh, ograds, c.is_train)) {
      r.grads.push_back(g.is_none() ? std::vector<double>() : ToVector(g));
    }
  }
  engine::Engine::Get()->WaitForAll();
  return r;
}

void ExpectNear(const std::vector<double>& a, const std::vector<double>& b,
                const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double tol = 2e-5 + 2e-4 * std::fabs(b[i]);
    if (!(std::fabs(a[i] - b[i]) <= tol) && bad++ < 5) {
      ADD_FAILURE() << what << " element " << i << ": oneDNN " << a[i] << ", portable " << b[i];
    }
  }
}

TEST(OneDNN, AgreesWithThePortablePath) {
  const std::set<std::string> ops{"Convolution", "Pooling", "BatchNorm"};
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> dist(-1, 1);
  int compared = 0;
  for (const OpCase& c : AllCases()) {
    if (!ops.count(c.op)) continue;
    SCOPED_TRACE(c.Describe());
    Vals in;
    for (size_t i = 0; i < c.in_shapes.size(); ++i) {
      std::vector<double> v(c.in_shapes[i].Size());
      for (double& x : v) x = dist(rng);
      if (c.init) c.init(static_cast<int>(i), &v);
      in.push_back(v);
    }
    // Output gradients sized from a first run.
    onednn::SetEnabled(false);
    Vals w;
    for (const auto& o : RunCase(c, in, {}).outputs) {
      std::vector<double> wk(o.size());
      for (double& x : wk) x = dist(rng);
      w.push_back(wk);
    }
    const Result portable = RunCase(c, in, w);
    onednn::SetEnabled(true);
    const uint64_t before = onednn::Calls();
    const Result dnn = RunCase(c, in, w);
    if (onednn::Calls() == before) continue;  // a geometry oneDNN does not take
    ++compared;
    for (size_t k = 0; k < dnn.outputs.size(); ++k) {
      ExpectNear(dnn.outputs[k], portable.outputs[k], "output " + std::to_string(k));
    }
    for (size_t i = 0; i < dnn.grads.size(); ++i) {
      ExpectNear(dnn.grads[i], portable.grads[i], "gradient of input " + std::to_string(i));
    }
  }
  onednn::SetEnabled(true);
  EXPECT_GE(compared, 20) << "oneDNN took too few of the cases";
}

}  // namespace
}  // namespace test
}  // namespace mx

#endif  // MX_USE_ONEDNN
