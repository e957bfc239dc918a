// InferType: every op's type inference, swept forward then backward over the graph until no
// entry changes (the driver is infer_attr.h, shared with InferShape; -1 marks an unknown type).
#include <cctype>
#include <string>
#include <vector>

#include "graph/pass/infer_attr.h"

namespace mx {
namespace {

struct TypeTraits {
  using Value = int;
  static constexpr const char* kWhat = "type";
  static constexpr const char* kHintAttr = "__dtype__";
  static int Unknown() { return -1; }
  static bool IsKnown(int t) { return t >= 0; }
  static bool Merge(int* dst, int src) {
    if (src < 0) return true;
    if (*dst >= 0) return *dst == src;
    *dst = src;
    return true;
  }
  static std::string Str(int t) { return t < 0 ? "?" : DTypeName(static_cast<DType>(t)); }
  static std::vector<int>& Of(Graph* g) { return g->dtypes; }
  static void Run(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out) {
    attrs.op->infer_type(attrs, in, out);
  }
  // "__dtype__" holds a name ("float32") or the C ABI's number ("0").
  static int ParseHint(const Node& var, const std::string& text) {
    try {
      if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) {
        return static_cast<int>(CheckedDType(std::stoi(text)));
      }
      return static_cast<int>(DTypeFromName(text));
    } catch (const std::exception& e) {
      MX_THROW(kInvalidArgument) << "variable '" << var.attrs.name << "': __dtype__ '" << text
                                 << "': " << e.what();
    }
  }
};

}  // namespace

size_t InferType(Graph* g) { return pass::AttrInference<TypeTraits>(g).Run(); }

std::string DescribeUnknownTypes(const Graph& g, size_t max) {
  return pass::DescribeUnknown<TypeTraits>(g, g.dtypes, max);
}

}  // namespace mx
