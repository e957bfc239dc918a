// The neural-network op families registered by RegisterNNOps (nn.cc), one file each.
#ifndef MX_OP_NN_OPS_H_
#define MX_OP_NN_OPS_H_

#include "op/op.h"

namespace mx {

void RegisterFullyConnectedOps(OpRegistry* reg);  // fully_connected.cc
void RegisterActivationOps(OpRegistry* reg);      // activation.cc: Activation, softmax, log_softmax
void RegisterEmbeddingOps(OpRegistry* reg);       // embedding.cc
void RegisterLeakyReLUOps(OpRegistry* reg);       // leaky_relu.cc: LeakyReLU (leaky, prelu, elu)
void RegisterLRNOps(OpRegistry* reg);             // lrn.cc
void RegisterUpSamplingOps(OpRegistry* reg);      // upsampling.cc (nearest)
void RegisterCropOps(OpRegistry* reg);            // crop.cc
void RegisterPadOps(OpRegistry* reg);             // pad.cc
void RegisterSwapAxisOps(OpRegistry* reg);        // swapaxis.cc: SwapAxis, swapaxes
void RegisterL2NormalizationOps(OpRegistry* reg);  // l2_normalization.cc
void RegisterInstanceNormOps(OpRegistry* reg);     // instance_norm.cc

}  // namespace mx

#endif  // MX_OP_NN_OPS_H_
