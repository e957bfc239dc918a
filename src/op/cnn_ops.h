// The convolutional-network op families registered by RegisterCNNOps (cnn.cc), one file each.
#ifndef MX_OP_CNN_OPS_H_
#define MX_OP_CNN_OPS_H_

#include "op/op.h"

namespace mx {

void RegisterConvolutionOps(OpRegistry* reg);    // convolution.cc
void RegisterDeconvolutionOps(OpRegistry* reg);  // deconvolution.cc
void RegisterPoolingOps(OpRegistry* reg);        // pooling.cc
void RegisterBatchNormOps(OpRegistry* reg);      // batch_norm.cc
void RegisterDropoutOps(OpRegistry* reg);        // dropout.cc

}  // namespace mx

#endif  // MX_OP_CNN_OPS_H_
