// Pooling on the GPU through cuDNN, forward and backward.
//
// 1-D data is a 2-D problem of height 1 (op/conv_util.h). max is cuDNN's deterministic max
// (padding never wins, as on the CPU); avg divides by the window with or without its padding
// (count_include_pad); sum is the padded average times the window's area. cuDNN's output extent
// is the valid convention's: a 'full' pooling whose last window would hang over the padded input
// is an error on the GPU, naming the op and the shapes.
#include "op/pooling.h"

#if MX_USE_CUDA && MX_USE_CUDNN

#include <cudnn.h>

#include <cstdint>

#include "base/error.h"
#include "op/cuda_util.h"

namespace mx {
namespace {

using cuda::Check;
using cuda::DnnOf;
using cuda::Int;

struct PoolDescs {
  cuda::DnnTensor x, y;
  cuda::DnnPoolDesc pool;
  double alpha = 1;  // sum pooling: the average times the window's area

  PoolDescs(const PoolingParam& p, const Window& w, const Shape& xs, const Shape& ys, DType dtype)
      : x(Plane::Of(xs).n, Plane::Of(xs).c, Plane::Of(xs).h, Plane::Of(xs).w, dtype, "Pooling"),
        y(Plane::Of(ys).n, Plane::Of(ys).c, Plane::Of(ys).h, Plane::Of(ys).w, dtype, "Pooling") {
    const Plane xp = Plane::Of(xs), yp = Plane::Of(ys);
    for (int a = 0; a < 2; ++a) {
      const int64_t in = a == 0 ? xp.h : xp.w, out = a == 0 ? yp.h : yp.w;
      const int64_t valid = (in + 2 * w.pad[a] - w.kernel[a]) / w.stride[a] + 1;
      MX_CHECK(out == valid, kUnsupported)
          << "Pooling on the GPU: pooling_convention 'full' with input " << xs << " gives output "
          << ys << ", whose last window hangs over the padded input; cuDNN pools the 'valid' "
          << "extent only (pad the input, or pool on the CPU)";
    }
    cudnnPoolingMode_t mode = CUDNN_POOLING_MAX_DETERMINISTIC;
    if (p.pool_type == kAvgPool) {
      mode = p.count_include_pad ? CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING
                                 : CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
    } else if (p.pool_type == kSumPool) {
      mode = CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
      alpha = static_cast<double>(w.kernel[0] * w.kernel[1]);
    }
    Check(cudnnSetPooling2dDescriptor(pool, mode, CUDNN_NOT_PROPAGATE_NAN, Int(w.kernel[0]),
                                      Int(w.kernel[1]), Int(w.pad[0]), Int(w.pad[1]),
                                      Int(w.stride[0]), Int(w.stride[1])),
          "cudnnSetPooling2dDescriptor");
  }
};

template <typename T>
void Forward(const PoolDescs& d, cudnnHandle_t h, const TBlob& in, OpReq req, const TBlob& out) {
  const T alpha = T(d.alpha), beta = req == OpReq::kAdd ? T(1) : T(0);
  Check(cudnnPoolingForward(h, d.pool, &alpha, d.x, in.dptr, &beta, d.y, out.dptr),
        "cudnnPoolingForward");
}

template <typename T>
void Backward(const PoolDescs& d, cudnnHandle_t h, const std::vector<TBlob>& in, OpReq req,
              const TBlob& out) {
  const T alpha = T(d.alpha), beta = req == OpReq::kAdd ? T(1) : T(0);
  // in = (ograd, data, output)
  Check(cudnnPoolingBackward(h, d.pool, &alpha, d.y, in[2].dptr, d.y, in[0].dptr, d.x, in[1].dptr,
                             &beta, d.x, out.dptr),
        "cudnnPoolingBackward");
}

}  // namespace

void CudnnPoolForward(const PoolingParam& p, const Window& w, const OpContext& ctx, const TBlob& in,
                      OpReq req, const TBlob& out) {
  if (req == OpReq::kNull) return;
  const PoolDescs d(p, w, in.shape, out.shape, out.dtype);
  if (out.dtype == DType::kFloat64) {
    Forward<double>(d, DnnOf(ctx.run), in, req, out);
  } else {
    Forward<float>(d, DnnOf(ctx.run), in, req, out);
  }
}

void CudnnPoolBackward(const PoolingParam& p, const Window& w, const OpContext& ctx,
                       const std::vector<TBlob>& in, OpReq req, const TBlob& out) {
  if (req == OpReq::kNull) return;
  const PoolDescs d(p, w, in[1].shape, in[0].shape, out.dtype);
  if (out.dtype == DType::kFloat64) {
    Backward<double>(d, DnnOf(ctx.run), in, req, out);
  } else {
    Backward<float>(d, DnnOf(ctx.run), in, req, out);
  }
}

}  // namespace mx

#endif  // MX_USE_CUDA && MX_USE_CUDNN
