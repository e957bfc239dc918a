// Neural-network layers: each family lives in its own file (see op/nn_ops.h).
#include "op/all_ops.h"
#include "op/nn_ops.h"

namespace mx {

void RegisterNNOps(OpRegistry* reg) {
  RegisterFullyConnectedOps(reg);
  RegisterActivationOps(reg);
  RegisterEmbeddingOps(reg);
  RegisterLeakyReLUOps(reg);
  RegisterLRNOps(reg);
  RegisterUpSamplingOps(reg);
  RegisterCropOps(reg);
  RegisterPadOps(reg);
  RegisterSwapAxisOps(reg);
  RegisterL2NormalizationOps(reg);
  RegisterInstanceNormOps(reg);
}

}  // namespace mx
