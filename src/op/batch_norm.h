// BatchNorm's parameters, shared by its plain-loop kernels (batch_norm.cc), the oneDNN path and
// the cuDNN path.
#ifndef MX_OP_BATCH_NORM_H_
#define MX_OP_BATCH_NORM_H_

#include <dmlc/parameter.h>

#include <vector>

#include "op/op.h"

namespace mx {

struct BatchNormParam : public dmlc::Parameter<BatchNormParam> {
  double eps;
  float momentum;
  bool fix_gamma;
  bool use_global_stats;
  bool output_mean_var;
  int axis;
  bool cudnn_off;
  DMLC_DECLARE_PARAMETER(BatchNormParam) {
    DMLC_DECLARE_FIELD(eps).set_default(1e-3).set_lower_bound(0).describe(
        "Added to the variance before the square root, for stability.");
    DMLC_DECLARE_FIELD(momentum).set_default(0.9f).set_range(0, 1).describe(
        "Moving statistics decay: moving = moving * momentum + batch * (1 - momentum).");
    DMLC_DECLARE_FIELD(fix_gamma).set_default(true).describe(
        "Use a scale of 1 instead of gamma (whose gradient is then 0).");
    DMLC_DECLARE_FIELD(use_global_stats)
        .set_default(false)
        .describe("Normalise with the moving statistics in training too (and leave them as is).");
    DMLC_DECLARE_FIELD(output_mean_var)
        .set_default(false)
        .describe("Also output the batch mean and variance (outputs 1 and 2).");
    DMLC_DECLARE_FIELD(axis).set_default(1).describe(
        "The channel axis; negative counts from the last axis.");
    DMLC_DECLARE_FIELD(cudnn_off).set_default(false).describe(
        "On the GPU, use libmx's own kernels instead of cuDNN's batch normalisation.");
  }
};

// Data viewed around the channel axis: (outer, channels, inner).
struct ChannelView {
  int64_t outer = 1, c = 1, inner = 1;
  int64_t Count() const { return outer * inner; }  // elements per channel
};
ChannelView ChannelViewOf(const BatchNormParam& p, const Shape& data);

#if MX_USE_ONEDNN
// The oneDNN path (op/onednn/batch_norm.cc); false, having done nothing, when it does not take
// the call (not float32, accumulation, or MX_ONEDNN=0). Same contracts as the loops: forward
// in = (data, gamma, beta, moving_mean, moving_var), out = (output, mean, var); backward
// in = (ograd, data, gamma, mean, var), out = (data_grad, gamma_grad, beta_grad).
bool OneDNNBatchNormForward(const BatchNormParam& p, bool training, const OpContext& ctx,
                            const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                            const std::vector<TBlob>& out);
bool OneDNNBatchNormBackward(const BatchNormParam& p, const OpContext& ctx,
                             const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                             const std::vector<TBlob>& out);
// The operands the oneDNN path takes blocked, tied (Op::SetLayoutSlots): data and output
// forward; output gradient, data and data gradient backward.
LayoutSlots OneDNNBatchNormSlots(const BatchNormParam& p, bool backward,
                                 const std::vector<Shape>& in, int dtype);
#endif

#if MX_USE_CUDA && MX_USE_CUDNN
// The cuDNN path (op/cudnn_batch_norm.cc), float32 on a GPU unless cudnn_off; false, having done
// nothing, for what cuDNN's API does not cover. Same contracts as the oneDNN functions above;
// both use the op's scratch (ResourceType::kTempSpace).
bool CudnnBatchNormForward(const BatchNormParam& p, bool training, const OpContext& ctx,
                           const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                           const std::vector<TBlob>& out);
bool CudnnBatchNormBackward(const BatchNormParam& p, const OpContext& ctx,
                            const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                            const std::vector<TBlob>& out);
#endif

}  // namespace mx

#endif  // MX_OP_BATCH_NORM_H_
