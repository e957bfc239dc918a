#include "op/broadcast_reduce_util.h"

#include <algorithm>

namespace mx {
namespace bcast {

Shape BroadcastShapes(const Shape& lhs, const Shape& rhs) {
  const int nd = std::max(lhs.ndim(), rhs.ndim());
  Shape out = Shape::Filled(nd, 1);
  for (int d = 0; d < nd; ++d) {
    const int dl = d - (nd - lhs.ndim());
    const int dr = d - (nd - rhs.ndim());
    const int64_t a = dl >= 0 ? lhs[dl] : 1;
    const int64_t b = dr >= 0 ? rhs[dr] : 1;
    MX_CHECK(a == b || a == 1 || b == 1 || a < 0 || b < 0, kInvalidArgument)
        << "shapes do not broadcast: input 'lhs' has shape " << lhs << " and input 'rhs' has shape "
        << rhs << " (aligned at the right, each pair of dims must be equal or one of them 1)";
    // An unknown dim (-1, partial inference) is 1 or the other's: the output has the other's
    // unless that is 1.
    if (a < 0 || b < 0) {
      const int64_t known = a < 0 ? b : a;
      out[d] = known > 1 ? known : -1;
    } else {
      out[d] = a == 1 ? b : a;
    }
  }
  return out;
}

Shape KeepDimsShape(const Shape& data, const std::vector<bool>& reduced) {
  Shape s = data;
  for (int d = 0; d < data.ndim(); ++d) {
    if (reduced[d]) s[d] = 1;
  }
  return s;
}

int NormalizeAxis(int64_t axis, int ndim, const std::string& what) {
  MX_CHECK(axis >= -ndim && axis < ndim, kInvalidArgument)
      << what << " " << axis << " is out of range for input 'data' with " << ndim
      << " dims (valid: " << -ndim << " to " << ndim - 1 << ")";
  return static_cast<int>(axis < 0 ? axis + ndim : axis);
}

}  // namespace bcast
}  // namespace mx
