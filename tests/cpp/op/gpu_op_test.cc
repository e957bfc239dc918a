// Operators on the GPU against the CPU. The registry checks run everywhere (a CUDA build must
// register every op that declares a GPU implementation); the GpuOps suite needs a device and
// skips itself without one (its own ctest entry, op_gpu_test, then reports "skipped").
//
// Every op case of the harness whose op runs on the GPU is run twice, on cpu(0) and on gpu(0),
// from the same float32 inputs: the outputs, and the gradients from the op's gradient graph,
// must agree within float32 rounding (the GPU sums in other orders and fuses multiply-adds).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "base/context.h"
#include "base/error.h"
#include "engine/engine.h"
#include "op/invoke.h"
#include "op/op.h"
#include "op/op_util.h"
#include "op_harness.h"
#include "resource/resource.h"

namespace mx {
namespace test {
namespace {

// An op declares GPU kernels (Op::gpu) in every build; a CUDA build must have registered them.
TEST(OpDevices, GpuKernelsAreRegisteredInCudaBuilds) {
  for (const Op* op : OpRegistry::Get()->List()) {
    SCOPED_TRACE(op->name);
    const bool registered = op->Compute(DeviceType::kGPU) != nullptr;
    EXPECT_EQ(registered, op->gpu && MX_USE_CUDA);
    // A GPU forward op has a GPU backward: training on the GPU never meets a CPU-only gradient.
    if (!op->backward_of.empty()) {
      const Op* fwd = OpRegistry::Get()->Find(op->backward_of);
      ASSERT_NE(fwd, nullptr);
      if (fwd->gpu) {
        EXPECT_TRUE(op->gpu) << "the gradient of GPU op " << fwd->name;
      }
    }
  }
}

// What the MNIST examples (MLP, LeNet, the ResNet-style net), their optimizers and initializers
// need is on the GPU.
TEST(OpDevices, TrainingTheMnistNetsNeedsNoCpuOp) {
  for (const char* name : {"FullyConnected",
                           "_backward_FullyConnected",
                           "Activation",
                           "_backward_Activation",
                           "SoftmaxOutput",
                           "_backward_SoftmaxOutput",
                           "softmax",
                           "log_softmax",
                           "relu",
                           "sigmoid",
                           "tanh",
                           "elemwise_add",
                           "elemwise_mul",
                           "_plus_scalar",
                           "_mul_scalar",
                           "_copy",
                           "dot",
                           "batch_dot",
                           "sgd_update",
                           "sgd_mom_update",
                           "adam_update",
                           "_zeros",
                           "_ones",
                           "_full",
                           "zeros_like",
                           "_random_uniform",
                           "_random_normal",
                           "LinearRegressionOutput",
                           "Convolution",
                           "_backward_Convolution",
                           "Pooling",
                           "_backward_Pooling",
                           "BatchNorm",
                           "_backward_BatchNorm",
                           "Flatten",
                           "Reshape",
                           "broadcast_add",
                           "sum",
                           "mean",
                           "add_n",
                           "transpose",
                           "argmax",
                           "Dropout",
                           "Concat"}) {
    EXPECT_TRUE(OpRegistry::Get()->Get(name)->gpu) << name;
  }
}

std::vector<NDArray> OnDevice(const OpCase& c, const Vals& in, Context ctx) {
  std::vector<NDArray> arrays;
  for (size_t i = 0; i < in.size(); ++i) {
    arrays.push_back(MakeArray(c.in_shapes[i], in[i], DType::kFloat32, ctx));
  }
  return arrays;
}

void ExpectAgree(const NDArray& gpu, const NDArray& cpu, const std::string& what) {
  ASSERT_EQ(gpu.is_none(), cpu.is_none()) << what;
  if (cpu.is_none()) return;
  EXPECT_EQ(gpu.ctx(), Context::GPU(0)) << what;
  ASSERT_EQ(gpu.shape(), cpu.shape()) << what;
  const std::vector<double> g = ToVector(gpu), c = ToVector(cpu);
  int reported = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    const double tol = 1e-5 + 1e-4 * std::fabs(c[i]);
    if (!(std::fabs(g[i] - c[i]) <= tol) && reported++ < 5) {
      ADD_FAILURE() << what << ": element " << i << " is " << g[i] << " on the GPU, " << c[i]
                    << " on the CPU";
    }
  }
}

TEST(GpuOps, EveryGpuOpMatchesTheCpu) {
  if (GpuCount() == 0) GTEST_SKIP() << "no GPU on this machine";
  std::set<std::string> tested;
  uint64_t seed = 1;
  for (const OpCase& c : AllCases()) {
    const Op* op = OpRegistry::Get()->Get(c.op);
    if (op->Compute(DeviceType::kGPU) == nullptr || c.in_shapes.empty() || !c.test_float32) {
      continue;
    }
    SCOPED_TRACE(c.Describe());
    std::mt19937_64 rng(seed++);
    const Vals in = MakeInputs(c, &rng);
    std::vector<NDArray> outs[2];
    const Context ctxs[2] = {Context::CPU(), Context::GPU(0)};
    for (int d = 0; d < 2; ++d) {
      ResourceManager::Get()->SeedRandom(7);
      outs[d] = RunOp(c.op, c.params, OnDevice(c, in, ctxs[d]), c.is_train);
    }
    ASSERT_EQ(outs[0].size(), outs[1].size());
    for (size_t i = 0; i < outs[0].size(); ++i) {
      ExpectAgree(outs[1][i], outs[0][i], "output " + std::to_string(i));
    }
    tested.insert(c.op);
    if (op->gradient == nullptr || op->not_differentiable || (!c.check_grad && !c.grad_reference)) {
      continue;
    }
    std::uniform_real_distribution<double> dist(-1, 1);
    Vals og;
    for (const NDArray& o : outs[0]) {
      std::vector<double> v(o.shape().Size());
      for (double& x : v) x = dist(rng);
      og.push_back(std::move(v));
    }
    std::vector<NDArray> grads[2];
    for (int d = 0; d < 2; ++d) {
      std::vector<NDArray> ograds;
      for (size_t i = 0; i < og.size(); ++i) {
        ograds.push_back(MakeArray(outs[0][i].shape(), og[i], DType::kFloat32, ctxs[d]));
      }
      ResourceManager::Get()->SeedRandom(7);
      grads[d] = EvalGradient(c.op, c.params, OnDevice(c, in, ctxs[d]), ograds, c.is_train);
    }
    ASSERT_EQ(grads[0].size(), grads[1].size());
    for (size_t i = 0; i < grads[0].size(); ++i) {
      ExpectAgree(grads[1][i], grads[0][i], "gradient of input " + std::to_string(i));
    }
  }
  EXPECT_GE(tested.size(), 40u) << "fewer GPU ops tested than registered";
}

// The generator is a function of (seed, draw index): the GPU draws the CPU's numbers exactly.
TEST(GpuOps, RandomDrawsMatchTheCpuExactly) {
  if (GpuCount() == 0) GTEST_SKIP() << "no GPU on this machine";
  for (const char* op : {"_random_uniform", "_random_normal"}) {
    std::vector<double> values[2];
    const Context ctxs[2] = {Context::CPU(), Context::GPU(0)};
    for (int d = 0; d < 2; ++d) {
      ResourceManager::Get()->SeedRandom(11);
      std::vector<NDArray> out;
      Invoke(MakeAttrs(OpRegistry::Get()->Get(op), {{"shape", "(1001,)"}}), {}, &out, false,
             ctxs[d]);
      ASSERT_EQ(out.size(), 1u);
      EXPECT_EQ(out[0].ctx(), ctxs[d]);
      values[d] = ToVector(out[0]);
    }
    // float32 from the same double arithmetic; the GPU's sqrt/log/cos may differ in the last
    // ulp of the double before rounding to float.
    for (size_t i = 0; i < values[0].size(); ++i) {
      ASSERT_NEAR(values[1][i], values[0][i], 1e-6 * (1 + std::fabs(values[0][i])))
          << op << " element " << i;
    }
  }
}

// An op without GPU kernels is an error naming it and the device, and the GPU keeps working.
TEST(GpuOps, OpWithoutGpuKernelsIsRejectedByName) {
  if (GpuCount() == 0) GTEST_SKIP() << "no GPU on this machine";
  const OpCase* cpu_only = nullptr;
  for (const OpCase& c : AllCases()) {
    if (!OpRegistry::Get()->Get(c.op)->gpu && !c.in_shapes.empty()) {
      cpu_only = &c;
      break;
    }
  }
  const NDArray x = MakeArray(Shape{2, 3}, {1, 2, 3, 4, 5, 6}, DType::kFloat32, Context::GPU(0));
  std::string name;
  std::vector<NDArray> inputs;
  std::map<std::string, std::string> params;
  if (cpu_only != nullptr) {
    std::mt19937_64 rng(3);
    name = cpu_only->op;
    params = cpu_only->params;
    inputs = OnDevice(*cpu_only, MakeInputs(*cpu_only, &rng), Context::GPU(0));
  } else {
    // Every library op has GPU kernels: one registered here for the CPU only stands in for the
    // ops a program may register itself.
    name = "_test_cpu_only_identity";
    if (OpRegistry::Get()->Find(name) == nullptr) {
      OpRegistry::Get()
          ->Add(name)
          .SetInputs({"data"})
          .SetNumOutputs(1)
          .SetInferShape(ElemwiseShape)
          .SetInferType(ElemwiseType)
          .SetCompute(DeviceType::kCPU,
                      [](const NodeAttrs&, const OpContext&, const std::vector<TBlob>&,
                         const std::vector<OpReq>&, const std::vector<TBlob>&) {});
    }
    inputs = {x};
  }
  try {
    RunOp(name, params, inputs);
    ADD_FAILURE() << name << " ran on gpu(0)";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("gpu(0)"), std::string::npos) << e.what();
  }
  const std::vector<NDArray> y = RunOp("_mul_scalar", {{"scalar", "2"}}, {x});
  EXPECT_EQ(ToVector(y[0]), (std::vector<double>{2, 4, 6, 8, 10, 12}));
}

}  // namespace
}  // namespace test
}  // namespace mx
