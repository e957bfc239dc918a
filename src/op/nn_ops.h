// The neural-network op families registered by RegisterNNOps (nn.cc), one file each.
#ifndef MX_OP_NN_OPS_H_
#define MX_OP_NN_OPS_H_

#include "op/op.h"

namespace mx {

void RegisterFullyConnectedOps(OpRegistry* reg);  // fully_connected.cc
void RegisterActivationOps(OpRegistry* reg);      // activation.cc: Activation, softmax, log_softmax
void RegisterEmbeddingOps(OpRegistry* reg);       // embedding.cc

}  // namespace mx

#endif  // MX_OP_NN_OPS_H_
