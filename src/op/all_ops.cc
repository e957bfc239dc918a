#include "op/all_ops.h"

namespace mx {

void RegisterAllOps(OpRegistry* reg) {
  RegisterElemwiseUnaryOps(reg);
  RegisterElemwiseBinaryOps(reg);
  RegisterBroadcastOps(reg);
  RegisterReduceOps(reg);
  RegisterMatrixOps(reg);
  RegisterInitOps(reg);
  RegisterNNOps(reg);
  RegisterCNNOps(reg);
  RegisterLossOps(reg);
  RegisterOptimizerOps(reg);
}

}  // namespace mx
