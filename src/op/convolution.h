// Convolution's parameters and its two CPU implementations: im2col + OpenBLAS GEMM (always built,
// every dtype, the reference the other path is tested against) and oneDNN (MX_USE_ONEDNN,
// float32), which takes every call it can.
#ifndef MX_OP_CONVOLUTION_H_
#define MX_OP_CONVOLUTION_H_

#include <dmlc/parameter.h>

#include <memory>
#include <vector>

#include "op/conv_util.h"
#include "op/op.h"
#include "op/param_types.h"

namespace mx {

struct ConvolutionParam : public dmlc::Parameter<ConvolutionParam> {
  Tuple kernel, stride, dilate, pad;
  int num_filter;
  int num_group;
  uint64_t workspace;
  bool no_bias;
  // Plain enums with "None" rather than dmlc::optional<int>, whose copies trip g++ 12's
  // -Wmaybe-uninitialized; the accepted strings are MXNet's.
  int cudnn_tune;
  bool cudnn_off;
  int layout;
  DMLC_DECLARE_PARAMETER(ConvolutionParam) {
    DMLC_DECLARE_FIELD(kernel).describe("Window size: (w,) for NCW data, (h, w) for NCHW data.");
    DMLC_DECLARE_FIELD(stride).set_default(Tuple()).describe(
        "Window step per spatial axis; empty means 1.");
    DMLC_DECLARE_FIELD(dilate).set_default(Tuple()).describe(
        "Spacing between kernel taps per spatial axis; empty means 1.");
    DMLC_DECLARE_FIELD(pad).set_default(Tuple()).describe(
        "Zero padding added to both sides of each spatial axis; empty means 0.");
    DMLC_DECLARE_FIELD(num_filter).set_lower_bound(1).describe("Number of output channels.");
    DMLC_DECLARE_FIELD(num_group).set_default(1).set_lower_bound(1).describe(
        "Split input and output channels into this many independent groups.");
    DMLC_DECLARE_FIELD(workspace).set_default(1024).describe(
        "Upper bound on the scratch memory (MB) of the im2col path; it unfolds that many "
        "samples at once.");
    DMLC_DECLARE_FIELD(no_bias).set_default(false).describe("Leave out the bias input.");
    DMLC_DECLARE_FIELD(cudnn_tune)
        .add_enum("None", -1)
        .add_enum("off", 0)
        .add_enum("limited_workspace", 1)
        .add_enum("fastest", 2)
        .set_default(-1)
        .describe("cuDNN algorithm choice on the GPU (accepted for MXNet compatibility).");
    DMLC_DECLARE_FIELD(cudnn_off).set_default(false).describe(
        "Do not use cuDNN on the GPU (accepted for MXNet compatibility).");
    DMLC_DECLARE_FIELD(layout)
        .add_enum("None", -1)
        .add_enum("NCW", 1)
        .add_enum("NCHW", 2)
        .set_default(-1)
        .describe("Data layout; only channel-first layouts are supported (the default).");
  }
};

const ConvolutionParam& ConvParam(const NodeAttrs& attrs);
Window ConvWindow(const NodeAttrs& attrs);

// A direct AVX-512 kernel for float32 2-D convolutions with at most 4 input channels, stride 1,
// no dilation or groups, OW <= 64 (op/conv_direct.cc): LeNet's and the ResNet stem's first
// layer. Returns false, having done nothing, when it does not take the call.
// Whether it would take a call of these shapes (given a plain output to write).
bool DirectConvApplies(const ConvolutionParam& p, const Window& w, const Shape& data,
                       const Shape& out, DType dtype);
bool DirectConvForward(const ConvolutionParam& p, const Window& w, const std::vector<TBlob>& in,
                       OpReq req, const TBlob& out);
// How many calls it computed (tests check it ran).
uint64_t DirectConvCalls();

// The GPU's Convolution (op/cudnn_conv.cc, CUDA builds with cuDNN): cuDNN's convolution API,
// algorithms from its heuristics cached per problem, workspace from the op's temp space.
// Forward: in = (data, weight[, bias]); backward: in = (ograd, data, weight), out = (data_grad,
// weight_grad[, bias_grad]). float32 and float64.
void CudnnConvForward(const ConvolutionParam& p, const Window& w, const OpContext& ctx,
                      const std::vector<TBlob>& in, OpReq req, const TBlob& out);
void CudnnConvBackward(const ConvolutionParam& p, const Window& w, const OpContext& ctx,
                       const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                       const std::vector<TBlob>& out);
// Deconvolution (the transpose of the convolution with window `w`): in = (data, weight[, bias]);
// backward in = (ograd, data, weight), out = (data_grad, weight_grad[, bias_grad]).
void CudnnDeconvForward(const Window& w, int groups, bool no_bias, const OpContext& ctx,
                        const std::vector<TBlob>& in, OpReq req, const TBlob& out);
void CudnnDeconvBackward(const Window& w, int groups, bool no_bias, const OpContext& ctx,
                         const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                         const std::vector<TBlob>& out);

#if MX_USE_ONEDNN
// The oneDNN path (op/onednn/convolution.cc). Each returns false, having done nothing, when it
// does not take the call (not float32, an output to accumulate into, a geometry oneDNN does not
// express, or MX_ONEDNN=0); the caller then runs the im2col path. Forward: in = (data, weight[,
// bias]); backward: in = (ograd, data, weight), out = (data_grad, weight_grad[, bias_grad]).
// They use the node's plans from OpContext::state when an executor built them
// (OneDNNConvState), otherwise plans cached per problem and thread.
bool OneDNNConvForward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                       OpReq req, const TBlob& out);
bool OneDNNConvBackward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                        const std::vector<OpReq>& req, const std::vector<TBlob>& out);
// The operands the oneDNN path takes blocked (Op::SetLayoutSlots): data and output forward;
// output gradient, data and data gradient backward. None where it would not take the call.
LayoutSlots OneDNNConvSlots(const NodeAttrs& attrs, bool backward, const std::vector<Shape>& in,
                            const std::vector<Shape>& out, int dtype);
// The FCreateState of Convolution (backward false) and _backward_Convolution: the node's oneDNN
// plans for the directions it computes, built at bind for the layouts of the node's blobs.
std::shared_ptr<void> OneDNNConvState(const NodeAttrs& attrs, bool backward,
                                      const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                                      const std::vector<TBlob>& out);
#endif

}  // namespace mx

#endif  // MX_OP_CONVOLUTION_H_
