#include "op_harness.h"

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <unordered_map>

#include "engine/engine.h"
#include "op/invoke.h"
#include "op/op_util.h"
#include "resource/resource.h"

namespace mx {
namespace test {

std::vector<OpCase>& AllCases() {
  static std::vector<OpCase> cases;
  return cases;
}

std::string OpCase::Describe() const {
  std::ostringstream os;
  os << op << "(";
  bool first = true;
  for (auto& kv : params) {
    os << (first ? "" : ", ") << kv.first << "=" << kv.second;
    first = false;
  }
  os << ") on";
  for (auto& s : in_shapes) os << " " << s;
  return os.str();
}

std::vector<double> Map1(const std::vector<double>& x, const std::function<double(double)>& f) {
  std::vector<double> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = f(x[i]);
  return y;
}

std::vector<double> Map2(const std::vector<double>& a, const std::vector<double>& b,
                         const std::function<double(double, double)>& f) {
  std::vector<double> y(a.size());
  for (size_t i = 0; i < a.size(); ++i) y[i] = f(a[i], b[i]);
  return y;
}

NDArray MakeArray(const Shape& shape, const std::vector<double>& values, DType dtype, Context ctx) {
  NDArray cpu64(shape, Context::CPU(), DType::kFloat64);
  cpu64.SyncCopyFromCPU(values.data(), values.size());
  if (dtype == DType::kFloat64 && ctx == Context::CPU()) return cpu64;
  NDArray cast(shape, Context::CPU(), dtype);
  NDArray::CopyFromTo(cpu64, cast);
  return ctx == Context::CPU() ? cast : cast.CopyTo(ctx);
}

std::vector<double> ToVector(const NDArray& a) {
  NDArray host = a.ctx().is_host() ? a : a.CopyTo(Context::CPU());
  NDArray d(a.shape(), Context::CPU(), DType::kFloat64);
  NDArray::CopyFromTo(host, d);
  std::vector<double> v(a.Size());
  d.SyncCopyToCPU(v.data(), v.size());
  return v;
}

std::vector<NDArray> RunOp(const std::string& op, const std::map<std::string, std::string>& params,
                           const std::vector<NDArray>& inputs, bool is_train) {
  NodeAttrs attrs = MakeAttrs(OpRegistry::Get()->Get(op), params, op);
  std::vector<NDArray> out;
  Invoke(attrs, inputs, &out, is_train);
  return out;
}

namespace {

// Every evaluation of a case starts from the same generator state, so ops that draw random
// numbers (Dropout's mask) compute the same function each time: float32 vs float64 and finite
// differences then compare like with like.
constexpr uint64_t kCaseRandomSeed = 20261203;

// An executor gives an output nobody reads no memory (request kNull, a null pointer): every op
// with several outputs (a forward op's hidden state, a backward op's input gradients) must leave
// such an output alone and compute the others as usual. Runs the op's CPU compute directly, once
// per output, with that output null; the other outputs must match `want`.
void CheckNullOutputs(const NodeAttrs& attrs, const std::vector<NDArray>& inputs,
                      const std::vector<NDArray>& want, bool is_train) {
  const Op* op = attrs.op;
  // Runs the CPU compute directly: GPU arrays are left to the GPU tests' comparison with the CPU.
  if (want.size() < 2 || (!inputs.empty() && inputs[0].ctx().is_gpu())) return;
  engine::Engine::Get()->WaitForAll();
  std::vector<TBlob> in;
  for (const NDArray& a : inputs) in.push_back(a.data());
  std::vector<Resource> resources;
  if (op->resources) {
    for (ResourceType t : op->resources(attrs)) {
      resources.push_back(ResourceManager::Get()->Request(Context::CPU(), t));
    }
  }
  OpContext octx;
  octx.run.ctx = Context::CPU();
  octx.is_train = is_train;
  octx.requested = &resources;
  for (size_t k = 0; k < want.size(); ++k) {
    SCOPED_TRACE(op->name + " with output " + std::to_string(k) + " not requested");
    std::vector<NDArray> outs;
    std::vector<TBlob> out;
    std::vector<OpReq> req(want.size(), OpReq::kWrite);
    for (size_t j = 0; j < want.size(); ++j) {
      outs.emplace_back(want[j].shape(), Context::CPU(), want[j].dtype());
      out.push_back(outs.back().data());
    }
    out[k].dptr = nullptr;
    req[k] = OpReq::kNull;
    ResourceManager::Get()->SeedRandom(kCaseRandomSeed);
    engine::Engine::Get()->WaitForAll();
    (*op->Compute(DeviceType::kCPU))(attrs, octx, in, req, out);
    for (size_t j = 0; j < want.size(); ++j) {
      if (j == k) continue;
      const std::vector<double> got = ToVector(outs[j]), expected = ToVector(want[j]);
      // float32 may take another path (oneDNN declines calls with outputs to skip): rounding.
      const double tol = want[j].dtype() == DType::kFloat32 ? 1e-5 : 1e-9;
      for (size_t i = 0; i < got.size(); ++i) {
        if (std::fabs(got[i] - expected[i]) > tol * (1 + std::fabs(expected[i]))) {
          ADD_FAILURE() << "output " << j << " element " << i << " is " << got[i] << ", expected "
                        << expected[i];
          break;
        }
      }
    }
  }
}

// Evaluates graph entries imperatively, memoising every node's outputs.
class Evaluator {
 public:
  Evaluator(bool is_train) : is_train_(is_train) {}
  void Bind(const NodePtr& node, std::vector<NDArray> values) { values_[node.get()] = values; }
  NDArray Eval(const NodeEntry& e) {
    auto it = values_.find(e.node.get());
    if (it == values_.end()) {
      EXPECT_FALSE(e.node->is_variable()) << "unbound variable " << e.node->attrs.name;
      std::vector<NDArray> ins;
      for (const NodeEntry& in : e.node->inputs) ins.push_back(Eval(in));
      std::vector<NDArray> outs;
      ResourceManager::Get()->SeedRandom(kCaseRandomSeed);
      Invoke(e.node->attrs, ins, &outs, is_train_);
      CheckNullOutputs(e.node->attrs, ins, outs, is_train_);
      it = values_.emplace(e.node.get(), outs).first;
    }
    return it->second.at(e.index);
  }

 private:
  bool is_train_;
  std::unordered_map<Node*, std::vector<NDArray>> values_;
};

}  // namespace

std::vector<NDArray> EvalGradient(const std::string& op_name,
                                  const std::map<std::string, std::string>& params,
                                  const std::vector<NDArray>& inputs,
                                  const std::vector<NDArray>& ograds, bool is_train) {
  const Op* op = OpRegistry::Get()->Get(op_name);
  std::vector<NodeEntry> in_entries;
  Evaluator ev(is_train);
  for (size_t i = 0; i < inputs.size(); ++i) {
    NodePtr v = MakeVariable("in" + std::to_string(i));
    ev.Bind(v, {inputs[i]});
    in_entries.push_back({v, 0});
  }
  NodePtr fwd = MakeNode(op_name, "fwd", in_entries, params);
  std::vector<NDArray> fwd_out;
  Invoke(fwd->attrs, inputs, &fwd_out, is_train);
  CheckNullOutputs(fwd->attrs, inputs, fwd_out, is_train);
  ev.Bind(fwd, fwd_out);
  std::vector<NodeEntry> og_entries;
  for (size_t i = 0; i < ograds.size(); ++i) {
    NodePtr v = MakeVariable("ograd" + std::to_string(i));
    ev.Bind(v, {ograds[i]});
    og_entries.push_back({v, 0});
  }
  EXPECT_TRUE(static_cast<bool>(op->gradient)) << op_name << " has no gradient";
  std::vector<NodeEntry> grads = op->gradient(fwd, og_entries);
  EXPECT_EQ(grads.size(), inputs.size()) << op_name << ": one gradient per input";
  std::vector<NDArray> out;
  for (const NodeEntry& g : grads) out.push_back(IsZeroGradient(g) ? NDArray() : ev.Eval(g));
  return out;
}

namespace {

void ExpectClose(const std::vector<double>& got, const std::vector<double>& want, double rtol,
                 double atol, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = atol + rtol * std::fabs(want[i]);
    if (!(std::fabs(got[i] - want[i]) <= tol) && reported++ < 5) {
      ADD_FAILURE() << what << ": element " << i << " is " << got[i] << ", expected " << want[i]
                    << " (tolerance " << tol << ")";
    }
  }
}

}  // namespace

Vals MakeInputs(const OpCase& c, std::mt19937_64* rng) {
  Vals in;
  std::uniform_real_distribution<double> dist(c.lo, c.hi);
  for (size_t i = 0; i < c.in_shapes.size(); ++i) {
    std::vector<double> v(c.in_shapes[i].Size());
    for (auto& x : v) x = dist(*rng);
    if (c.init) c.init(static_cast<int>(i), &v);
    in.push_back(std::move(v));
  }
  return in;
}

namespace {

std::vector<NDArray> ToArrays(const OpCase& c, const Vals& in, DType dtype) {
  std::vector<NDArray> arrays;
  for (size_t i = 0; i < in.size(); ++i) arrays.push_back(MakeArray(c.in_shapes[i], in[i], dtype));
  return arrays;
}

Vals Forward(const OpCase& c, const Vals& in, DType dtype) {
  ResourceManager::Get()->SeedRandom(kCaseRandomSeed);
  Vals out;
  for (const NDArray& o : RunOp(c.op, c.params, ToArrays(c, in, dtype), c.is_train)) {
    out.push_back(ToVector(o));
  }
  return out;
}

}  // namespace

void CheckCase(const OpCase& c, uint64_t seed) {
  SCOPED_TRACE(c.Describe() + ", seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const Vals in = MakeInputs(c, &rng);
  const Vals out64 = Forward(c, in, DType::kFloat64);
  if (c.reference) {
    const Vals ref = c.reference(in);
    ASSERT_EQ(ref.size(), out64.size()) << "reference output count";
    for (size_t i = 0; i < ref.size(); ++i) {
      ExpectClose(out64[i], ref[i], 1e-10, 1e-12, "float64 output " + std::to_string(i));
    }
  }
  if (c.test_float32) {
    const Vals out32 = Forward(c, in, DType::kFloat32);
    for (size_t i = 0; i < out64.size(); ++i) {
      ExpectClose(out32[i], out64[i], c.fwd_rtol, c.fwd_atol,
                  "float32 output " + std::to_string(i) + " vs float64");
    }
  }
  const Op* op = OpRegistry::Get()->Get(c.op);
  if (!c.check_grad && !c.grad_reference) return;
  if (op->not_differentiable) return;

  // Random output gradients w: the checked function is L(x) = sum_k w_k . f_k(x) over the
  // visible outputs (hidden ones are state for the backward op, which ignores their gradient).
  std::uniform_real_distribution<double> wdist(-1.0, 1.0);
  const size_t n_visible = static_cast<size_t>(op->NumVisibleOutputs(MakeAttrs(op, c.params)));
  Vals w;
  std::vector<NDArray> ograds;
  for (size_t k = 0; k < out64.size(); ++k) {
    std::vector<double> wk(out64[k].size());
    for (auto& x : wk) x = k < n_visible ? wdist(rng) : 0.0;
    const std::vector<NDArray> outs = RunOp(c.op, c.params, ToArrays(c, in, DType::kFloat64));
    ograds.push_back(MakeArray(outs[k].shape(), wk));
    w.push_back(std::move(wk));
  }
  ResourceManager::Get()->SeedRandom(kCaseRandomSeed);
  const std::vector<NDArray> grads =
      EvalGradient(c.op, c.params, ToArrays(c, in, DType::kFloat64), ograds, c.is_train);
  std::vector<int> idx = c.grad_inputs;
  if (idx.empty()) {
    for (size_t i = 0; i < in.size(); ++i) idx.push_back(static_cast<int>(i));
  }
  Vals analytic(in.size());
  for (int i : idx) {
    analytic[i] = grads[i].is_none() ? std::vector<double>(in[i].size(), 0.0) : ToVector(grads[i]);
  }
  if (c.grad_reference) {
    const Vals ref = c.grad_reference(in, w);
    for (int i : idx) {
      ExpectClose(analytic[i], ref[i], c.grad_rtol, c.grad_atol,
                  "gradient of input " + std::to_string(i) + " vs reference");
    }
  }
  if (!c.check_grad) return;
  auto loss = [&](const Vals& x) {
    const Vals y = Forward(c, x, DType::kFloat64);
    double l = 0;
    for (size_t k = 0; k < y.size(); ++k) {
      for (size_t j = 0; j < y[k].size(); ++j) l += w[k][j] * y[k][j];
    }
    return l;
  };
  for (int i : idx) {
    std::vector<double> numeric(in[i].size());
    Vals x = in;
    for (size_t j = 0; j < in[i].size(); ++j) {
      const double h = c.fd_eps * std::max(1.0, std::fabs(in[i][j]));
      x[i][j] = in[i][j] + h;
      const double up = loss(x);
      x[i][j] = in[i][j] - h;
      const double down = loss(x);
      x[i][j] = in[i][j];
      numeric[j] = (up - down) / (2 * h);
    }
    ExpectClose(analytic[i], numeric, c.grad_rtol, c.grad_atol,
                "gradient of input " + std::to_string(i) + " vs finite differences");
  }
}

// One test over every registered case, so adding a case needs no new TEST.
TEST(OpCases, All) {
  ASSERT_FALSE(AllCases().empty());
  uint64_t seed = 1234;
  for (const OpCase& c : AllCases()) CheckCase(c, seed++);
}

}  // namespace test
}  // namespace mx
