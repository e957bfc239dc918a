// Neural-network layers: each family lives in its own file (see op/nn_ops.h).
#include "op/all_ops.h"
#include "op/nn_ops.h"

namespace mx {

void RegisterNNOps(OpRegistry* reg) {
  RegisterFullyConnectedOps(reg);
  RegisterActivationOps(reg);
  RegisterEmbeddingOps(reg);
}

}  // namespace mx
