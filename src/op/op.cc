#include "op/op.h"

#include <algorithm>
#include <cctype>

#include "op/all_ops.h"

namespace mx {

// ---- OpContext ----

void* OpContext::TempSpace(size_t bytes) const {
  if (requested != nullptr) {
    for (const Resource& r : *requested) {
      if (r.type == ResourceType::kTempSpace) return r.temp->Get(bytes, run.ctx);
    }
  }
  MX_THROW(kInternal) << "op asked for temp space without requesting ResourceType::kTempSpace";
}

RandomGenerator* OpContext::Random() const {
  if (requested != nullptr) {
    for (const Resource& r : *requested) {
      if (r.type == ResourceType::kRandom) return r.random;
    }
  }
  MX_THROW(kInternal) << "op asked for random numbers without requesting ResourceType::kRandom";
}

// ---- Op registration ----

Op& Op::Describe(const std::string& text) {
  doc = text;
  return *this;
}

Op& Op::SetNoParam() {
  params.clear();
  const std::string op_name = name;
  parse = [op_name](NodeAttrs* attrs) {
    if (!attrs->dict.empty()) {
      MX_THROW(kInvalidArgument) << "operator '" << op_name << "' takes no parameters, got '"
                                 << attrs->dict.begin()->first << "'";
    }
  };
  return *this;
}

Op& Op::SetInputs(std::vector<std::string> names) {
  fixed_num_inputs = static_cast<int>(names.size());
  input_names = [names](const NodeAttrs&) { return names; };
  return *this;
}

Op& Op::SetInputs(FNames names) {
  fixed_num_inputs = -1;
  input_names = std::move(names);
  return *this;
}

Op& Op::SetNumOutputs(int n) {
  num_outputs = [n](const NodeAttrs&) { return n; };
  return *this;
}

Op& Op::SetNumOutputs(FNumber n) {
  num_outputs = std::move(n);
  return *this;
}

Op& Op::SetNumVisibleOutputs(FNumber n) {
  num_visible_outputs = std::move(n);
  return *this;
}

Op& Op::SetOutputNames(FNames names) {
  output_names = std::move(names);
  return *this;
}

Op& Op::SetInferShape(FInferShape f) {
  infer_shape = std::move(f);
  return *this;
}

Op& Op::SetInferType(FInferType f) {
  infer_type = std::move(f);
  return *this;
}

Op& Op::SetInplace(std::vector<std::pair<int, int>> pairs) {
  inplace = [pairs](const NodeAttrs&) { return pairs; };
  return *this;
}

Op& Op::SetInplace(FInplace f) {
  inplace = std::move(f);
  return *this;
}

Op& Op::SetResources(std::vector<ResourceType> types) {
  resources = [types](const NodeAttrs&) { return types; };
  return *this;
}

Op& Op::SetResources(FResources f) {
  resources = std::move(f);
  return *this;
}

Op& Op::SetCompute(DeviceType dev, FCompute f) {
  compute[dev] = std::move(f);
  return *this;
}

Op& Op::SetComputeAll(FCompute f, bool gpu_kernels) {
  gpu = true;
  if (gpu_kernels) compute[DeviceType::kGPU] = f;
  compute[DeviceType::kCPU] = std::move(f);
  return *this;
}

Op& Op::SetCreateState(DeviceType dev, FCreateState f) {
  create_state[dev] = std::move(f);
  return *this;
}

Op& Op::SetGradient(FGradient f) {
  gradient = std::move(f);
  not_differentiable = false;
  return *this;
}

Op& Op::SetNotDifferentiable() {
  gradient = nullptr;
  not_differentiable = true;
  return *this;
}

Op& Op::SetMutateInputs(FIndices f, bool in_inference) {
  mutate_inputs = std::move(f);
  mutates_in_inference = in_inference;
  return *this;
}

Op& Op::SetWork(FWork f) {
  work = std::move(f);
  return *this;
}

Op& Op::SetElementwise() {
  elementwise = true;
  return *this;
}

Op& Op::SetLayoutSlots(FLayoutSlots f) {
  layout_slots = std::move(f);
  return *this;
}

Op& Op::SetHidden() {
  hidden = true;
  return *this;
}

Op& Op::SetBackwardOf(const std::string& forward) {
  backward_of = forward;
  hidden = true;
  return SetNotDifferentiable();
}

// ---- Op queries ----

int Op::NumInputs(const NodeAttrs& attrs) const {
  if (fixed_num_inputs >= 0) return fixed_num_inputs;
  return static_cast<int>(input_names(attrs).size());
}

int Op::NumOutputs(const NodeAttrs& attrs) const { return num_outputs(attrs); }

int Op::NumVisibleOutputs(const NodeAttrs& attrs) const {
  return num_visible_outputs ? num_visible_outputs(attrs) : num_outputs(attrs);
}

std::vector<std::string> Op::InputNames(const NodeAttrs& attrs) const { return input_names(attrs); }

std::vector<std::string> Op::OutputNames(const NodeAttrs& attrs) const {
  if (output_names) return output_names(attrs);
  const int n = NumOutputs(attrs);
  if (n == 1) return {"output"};
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back("output" + std::to_string(i));
  return names;
}

void Op::ParseParams(NodeAttrs* attrs) const { parse(attrs); }

const FCompute* Op::Compute(DeviceType dev) const {
  // Pinned host memory is host memory: CPU kernels serve it.
  if (dev == DeviceType::kCPUPinned) dev = DeviceType::kCPU;
  auto it = compute.find(dev);
  return it == compute.end() ? nullptr : &it->second;
}

namespace impl {
void RethrowParamError(const std::string& op, const std::string& what) {
  MX_THROW(kInvalidArgument) << "operator '" << op << "': " << what;
}
}  // namespace impl

// ---- OpRegistry ----

OpRegistry* OpRegistry::Get() {
  // Filled by explicit calls (not static initialisers) so a static libmx.a keeps every op.
  static OpRegistry* registry = [] {
    auto* r = new OpRegistry();  // leaked: ops live as long as the process
    RegisterAllOps(r);
    for (auto& kv : r->ops_) r->sorted_.push_back(kv.second.get());
    return r;
  }();
  return registry;
}

Op& OpRegistry::Add(const std::string& name) {
  auto& slot = ops_[name];
  MX_CHECK(!slot, kInternal) << "operator '" << name << "' registered twice";
  slot.reset(new Op(name));
  slot->SetNoParam();
  return *slot;
}

const Op* OpRegistry::Find(const std::string& name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : it->second.get();
}

namespace {
// Edit distance, for "did you mean" suggestions.
size_t Distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower(a[i - 1]) == std::tolower(b[j - 1]);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

const Op* OpRegistry::Get(const std::string& name) const {
  const Op* op = Find(name);
  if (op != nullptr) return op;
  std::string best;
  size_t best_d = 4;
  for (auto& kv : ops_) {
    const size_t d = Distance(name, kv.first);
    if (d < best_d) {
      best_d = d;
      best = kv.first;
    }
  }
  MX_THROW(kNotFound) << "unknown operator '" << name << "'"
                      << (best.empty() ? std::string() : "; did you mean '" + best + "'?");
}

NodeAttrs MakeAttrs(const Op* op, const std::map<std::string, std::string>& params,
                    const std::string& name) {
  NodeAttrs attrs;
  attrs.op = op;
  attrs.name = name;
  attrs.dict = params;
  op->ParseParams(&attrs);
  // Each op bounds its own count parameters; this catches one that forgot.
  const int n_out = op->NumOutputs(attrs);
  MX_CHECK(n_out >= 0 && n_out <= kMaxOpArity, kInvalidArgument)
      << "operator '" << op->name << "': " << n_out << " outputs, more than the limit of "
      << kMaxOpArity;
  return attrs;
}

}  // namespace mx
