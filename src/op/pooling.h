// Pooling's parameters and window geometry, shared by its plain-loop kernels (pooling.cc) and the
// oneDNN path (onednn/pooling.cc).
#ifndef MX_OP_POOLING_H_
#define MX_OP_POOLING_H_

#include <dmlc/parameter.h>

#include <vector>

#include "op/conv_util.h"
#include "op/op.h"
#include "op/param_types.h"

namespace mx {

enum PoolType { kMaxPool = 0, kAvgPool = 1, kSumPool = 2 };
enum PoolConvention { kPoolValid = 0, kPoolFull = 1 };

struct PoolingParam : public dmlc::Parameter<PoolingParam> {
  Tuple kernel, stride, pad;
  int pool_type;
  bool global_pool;
  bool cudnn_off;
  int pooling_convention;
  bool count_include_pad;
  DMLC_DECLARE_PARAMETER(PoolingParam) {
    DMLC_DECLARE_FIELD(kernel).set_default(Tuple()).describe(
        "Window size: (w,) for NCW data, (h, w) for NCHW data (ignored with global_pool).");
    DMLC_DECLARE_FIELD(pool_type)
        .add_enum("max", kMaxPool)
        .add_enum("avg", kAvgPool)
        .add_enum("sum", kSumPool)
        .set_default(kMaxPool)
        .describe("Reduction over each window.");
    DMLC_DECLARE_FIELD(global_pool)
        .set_default(false)
        .describe(
            "Pool over the whole spatial extent (output 1 per axis); kernel, stride and pad are "
            "ignored.");
    DMLC_DECLARE_FIELD(cudnn_off).set_default(false).describe(
        "Do not use cuDNN on the GPU (accepted for MXNet compatibility).");
    DMLC_DECLARE_FIELD(pooling_convention)
        .add_enum("valid", kPoolValid)
        .add_enum("full", kPoolFull)
        .set_default(kPoolValid)
        .describe(
            "Output extent: valid floor((in + 2*pad - kernel) / stride) + 1, full rounds up (the "
            "last window may hang over the padded input).");
    DMLC_DECLARE_FIELD(stride).set_default(Tuple()).describe(
        "Window step per spatial axis; empty means 1.");
    DMLC_DECLARE_FIELD(pad).set_default(Tuple()).describe(
        "Padding on both sides of each spatial axis; empty means 0. Max pooling never picks it.");
    DMLC_DECLARE_FIELD(count_include_pad)
        .set_default(true)
        .describe(
            "avg: divide by the whole window including padding (true) or by the input "
            "elements it covers (false).");
  }
};

const PoolingParam& PoolParam(const NodeAttrs& attrs);

// The window of one call: for global pooling the whole plane of `data`.
Window PoolWindow(const PoolingParam& p, const std::string& op, const Shape& data);
// Output extent along axis a (0: H, 1: W) of `in` (-1 when unknown).
int64_t PoolOut(const PoolingParam& p, const Window& w, int a, int64_t in, const std::string& op);

// The GPU's Pooling (op/cudnn_pool.cc, CUDA builds with cuDNN); backward: in = (ograd, data,
// output). float32 and float64; 'full' pooling only where it equals 'valid'.
void CudnnPoolForward(const PoolingParam& p, const Window& w, const OpContext& ctx, const TBlob& in,
                      OpReq req, const TBlob& out);
void CudnnPoolBackward(const PoolingParam& p, const Window& w, const OpContext& ctx,
                       const std::vector<TBlob>& in, OpReq req, const TBlob& out);

#if MX_USE_ONEDNN
// The oneDNN forward pass (op/onednn/pooling.cc); false, having done nothing, when it does not
// take the call (not float32, sum pooling, accumulation, a window oneDNN would count differently,
// or MX_ONEDNN=0).
// The operands it takes blocked, tied (Op::SetLayoutSlots): data and output forward; output
// gradient, data, output and data gradient backward.
LayoutSlots OneDNNPoolSlots(const PoolingParam& p, const Window& w, bool backward,
                            const Shape& data, const Shape& out, int dtype);
bool OneDNNPoolForward(const PoolingParam& p, const Window& w, const OpContext& ctx,
                       const TBlob& in, OpReq req, const TBlob& out);
// The backward pass (in = (ograd, data, output)) on blocked arrays only: oneDNN's plain-layout
// backward is slower than the loops (op/pooling.cc).
bool OneDNNPoolBackward(const PoolingParam& p, const Window& w, const std::vector<TBlob>& in,
                        OpReq req, const TBlob& out);
#endif

}  // namespace mx

#endif  // MX_OP_POOLING_H_
