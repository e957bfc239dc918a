// Convolutional-network layers: each family lives in its own file (see op/cnn_ops.h).
#include "op/all_ops.h"
#include "op/cnn_ops.h"

namespace mx {

void RegisterCNNOps(OpRegistry* reg) {
  RegisterConvolutionOps(reg);
  RegisterDeconvolutionOps(reg);
  RegisterPoolingOps(reg);
  RegisterBatchNormOps(reg);
  RegisterDropoutOps(reg);
}

}  // namespace mx
