// Imperative execution: run a registered op on NDArrays now (lazily, through the engine).
//
//   std::vector<NDArray> out;  // empty: allocated with the inferred shapes and types
//   Invoke(MakeAttrs(OpRegistry::Get()->Get("elemwise_add"), {}), {a, b}, &out);
//   // out[0] is a + b; the call returned before the addition ran.
//
// A caller that repeats a call (the C ABI, for every attribute set it has seen on a thread)
// prepares the attributes once and passes them again; a call then allocates nothing of its own in
// steady state:
//
//   auto add = PreparedAttrs::Make(MakeAttrs(OpRegistry::Get()->Get("elemwise_add"), {}));
//   for (...) Invoke(add, inputs, 2, &out);
#ifndef MX_OP_INVOKE_H_
#define MX_OP_INVOKE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "ndarray/ndarray.h"
#include "op/op.h"

namespace mx {

// An op call's attributes (parsed) with what Invoke derives from them alone, built once and
// shared, read-only, by every call with them and by the engine ops those calls push.
struct PreparedAttrs {
  NodeAttrs attrs;
  int num_inputs = 0;
  int num_outputs = 0;
  int num_visible_outputs = 0;

  // Counts the inputs and outputs; throws what they throw for these attributes.
  static std::shared_ptr<const PreparedAttrs> Make(NodeAttrs attrs);
};

// Infers output shapes and types (errors name the op and the shapes), allocates the outputs that
// are none (or all of them when `outputs` is empty), and pushes one engine op reading the inputs
// and writing the outputs. `ctx` is the device for ops without inputs (zeros, random_uniform)
// when no output is given. An output that aliases an input the op cannot overwrite in place is
// computed into a temporary and copied.
//
// A small op (Note [Small ops inline] in invoke.cc) is pushed as engine::FnProperty::kCheap: it
// runs before Invoke returns when its arrays have no pending work.
void Invoke(const std::shared_ptr<const PreparedAttrs>& attrs, const NDArray* inputs,
            int num_inputs, std::vector<NDArray>* outputs, bool is_train = false,
            Context ctx = Context::CPU());
// The same for a one-off call.
void Invoke(NodeAttrs attrs, const std::vector<NDArray>& inputs, std::vector<NDArray>* outputs,
            bool is_train = false, Context ctx = Context::CPU());

// Shape and type inference for one op call, with errors that name the op and every shape.
void InferOpShapes(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out);
void InferOpTypes(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out);

}  // namespace mx

#endif  // MX_OP_INVOKE_H_
