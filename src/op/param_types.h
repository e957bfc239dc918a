// Parameter field types that dmlc-core parses from strings, for op parameter structs.
//
//   struct ReshapeParam : dmlc::Parameter<ReshapeParam> {
//     Tuple shape;
//     DMLC_DECLARE_PARAMETER(ReshapeParam) { DMLC_DECLARE_FIELD(shape).describe("..."); }
//   };
//   // accepts "(2,3)", "[2, 3]", "(2,)", "()", and a bare "4"
#ifndef MX_OP_PARAM_TYPES_H_
#define MX_OP_PARAM_TYPES_H_

#include <dmlc/type_traits.h>

#include <cstdint>
#include <istream>
#include <ostream>
#include <vector>

#include "base/shape.h"

namespace mx {

// A tuple of integers (shapes, axes, kernel sizes). May hold negative values (reshape codes, axes
// counted from the end).
struct Tuple {
  std::vector<int64_t> v;

  Tuple() = default;
  Tuple(std::initializer_list<int64_t> values) : v(values) {}
  explicit Tuple(std::vector<int64_t> values) : v(std::move(values)) {}
  size_t size() const { return v.size(); }
  bool empty() const { return v.empty(); }
  int64_t operator[](size_t i) const { return v[i]; }
  // As a shape; throws mx::Error for negative entries or too many dims.
  Shape ToShape() const { return Shape(v); }
  bool operator==(const Tuple& o) const { return v == o.v; }
};

// Parses "(a,b,...)", "[a, b]", "(a,)", "()" or a bare integer; sets failbit otherwise.
std::istream& operator>>(std::istream& is, Tuple& t);
// Prints "(a,b)" ("(a,)" for one element), which operator>> reads back.
std::ostream& operator<<(std::ostream& os, const Tuple& t);

}  // namespace mx

namespace dmlc {
DMLC_DECLARE_TYPE_NAME(mx::Tuple, "tuple of int");
}  // namespace dmlc

#endif  // MX_OP_PARAM_TYPES_H_
