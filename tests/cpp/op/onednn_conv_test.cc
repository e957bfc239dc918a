// Convolution's oneDNN plans in executors: built at bind (OpContext::state), computing what the
// im2col path computes for the layouts each shape takes, and the cached reordered weights, which
// must follow every write to the weight array.
#if MX_USE_ONEDNN

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "array_test_util.h"
#include "engine/engine.h"
#include "executor/executor.h"
#include "op/convolution.h"
#include "op/invoke.h"
#include "op/onednn/onednn.h"

namespace mx {
namespace {

struct Conv {
  Shape data;
  int filters, kernel, stride, pad, groups;
};

Symbol ConvNet(const Conv& c) {
  Symbol s = Symbol::CreateOp(
      "Convolution",
      {{"kernel", "(" + std::to_string(c.kernel) + "," + std::to_string(c.kernel) + ")"},
       {"stride", "(" + std::to_string(c.stride) + "," + std::to_string(c.stride) + ")"},
       {"pad", "(" + std::to_string(c.pad) + "," + std::to_string(c.pad) + ")"},
       {"num_filter", std::to_string(c.filters)},
       {"num_group", std::to_string(c.groups)}});
  s.Compose({Symbol::Variable("data")}, {}, "conv");
  return s;
}

using test::ExpectNear;
using test::Fill;
using test::Read;

// Forward (training) and backward of a bound convolution: output, then every gradient.
std::vector<std::vector<float>> Step(Executor* exec) {
  exec->Forward(true);
  std::vector<NDArray> heads{NDArray(exec->outputs()[0].shape(), Context::CPU())};
  Fill(heads[0], 7);
  exec->Backward(heads);
  std::vector<std::vector<float>> r{Read(exec->outputs()[0])};
  for (const NDArray& g : exec->grad_arrays()) r.push_back(Read(g));
  return r;
}

std::unique_ptr<Executor> BindConv(const Conv& c) {
  auto exec =
      Executor::SimpleBind(ConvNet(c), Context::CPU(), {{"data", c.data}}, {}, GradReq::kWrite, {});
  for (size_t i = 0; i < exec->arg_arrays().size(); ++i) Fill(exec->arg_arrays()[i], 11 + i);
  return exec;
}

// Shapes that take each activation layout rule: 1 input channel (plain NCHW for forward and
// data gradient), 20 (nhwc for the weight gradient), 16 and 32 (oneDNN's choice), groups, stride.
const std::vector<Conv> kShapes = {
    {Shape{3, 1, 12, 12}, 5, 5, 1, 0, 1},  {Shape{2, 1, 10, 10}, 16, 3, 1, 1, 1},
    {Shape{2, 20, 8, 8}, 7, 3, 1, 0, 1},   {Shape{2, 16, 7, 7}, 16, 3, 1, 1, 1},
    {Shape{2, 16, 9, 9}, 32, 3, 2, 1, 1},  {Shape{2, 32, 6, 6}, 32, 3, 1, 1, 2},
    {Shape{1, 64, 10, 10}, 64, 3, 1, 1, 1}};

TEST(OneDNNConv, BindTimePlansAgreeWithIm2col) {
  for (const Conv& c : kShapes) {
    SCOPED_TRACE("data " + c.data.ToString() + " filters " + std::to_string(c.filters));
    onednn::SetEnabled(false);
    const auto portable = Step(BindConv(c).get());
    onednn::SetEnabled(true);
    auto exec = BindConv(c);
    const uint64_t calls = onednn::Calls(), direct = DirectConvCalls();
    const auto dnn = Step(exec.get());
    // The forward of few channels takes the direct kernel (conv_direct.cc) when it can.
    EXPECT_EQ(onednn::Calls() - calls + DirectConvCalls() - direct, 2u)
        << "forward and backward through oneDNN";
    for (size_t k = 0; k < dnn.size(); ++k)
      ExpectNear(dnn[k], portable[k], std::to_string(k), "oneDNN", "im2col");
  }
}

TEST(OneDNNConv, PlansAreBuiltAtBindNotAtTheFirstStep) {
  // A shape no other test uses: no thread's cache can hold its plans.
  const Conv c{Shape{3, 16, 11, 13}, 24, 3, 1, 1, 1};
  const uint64_t before_bind = onednn::PlansBuilt();
  auto exec = BindConv(c);
  const uint64_t after_bind = onednn::PlansBuilt();
  EXPECT_EQ(after_bind - before_bind, 3u) << "forward, data and weight gradient plans";
  Step(exec.get());
  Step(exec.get());
  EXPECT_EQ(onednn::PlansBuilt(), after_bind);
}

TEST(OneDNNConv, ARebindWithAnotherBatchPlansItsOwnShapes) {
  Conv c{Shape{2, 16, 8, 8}, 16, 3, 1, 1, 1};
  for (int64_t batch : {2, 5, 1}) {
    c.data[0] = batch;
    onednn::SetEnabled(false);
    const auto portable = Step(BindConv(c).get());
    onednn::SetEnabled(true);
    const auto dnn = Step(BindConv(c).get());
    for (size_t k = 0; k < dnn.size(); ++k)
      ExpectNear(dnn[k], portable[k], std::to_string(k), "oneDNN", "im2col");
  }
}

// The cached blocked weights must never outlive a write: the next forward after an update (here
// the optimizer's op, then a host copy, then a write of one element) sees the new weights.
TEST(OneDNNConv, TheNextForwardSeesUpdatedWeights) {
  const Conv c{Shape{2, 16, 7, 7}, 16, 3, 1, 1, 1};
  auto exec = BindConv(c);
  auto reference = BindConv(c);  // the im2col path on the same weights
  const NDArray& w = exec->arg_arrays()[1];
  auto check = [&](const std::string& what) {
    for (size_t i = 0; i < exec->arg_arrays().size(); ++i) {
      NDArray::CopyFromTo(exec->arg_arrays()[i], reference->arg_arrays()[i]);
    }
    onednn::SetEnabled(false);
    reference->Forward(false);
    const std::vector<float> want = Read(reference->outputs()[0]);
    onednn::SetEnabled(true);
    exec->Forward(false);
    ExpectNear(Read(exec->outputs()[0]), want, what, "oneDNN", "im2col");
  };
  check("first forward");
  check("unchanged weights (the cached copy)");
  // An optimizer step writes the weights in place on the engine.
  exec->Forward(true);
  exec->Backward({NDArray(exec->outputs()[0].shape(), Context::CPU())});
  std::vector<NDArray> out{w};
  Invoke(MakeAttrs(OpRegistry::Get()->Get("sgd_update"), {{"lr", "0.5"}}),
         {w, exec->grad_arrays()[1]}, &out, true);
  check("after sgd_update");
  Fill(w, 99);
  check("after a host copy");
  std::vector<float> v = Read(w);
  v[v.size() / 2] += 1.0f;  // one element: the copy must notice the smallest change
  w.SyncCopyFromCPU(v.data(), v.size());
  check("after one element changed");
}

TEST(OneDNNConv, CachedOperandReordersOnlyWhenTheBytesChange) {
  const dnnl::memory::dims dims{32, 16, 3, 3};
  const auto user = onednn::PlainDesc(dims, dnnl::memory::format_tag::oihw);
  const auto blocked = onednn::PlainDesc(dims, dnnl::memory::format_tag::OIhw16i16o);
  const onednn::Operand op = onednn::PlanOperand(user, blocked, true);
  ASSERT_TRUE(op.reorder);
  std::vector<float> w(32 * 16 * 9), other(w.size());
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<float>(i), other[i] = -w[i];
  onednn::CachedOperand cache;
  auto value = [&](const dnnl::memory& m, int o, int i, int kh, int kw) {
    // OIhw16i16o: blocks of 16 inputs x 16 outputs, outputs innermost.
    const size_t off = (((((o / 16) * 1 + i / 16) * 3 + kh) * 3 + kw) * 16 + i % 16) * 16 + o % 16;
    return static_cast<const float*>(m.get_data_handle())[off];
  };
  EXPECT_EQ(value(cache.Get(op, w.data()), 17, 5, 2, 1), w[((17 * 16 + 5) * 3 + 2) * 3 + 1]);
  EXPECT_EQ(cache.Get(op, w.data()).get_data_handle(), cache.Get(op, w.data()).get_data_handle());
  EXPECT_EQ(cache.reorders(), 1u);
  w[100] = 0.5f;  // same pointer, new contents
  EXPECT_EQ(value(cache.Get(op, w.data()), 0, 11, 0, 1), 0.5f);
  EXPECT_EQ(cache.reorders(), 2u);
  EXPECT_EQ(value(cache.Get(op, other.data()), 17, 5, 2, 1),
            other[((17 * 16 + 5) * 3 + 2) * 3 + 1]);
  EXPECT_EQ(value(cache.Get(op, w.data()), 0, 11, 0, 1), 0.5f);  // both sources kept
  EXPECT_EQ(cache.reorders(), 3u);
}

}  // namespace
}  // namespace mx

#endif  // MX_USE_ONEDNN
