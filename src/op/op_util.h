// Helpers shared by op registrations: shape/type inference for common patterns, and gradient
// graph building.
#ifndef MX_OP_OP_UTIL_H_
#define MX_OP_OP_UTIL_H_

#include <string>
#include <vector>

#include "op/op.h"

namespace mx {

// Merges `src` into `*dst`: unknown rank or dims take src's; returns false on a conflict.
bool MergeShape(Shape* dst, const Shape& src);

// Assigns `value` to the shape `(*shapes)[i]`, throwing an error that names the argument when it
// conflicts with what is there. `what` is e.g. "input 'weight'" or "output 0".
void AssignShape(std::vector<Shape>* shapes, size_t i, const Shape& value, const std::string& what);

// Every input and output has the same shape (elementwise ops).
bool ElemwiseShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out);
// Every input and output has the same dtype.
bool ElemwiseType(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out);

// Op::SetWork of a matrix product out[0] = in[0] x in[1] (M x K by K x N, any transposes, over
// `batch` independent products): M N K multiply-adds, which is sqrt(|in0| |in1| |out0| / batch).
int64_t ProductWork(const std::vector<Shape>& in, const std::vector<Shape>& out, int64_t batch = 1);
// Op::SetWork of a filter op (convolutions): every element of `each` meets one whole filter, a
// slice of the weight in[1] (its leading axis counts the filters).
int64_t FilterWork(const Shape& each, const std::vector<Shape>& in);

// The names "arg0".."argN-1" (for variadic ops).
std::vector<std::string> NumberedNames(const std::string& prefix, int n);

// ---- gradients ----

// An entry meaning "this input's gradient is zero" (pruned by the gradient pass).
inline NodeEntry ZeroGradient() { return NodeEntry{}; }
inline bool IsZeroGradient(const NodeEntry& e) { return e.node == nullptr; }

// A node of op `op_name` named after `fwd` ("<fwd name>_<suffix>"), on `inputs`.
NodeEntry MakeGradEntry(const std::string& op_name, const NodePtr& fwd, const std::string& suffix,
                        std::vector<NodeEntry> inputs,
                        const std::map<std::string, std::string>& params = {}, uint32_t index = 0);
// All outputs of one such node (for backward ops that produce several input gradients).
std::vector<NodeEntry> MakeGradNode(const std::string& op_name, const NodePtr& fwd,
                                    std::vector<NodeEntry> inputs,
                                    const std::map<std::string, std::string>& params = {});
// The forward node's output `i` and input `i` as entries.
inline NodeEntry OutputOf(const NodePtr& n, uint32_t i = 0) { return NodeEntry{n, i}; }
inline NodeEntry InputOf(const NodePtr& n, size_t i) { return n->inputs[i]; }

// Formats a double the way parameters parse it back (shortest exact form).
std::string ParamString(double v);

}  // namespace mx

#endif  // MX_OP_OP_UTIL_H_
