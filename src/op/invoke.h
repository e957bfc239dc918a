// Imperative execution: run a registered op on NDArrays now (lazily, through the engine).
//
//   std::vector<NDArray> out;  // empty: allocated with the inferred shapes and types
//   Invoke(MakeAttrs(OpRegistry::Get()->Get("elemwise_add"), {}), {a, b}, &out);
//   // out[0] is a + b; the call returned before the addition ran.
#ifndef MX_OP_INVOKE_H_
#define MX_OP_INVOKE_H_

#include <vector>

#include "ndarray/ndarray.h"
#include "op/op.h"

namespace mx {

// Infers output shapes and types (errors name the op and the shapes), allocates the outputs that
// are none (or all of them when `outputs` is empty), and pushes one engine op reading the inputs
// and writing the outputs. `ctx` is the device for ops without inputs (zeros, random_uniform)
// when no output is given. An output that aliases an input the op cannot overwrite in place is
// computed into a temporary and copied. `attrs` is taken by value: it moves into the pushed op.
void Invoke(NodeAttrs attrs, const std::vector<NDArray>& inputs, std::vector<NDArray>* outputs,
            bool is_train = false, Context ctx = Context::CPU());

// Shape and type inference for one op call, with errors that name the op and every shape.
void InferOpShapes(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out);
void InferOpTypes(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out);

}  // namespace mx

#endif  // MX_OP_INVOKE_H_
