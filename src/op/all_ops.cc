#include "op/all_ops.h"

namespace mx {

void RegisterAllOps(OpRegistry* reg) {
  RegisterElemwiseUnaryOps(reg);
  RegisterElemwiseBinaryOps(reg);
}

}  // namespace mx
