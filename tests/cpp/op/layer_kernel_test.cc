// What the harness cases do not reach in the layer ops' kernels:
//   - kAdd accumulates onto what an output holds (gradient accumulation in executors), and kNull
//     on one output leaves its memory untouched while the others are computed (the harness runs
//     kWrite, and kNull only with a null pointer);
//   - the OpenMP paths, which start above kOmpMinWork elements: a large batch of copies of one
//     sample must give, per copy, what that sample gives alone (computed serially).
#include <cmath>
#include <random>

#include "layer_test_util.h"
#include "op/kernel.h"
#include "resource/resource.h"

namespace mx {
namespace test {
namespace {

struct ReqCase {
  std::string op;
  std::map<std::string, std::string> params;
  std::vector<Shape> in_shapes;
};

// Runs `op`'s CPU compute on `in` into `out` with `req` (synchronously, on this thread).
void Compute(const NodeAttrs& attrs, const std::vector<NDArray>& in, const std::vector<OpReq>& req,
             const std::vector<NDArray>& out) {
  const Op* op = attrs.op;
  std::vector<Resource> resources;
  if (op->resources) {
    for (ResourceType t : op->resources(attrs)) {
      resources.push_back(ResourceManager::Get()->Request(Context::CPU(), t));
    }
  }
  std::vector<TBlob> ib, ob;
  for (const NDArray& a : in) {
    a.WaitToRead();
    ib.push_back(a.data());
  }
  for (const NDArray& a : out) {
    a.WaitToWrite();
    ob.push_back(a.data());
  }
  OpContext ctx;
  ctx.is_train = true;
  ctx.requested = &resources;
  (*op->Compute(DeviceType::kCPU))(attrs, ctx, ib, req, ob);
}

void CheckReqs(const ReqCase& c) {
  SCOPED_TRACE(c.op);
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> dist(-1, 1);
  std::vector<NDArray> in;
  for (const Shape& s : c.in_shapes) {
    std::vector<double> v(s.Size());
    for (double& x : v) x = dist(rng);
    in.push_back(MakeArray(s, v));
  }
  const std::vector<NDArray> written = RunOp(c.op, c.params, in);
  const NodeAttrs attrs = MakeAttrs(OpRegistry::Get()->Get(c.op), c.params);
  const size_t n_out = written.size();
  // Every output gets kAdd onto 10s; with several outputs, each round one of them is kNull instead
  // (it must keep its 7s), and a last round has none.
  for (size_t skip = 0; skip <= (n_out > 1 ? n_out : 0); ++skip) {
    std::vector<NDArray> out;
    std::vector<OpReq> req;
    for (size_t k = 0; k < n_out; ++k) {
      const bool null = n_out > 1 && k == skip;
      out.push_back(layer::Filled(written[k].shape(), null ? 7.0 : 10.0, DType::kFloat64));
      req.push_back(null ? OpReq::kNull : OpReq::kAdd);
    }
    Compute(attrs, in, req, out);
    for (size_t k = 0; k < n_out; ++k) {
      const std::vector<double> got = ToVector(out[k]), w = ToVector(written[k]);
      for (size_t i = 0; i < got.size(); ++i) {
        const double want = req[k] == OpReq::kNull ? 7.0 : 10.0 + w[i];
        ASSERT_NEAR(got[i], want, 1e-12) << "output " << k << " element " << i
                                         << (req[k] == OpReq::kNull ? " (kNull)" : " (kAdd)");
      }
    }
  }
}

}  // namespace

TEST(LayerOps, ComputeHonoursAddAndNullReqs) {
  const std::map<std::string, std::string> prelu{{"act_type", "prelu"}};
  const std::map<std::string, std::string> up{
      {"scale", "2"}, {"sample_type", "nearest"}, {"num_args", "2"}, {"multi_input_mode", "sum"}};
  const std::map<std::string, std::string> pad{{"mode", "reflect"},
                                               {"pad_width", "(0,0,0,0,1,2,2,1)"}};
  const std::map<std::string, std::string> crop{
      {"num_args", "1"}, {"h_w", "(2,2)"}, {"offset", "(1,0)"}};
  const std::vector<ReqCase> cases{
      {"LeakyReLU", {{"act_type", "elu"}}, {Shape{2, 3}}},
      {"LeakyReLU", prelu, {Shape{2, 3, 2}, Shape{3}}},
      {"_backward_LeakyReLU", {}, {Shape{2, 3}, Shape{2, 3}}},
      {"_backward_LeakyReLU", prelu, {Shape{2, 3, 2}, Shape{2, 3, 2}, Shape{3}}},
      {"LRN", {{"nsize", "3"}, {"alpha", "1"}}, {Shape{1, 4, 2, 2}}},
      {"_backward_LRN", {{"nsize", "3"}, {"alpha", "1"}}, {Shape{1, 4, 2, 2}, Shape{1, 4, 2, 2}}},
      {"UpSampling", up, {Shape{1, 2, 2, 2}, Shape{1, 2, 4, 2}}},
      {"_backward_UpSampling", up, {Shape{1, 2, 4, 4}, Shape{1, 2, 2, 2}, Shape{1, 2, 4, 2}}},
      {"Crop", crop, {Shape{1, 2, 4, 3}}},
      {"_backward_Crop", crop, {Shape{1, 2, 2, 2}, Shape{1, 2, 4, 3}}},
      {"Pad", pad, {Shape{1, 2, 3, 3}}},
      {"_backward_Pad", pad, {Shape{1, 2, 6, 6}}},
      {"SwapAxis", {{"dim1", "0"}, {"dim2", "2"}}, {Shape{2, 3, 4}}},
      {"SwapAxis", {{"dim1", "1"}, {"dim2", "1"}}, {Shape{2, 3}}},
      {"L2Normalization", {{"mode", "channel"}}, {Shape{2, 3, 2}}},
      {"_backward_L2Normalization", {{"mode", "spatial"}}, {Shape{2, 3, 2}, Shape{2, 3, 2}}},
      {"InstanceNorm", {}, {Shape{2, 3, 4}, Shape{3}, Shape{3}}},
      {"_backward_InstanceNorm", {}, {Shape{2, 3, 4}, Shape{2, 3, 4}, Shape{3}}},
  };
  for (const ReqCase& c : cases) CheckReqs(c);
}

namespace {

struct BatchCase {
  std::string op;
  std::map<std::string, std::string> params;
  std::vector<Shape> sample_shapes;  // batch 1 where batched
  std::vector<bool> batched;         // inputs with a batch axis (others are shared: gamma, ...)
};

// `v` (one sample) repeated `copies` times along a new leading batch.
std::vector<double> Repeat(const std::vector<double>& v, int64_t copies) {
  std::vector<double> r;
  for (int64_t b = 0; b < copies; ++b) r.insert(r.end(), v.begin(), v.end());
  return r;
}

Shape WithBatch(Shape s, int64_t batch) {
  s[0] = batch;
  return s;
}

void ExpectCopies(const std::vector<double>& big, const std::vector<double>& small, int64_t copies,
                  const std::string& what) {
  ASSERT_EQ(big.size(), small.size() * copies) << what;
  for (size_t i = 0; i < big.size(); ++i) {
    ASSERT_NEAR(big[i], small[i % small.size()], 1e-12 * (1 + std::fabs(small[i % small.size()])))
        << what << " element " << i;
  }
}

void CheckBatch(const BatchCase& c) {
  SCOPED_TRACE(c.op);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> dist(-1, 1);
  int64_t sample = c.sample_shapes[0].Size();
  const int64_t copies = (4 * kOmpMinWork) / sample + 1;
  std::vector<NDArray> small, big;
  for (size_t i = 0; i < c.sample_shapes.size(); ++i) {
    const Shape& s = c.sample_shapes[i];
    std::vector<double> v(s.Size());
    for (double& x : v) x = dist(rng);
    small.push_back(MakeArray(s, v));
    big.push_back(c.batched[i] ? MakeArray(WithBatch(s, copies), Repeat(v, copies))
                               : MakeArray(s, v));
  }
  const std::vector<NDArray> ys = RunOp(c.op, c.params, small), yb = RunOp(c.op, c.params, big);
  std::vector<NDArray> og_small, og_big;
  for (size_t k = 0; k < ys.size(); ++k) {
    const std::vector<double> y = ToVector(ys[k]);
    ExpectCopies(ToVector(yb[k]), y, copies, "output " + std::to_string(k));
    std::vector<double> w(y.size());
    for (double& x : w) x = dist(rng);
    og_small.push_back(MakeArray(ys[k].shape(), w));
    og_big.push_back(MakeArray(yb[k].shape(), Repeat(w, copies)));
  }
  const std::vector<NDArray> gs = EvalGradient(c.op, c.params, small, og_small);
  const std::vector<NDArray> gb = EvalGradient(c.op, c.params, big, og_big);
  for (size_t i = 0; i < gs.size(); ++i) {
    if (gs[i].is_none()) continue;
    const std::vector<double> g = ToVector(gs[i]), G = ToVector(gb[i]);
    if (c.batched[i]) {
      ExpectCopies(G, g, copies, "gradient " + std::to_string(i));
      continue;
    }
    // A shared input's gradient sums over the batch.
    ASSERT_EQ(G.size(), g.size());
    for (size_t j = 0; j < g.size(); ++j) {
      EXPECT_NEAR(G[j], copies * g[j], 1e-9 * copies * (1 + std::fabs(g[j])))
          << "gradient " << i << " element " << j;
    }
  }
}

}  // namespace

TEST(LayerOps, LargeBatchesMatchOneSample) {
  const std::map<std::string, std::string> up{
      {"scale", "(2,3)"}, {"sample_type", "nearest"}, {"num_args", "2"}};
  const std::vector<BatchCase> cases{
      {"LeakyReLU", {}, {Shape{1, 3, 5, 7}}, {true}},
      {"LeakyReLU", {{"act_type", "elu"}}, {Shape{1, 3, 5, 7}}, {true}},
      {"LeakyReLU", {{"act_type", "prelu"}}, {Shape{1, 3, 5, 7}, Shape{3}}, {true, false}},
      {"LRN", {{"nsize", "5"}, {"alpha", "0.5"}}, {Shape{1, 7, 3, 5}}, {true}},
      {"UpSampling", up, {Shape{1, 2, 3, 2}, Shape{1, 1, 6, 3}}, {true, true}},
      {"Crop",
       {{"num_args", "2"}, {"center_crop", "true"}},
       {Shape{1, 3, 7, 6}, Shape{1, 1, 4, 3}},
       {true, false}},
      {"Pad", {{"mode", "edge"}, {"pad_width", "(0,0,0,0,2,1,1,3)"}}, {Shape{1, 3, 4, 5}}, {true}},
      {"Pad",
       {{"mode", "reflect"}, {"pad_width", "(0,0,0,0,1,1,2,0,0,3)"}},
       {Shape{1, 2, 3, 3, 4}},
       {true}},
      {"SwapAxis", {{"dim1", "1"}, {"dim2", "3"}}, {Shape{1, 3, 4, 5}}, {true}},
      {"L2Normalization", {}, {Shape{1, 3, 4, 5}}, {true}},
      {"L2Normalization", {{"mode", "channel"}}, {Shape{1, 3, 4, 5}}, {true}},
      {"L2Normalization", {{"mode", "spatial"}}, {Shape{1, 3, 4, 5}}, {true}},
      {"InstanceNorm", {}, {Shape{1, 3, 4, 5}, Shape{3}, Shape{3}}, {true, false, false}},
  };
  for (const BatchCase& c : cases) CheckBatch(c);
}

}  // namespace test
}  // namespace mx
