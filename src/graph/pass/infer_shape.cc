// InferShape: every op's shape inference, swept forward then backward over the graph until no
// entry changes (the driver is infer_attr.h, shared with InferType).
//
// Backward sweeps matter: a weight's shape is usually known only from the data flowing into its
// op, and a user may give the shape of an output (or of a label) rather than of every argument.
// The same code serves complete and partial inference; entries left unknown are only counted.
#include <sstream>
#include <string>
#include <vector>

#include "graph/pass/infer_attr.h"
#include "op/op_util.h"
#include "op/param_types.h"

namespace mx {
namespace {

struct ShapeTraits {
  using Value = Shape;
  static constexpr const char* kWhat = "shape";
  static constexpr const char* kHintAttr = "__shape__";
  static Shape Unknown() { return Shape::Unknown(); }
  static bool IsKnown(const Shape& s) { return s.IsKnown(); }
  static bool Merge(Shape* dst, const Shape& src) { return MergeShape(dst, src); }
  static std::string Str(const Shape& s) { return s.ToString(); }
  static std::vector<Shape>& Of(Graph* g) { return g->shapes; }
  static void Run(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
    attrs.op->infer_shape(attrs, in, out);
  }
  // "(0,784)": as in MXNet, a 0 dim (or -1) in a hint is unknown, and "()" says nothing.
  static Shape ParseHint(const Node& var, const std::string& text) {
    std::istringstream is(text);
    Tuple t;
    is >> t;
    MX_CHECK(!is.fail(), kInvalidArgument) << "variable '" << var.attrs.name << "': __shape__ '"
                                           << text << "' is not a shape such as (128,784)";
    try {
      return Shape::FromUser(t.v.data(), static_cast<int>(t.v.size()));
    } catch (const Error& e) {
      MX_THROW(kInvalidArgument) << "variable '" << var.attrs.name << "': __shape__ '" << text
                                 << "': " << e.what();
    }
  }
};

}  // namespace

size_t InferShape(Graph* g) { return pass::AttrInference<ShapeTraits>(g).Run(); }

std::string DescribeUnknownShapes(const Graph& g, size_t max) {
  return pass::DescribeUnknown<ShapeTraits>(g, g.shapes, max);
}

}  // namespace mx
