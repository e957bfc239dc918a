// The operator registry: one registration block per op serves imperative calls and graphs.
//
// A block (in the op family's .cc file, inside that family's Register*Ops function) says
// everything about an op in one place:
//
//   reg.Add("FullyConnected")
//       .Describe("y = x W^T + b, with x flattened to 2-D.")
//       .SetParam<FullyConnectedParam>()
//       .SetInputs([](const NodeAttrs& a) { return ...; })        // names; count follows
//       .SetNumOutputs(1)
//       .SetInferShape(FCInferShape)
//       .SetInferType(ElemwiseType)
//       .SetResources({ResourceType::kTempSpace})
//       .SetCompute(DeviceType::kCPU, FCForwardCPU)
//       .SetGradient(FCGradient);                                 // or .SetNotDifferentiable()
//
// The registry's self-test (tests/cpp/op/registry_test.cc) fails when an op lacks any of these
// or has no test case. Gradients are graph nodes of other registered ops, usually a hidden
// "_backward_<op>" registered in the same file.
#ifndef MX_OP_OP_H_
#define MX_OP_OP_H_

#include <dmlc/parameter.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/context.h"
#include "base/dtype.h"
#include "base/error.h"
#include "base/shape.h"
#include "engine/engine.h"
#include "graph/node.h"
#include "op/tblob.h"
#include "resource/resource.h"

namespace mx {

// What an op does with each output.
enum class OpReq : int {
  kNull = 0,     // skip: nobody needs it
  kWrite = 1,    // overwrite
  kInplace = 2,  // overwrite; the output shares memory with an input (see Op::inplace)
  kAdd = 3,      // accumulate into what is there (gradient accumulation)
};

// Everything a compute function may use besides its arrays.
struct OpContext {
  engine::RunContext run;
  bool is_train = false;
  // The resources the op requested (Op::resources), in the same order.
  const std::vector<Resource>* requested = nullptr;
  // What the op's FCreateState built for this node when an executor bound it (e.g. oneDNN plans
  // for the node's shapes); null in imperative calls and for ops without one.
  void* state = nullptr;

  // Scratch memory of at least `bytes`, valid for this call (needs ResourceType::kTempSpace).
  void* TempSpace(size_t bytes) const;
  // The seeded random generator of this device (needs ResourceType::kRandom).
  RandomGenerator* Random() const;
};

// The most inputs or outputs one node may have. Variadic ops (Concat, add_n, SliceChannel, ...)
// take their counts from parameter strings and files: bounding them keeps a typo or a hostile
// file ("num_args": "1000000000") an error instead of a billion-entry name list.
constexpr int kMaxOpArity = 1 << 16;

using FNumber = std::function<int(const NodeAttrs&)>;
using FNames = std::function<std::vector<std::string>(const NodeAttrs&)>;
// Fill in unknown shapes (ndim -1 or dims -1) from known ones, forward and backward. Return false
// when not everything could be inferred yet; throw mx::Error for an inconsistency.
using FInferShape =
    std::function<bool(const NodeAttrs&, std::vector<Shape>* in, std::vector<Shape>* out)>;
// Same for element types; -1 is unknown.
using FInferType =
    std::function<bool(const NodeAttrs&, std::vector<int>* in, std::vector<int>* out)>;
using FCompute =
    std::function<void(const NodeAttrs&, const OpContext&, const std::vector<TBlob>& in,
                       const std::vector<OpReq>& req, const std::vector<TBlob>& out)>;
// The gradients of the inputs given the gradients of the outputs, as new graph entries (one per
// input; an entry with a null node means "zero gradient").
using FGradient = std::function<std::vector<NodeEntry>(const NodePtr& node,
                                                       const std::vector<NodeEntry>& ograds)>;
using FInplace = std::function<std::vector<std::pair<int, int>>(const NodeAttrs&)>;
using FResources = std::function<std::vector<ResourceType>(const NodeAttrs&)>;
using FIndices = std::function<std::vector<int>(const NodeAttrs&)>;
// Builds a node's state once, when an executor binds it: the node's inputs and outputs are those
// of every later call (shapes, dtypes and the bound arrays' pointers; an output with req kNull
// has none). Each call of that node's compute gets it as OpContext::state; the node's calls never
// overlap, so compute may update it. Throws mx::Error for what it cannot plan (bind then fails,
// naming the node); returns null to plan nothing.
using FCreateState = std::function<std::shared_ptr<void>(
    const NodeAttrs&, Context, const std::vector<TBlob>& in, const std::vector<OpReq>& req,
    const std::vector<TBlob>& out)>;
// The work of one call in multiply-adds (or element visits), from the inferred shapes.
using FWork = std::function<int64_t(const NodeAttrs&, const std::vector<Shape>& in,
                                    const std::vector<Shape>& out)>;

// Which of a node's inputs and outputs the op's compute reads or writes in any layout (TBlob::
// layout), for the layout pass. `tied`: those operands must all share one layout (oneDNN batch
// norm's source and destination); otherwise each may differ (a convolution reorders each operand
// to the layout its kernel chose).
struct LayoutSlots {
  std::vector<int> inputs, outputs;
  bool tied = false;
};
// From the node's inferred shapes and its element type. Declaring a slot is a promise of speed,
// not of correctness: the op must compute right with any layout on those slots, e.g. through
// op/layout.h's ComputePlain when its fast path declines the call.
using FLayoutSlots = std::function<LayoutSlots(const NodeAttrs&, const std::vector<Shape>& in,
                                               const std::vector<Shape>& out, int dtype)>;

// Documentation of one parameter, for op info (bindings generate functions from it).
struct ParamDoc {
  std::string name, type, description;
};

class Op {
 public:
  explicit Op(std::string name) : name(std::move(name)) {}

  // ---- registration (each returns *this so a block chains) ----
  Op& Describe(const std::string& text);
  template <typename P>
  Op& SetParam();
  Op& SetNoParam();  // an op without parameters: any key is an error
  Op& SetInputs(std::vector<std::string> names);
  Op& SetInputs(FNames names);  // count follows the names
  Op& SetNumOutputs(int n);
  Op& SetNumOutputs(FNumber n);
  // The first n outputs are the op's results; the others are hidden: state its backward reads
  // (Dropout's mask, BatchNorm's batch statistics). Symbols, list_outputs and imperative calls
  // through the C ABI see only the visible ones. Default: every output is visible.
  Op& SetNumVisibleOutputs(FNumber n);
  Op& SetOutputNames(FNames names);
  Op& SetInferShape(FInferShape f);
  Op& SetInferType(FInferType f);
  Op& SetInplace(std::vector<std::pair<int, int>> pairs);
  Op& SetInplace(FInplace f);
  Op& SetResources(std::vector<ResourceType> types);
  Op& SetResources(FResources f);
  Op& SetCompute(DeviceType dev, FCompute f);
  // `f` is written for both devices (op/kernel.h's Launch, blas::Gemm on the op's context): it
  // serves the CPU, and the GPU when `gpu_kernels` (pass op/kernel.h's kGpuKernels: true where
  // nvcc compiled the registering file, as in every CUDA build). Either way the op reports a GPU
  // implementation (`gpu`), so its documentation is the same from every build.
  Op& SetComputeAll(FCompute f, bool gpu_kernels);
  // Optional: per-node state built at bind for `dev` (FCreateState); compute must also work
  // without it (imperative calls).
  Op& SetCreateState(DeviceType dev, FCreateState f);
  Op& SetGradient(FGradient f);
  Op& SetNotDifferentiable();
  // Inputs the op writes (auxiliary states such as BatchNorm's moving statistics). With
  // `in_inference` false the op writes them only when training, so inference executors read them
  // (and many predictors may share them without waiting on each other).
  Op& SetMutateInputs(FIndices f, bool in_inference = true);
  // For ops whose work grows faster than their arrays (GEMMs, convolutions): how much one call
  // does. Imperative calls of little work run on the pushing thread (Note [Small ops inline] in
  // invoke.cc); without this, the work is the elements of the inputs and outputs together.
  Op& SetWork(FWork f);
  // Each output element is a function of the input elements at the same index, and every input
  // and output has one shape (relu, +, add_n): such an op computes right on any element order
  // its operands share, so the layout pass lets blocked activations flow through it.
  Op& SetElementwise();
  // The operands the op's compute takes in any layout (FLayoutSlots).
  Op& SetLayoutSlots(FLayoutSlots f);
  // Hidden ops (names starting with '_') are not listed for bindings' generated functions.
  Op& SetHidden();
  // This op is the backward of `forward`: tested through that op's gradient checks.
  Op& SetBackwardOf(const std::string& forward);

  // ---- queries ----
  int NumInputs(const NodeAttrs& attrs) const;
  int NumOutputs(const NodeAttrs& attrs) const;
  int NumVisibleOutputs(const NodeAttrs& attrs) const;
  std::vector<std::string> InputNames(const NodeAttrs& attrs) const;
  std::vector<std::string> OutputNames(const NodeAttrs& attrs) const;
  // Parses attrs->dict into attrs->parsed; errors name the op, the key and the valid keys.
  void ParseParams(NodeAttrs* attrs) const;
  // The compute function for `dev`, or nullptr.
  const FCompute* Compute(DeviceType dev) const;

  std::string name;
  std::string doc;
  std::vector<ParamDoc> params;
  std::function<void(NodeAttrs*)> parse;
  FNames input_names;
  int fixed_num_inputs = -1;  // set by SetInputs(vector): NumInputs without building names
  FNumber num_outputs;
  FNumber num_visible_outputs;
  FNames output_names;
  FInferShape infer_shape;
  FInferType infer_type;
  FInplace inplace;
  FResources resources;
  FGradient gradient;
  bool not_differentiable = false;
  FIndices mutate_inputs;
  bool mutates_in_inference = true;
  FWork work;
  bool elementwise = false;
  FLayoutSlots layout_slots;
  bool hidden = false;
  std::string backward_of;
  std::map<DeviceType, FCompute> compute;
  std::map<DeviceType, FCreateState> create_state;
  bool gpu = false;  // has a GPU implementation in CUDA builds (SetComputeAll)
};

class OpRegistry {
 public:
  // The registry, filled with every op on first use.
  static OpRegistry* Get();
  Op& Add(const std::string& name);
  // nullptr if unknown.
  const Op* Find(const std::string& name) const;
  // Throws mx::Error (kNotFound) naming `name` and close matches.
  const Op* Get(const std::string& name) const;
  // All ops, sorted by name.
  const std::vector<const Op*>& List() const { return sorted_; }

 private:
  OpRegistry() = default;
  std::map<std::string, std::unique_ptr<Op>> ops_;
  std::vector<const Op*> sorted_;
};

// Builds NodeAttrs for `op` from string params (parsed and checked).
NodeAttrs MakeAttrs(const Op* op, const std::map<std::string, std::string>& params,
                    const std::string& name = "");

// ---- template implementation ----
namespace impl {
[[noreturn]] void RethrowParamError(const std::string& op, const std::string& what);
}  // namespace impl

template <typename P>
Op& Op::SetParam() {
  params.clear();
  for (const auto& f : P::__FIELDS__()) params.push_back({f.name, f.type_info_str, f.description});
  const std::string op_name = name;
  parse = [op_name](NodeAttrs* attrs) {
    P p;
    const std::vector<std::pair<std::string, std::string>> kw(attrs->dict.begin(),
                                                              attrs->dict.end());
    try {
      p.Init(kw);
    } catch (const dmlc::ParamError& e) {
      // dmlc's message for a bad enum value ("Invalid Input: 'relux', valid values are: ...")
      // does not say which parameter: find it by setting each given value on its own.
      std::string what = e.what();
      for (const auto& kv : kw) {
        const auto* field = P::__MANAGER__()->Find(kv.first);
        if (field == nullptr) continue;
        P probe;
        try {
          field->Set(&probe, kv.second);
        } catch (const dmlc::ParamError& fe) {
          what = "parameter '" + kv.first + "': " + fe.what();
          break;
        }
      }
      impl::RethrowParamError(op_name, what);
    }
    attrs->parsed = std::move(p);
  };
  return *this;
}

}  // namespace mx

#endif  // MX_OP_OP_H_
