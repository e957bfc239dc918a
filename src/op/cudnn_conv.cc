// Convolution and Deconvolution on the GPU through cuDNN's convolution API, forward and
// backward.
//
// Every problem is 2-D for cuDNN (1-D data is a 2-D problem of height 1, op/conv_util.h) in
// NCHW. The algorithms come from cuDNN's heuristics (the *_v7 queries) once per problem (shapes,
// window, groups, dtype) and are cached for the process; the workspace is the op's temp space on
// the device. Math is plain FP32/FP64 FMA (CUDNN_FMA_MATH): no TF32, so results stay within
// float rounding of the CPU's, which the GPU op tests compare.
#include "op/convolution.h"

#if MX_USE_CUDA && MX_USE_CUDNN

#include <cudnn.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <mutex>
#include <sstream>
#include <string>

#include "base/error.h"
#include "op/cuda_util.h"

namespace mx {
namespace {

using cuda::Check;
using cuda::DnnOf;
using cuda::Int;

// The descriptors of one convolution from x to y (filter: k_out x (x's channels / groups) x
// kernel); destroyed with it (also when setting one up fails). A deconvolution is the same problem
// seen backwards: its output is x and its input y.
struct ConvDescs {
  cuda::DnnTensor x, y;
  cuda::DnnTensor bias, bias_x;  // per channel of y, of x
  cuda::DnnFilterDesc w;
  cuda::DnnConvDesc conv;

  ConvDescs(const Window& win, int groups, const Shape& xs, const Shape& ys, int64_t k_out,
            DType dtype)
      : x(Plane::Of(xs).n, Plane::Of(xs).c, Plane::Of(xs).h, Plane::Of(xs).w, dtype, "Convolution"),
        y(Plane::Of(ys).n, Plane::Of(ys).c, Plane::Of(ys).h, Plane::Of(ys).w, dtype, "Convolution"),
        bias(1, Plane::Of(ys).c, 1, 1, dtype, "Convolution"),
        bias_x(1, Plane::Of(xs).c, 1, 1, dtype, "Convolution") {
    const cudnnDataType_t t = dtype == DType::kFloat64 ? CUDNN_DATA_DOUBLE : CUDNN_DATA_FLOAT;
    Check(cudnnSetFilter4dDescriptor(w, t, CUDNN_TENSOR_NCHW, Int(k_out),
                                     Int(Plane::Of(xs).c / groups), Int(win.kernel[0]),
                                     Int(win.kernel[1])),
          "cudnnSetFilter4dDescriptor");
    Check(cudnnSetConvolution2dDescriptor(
              conv, Int(win.pad[0]), Int(win.pad[1]), Int(win.stride[0]), Int(win.stride[1]),
              Int(win.dilate[0]), Int(win.dilate[1]), CUDNN_CROSS_CORRELATION, t),
          "cudnnSetConvolution2dDescriptor");
    Check(cudnnSetConvolutionGroupCount(conv, groups), "cudnnSetConvolutionGroupCount");
    Check(cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH), "cudnnSetConvolutionMathType");
  }
};

// The algorithms of one problem: forward, backward data, backward filter.
struct Algos {
  cudnnConvolutionFwdAlgo_t fwd = CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM;
  cudnnConvolutionBwdDataAlgo_t bwd_data = CUDNN_CONVOLUTION_BWD_DATA_ALGO_0;
  cudnnConvolutionBwdFilterAlgo_t bwd_filter = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0;
};

std::string ProblemKey(const Window& w, int groups, const Shape& xs, const Shape& ys, int64_t k_out,
                       DType dtype) {
  std::ostringstream os;
  os << xs << ' ' << ys << ' ' << k_out << ' ' << groups << ' ' << static_cast<int>(dtype);
  for (int a = 0; a < 2; ++a) {
    os << ' ' << w.kernel[a] << ',' << w.stride[a] << ',' << w.dilate[a] << ',' << w.pad[a];
  }
  return os.str();
}

// The first algorithm of cuDNN's ranking that supports the problem.
template <typename Perf>
auto Best(const Perf* perf, int n, const char* what) -> decltype(perf[0].algo) {
  for (int i = 0; i < n; ++i) {
    if (perf[i].status == CUDNN_STATUS_SUCCESS) return perf[i].algo;
  }
  MX_THROW(kUnsupported) << "cuDNN has no " << what << " algorithm for this convolution";
}

const Algos& AlgosFor(cudnnHandle_t h, const ConvDescs& d, const std::string& key) {
  static std::mutex mu;
  static std::map<std::string, Algos> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  Algos a;
  constexpr int kMax = 8;
  int n = 0;
  cudnnConvolutionFwdAlgoPerf_t fwd[kMax];
  Check(cudnnGetConvolutionForwardAlgorithm_v7(h, d.x, d.w, d.conv, d.y, kMax, &n, fwd),
        "cudnnGetConvolutionForwardAlgorithm_v7");
  a.fwd = Best(fwd, n, "forward");
  cudnnConvolutionBwdDataAlgoPerf_t bd[kMax];
  Check(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, d.w, d.y, d.conv, d.x, kMax, &n, bd),
        "cudnnGetConvolutionBackwardDataAlgorithm_v7");
  a.bwd_data = Best(bd, n, "backward-data");
  cudnnConvolutionBwdFilterAlgoPerf_t bf[kMax];
  Check(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, d.x, d.y, d.conv, d.w, kMax, &n, bf),
        "cudnnGetConvolutionBackwardFilterAlgorithm_v7");
  a.bwd_filter = Best(bf, n, "backward-filter");
  return cache.emplace(key, a).first->second;  // std::map: references stay valid
}

template <typename T>
void Forward(const ConvolutionParam& p, const Window& win, const OpContext& ctx,
             const std::vector<TBlob>& in, OpReq req, const TBlob& out) {
  cudnnHandle_t h = DnnOf(ctx.run);
  const ConvDescs d(win, p.num_group, in[0].shape, out.shape, p.num_filter, out.dtype);
  const Algos& a =
      AlgosFor(h, d, ProblemKey(win, p.num_group, in[0].shape, out.shape, p.num_filter, out.dtype));
  size_t bytes = 0;
  Check(cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y, a.fwd, &bytes),
        "cudnnGetConvolutionForwardWorkspaceSize");
  void* ws = bytes > 0 ? ctx.TempSpace(bytes) : nullptr;
  const T one = 1, beta = req == OpReq::kAdd ? T(1) : T(0);
  Check(cudnnConvolutionForward(h, &one, d.x, in[0].dptr, d.w, in[1].dptr, d.conv, a.fwd, ws, bytes,
                                &beta, d.y, out.dptr),
        "cudnnConvolutionForward");
  if (!p.no_bias) {
    Check(cudnnAddTensor(h, &one, d.bias, in[2].dptr, &one, d.y, out.dptr), "cudnnAddTensor");
  }
}

template <typename T>
void Backward(const ConvolutionParam& p, const Window& win, const OpContext& ctx,
              const std::vector<TBlob>& in, const std::vector<OpReq>& req,
              const std::vector<TBlob>& out) {
  cudnnHandle_t h = DnnOf(ctx.run);
  const TBlob &dy = in[0], &x = in[1], &w = in[2];
  const ConvDescs d(win, p.num_group, x.shape, dy.shape, p.num_filter, dy.dtype);
  const Algos& a =
      AlgosFor(h, d, ProblemKey(win, p.num_group, x.shape, dy.shape, p.num_filter, dy.dtype));
  size_t data_bytes = 0, filter_bytes = 0;
  if (req[0] != OpReq::kNull) {
    Check(cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w, d.y, d.conv, d.x, a.bwd_data,
                                                       &data_bytes),
          "cudnnGetConvolutionBackwardDataWorkspaceSize");
  }
  if (req[1] != OpReq::kNull) {
    Check(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x, d.y, d.conv, d.w, a.bwd_filter,
                                                         &filter_bytes),
          "cudnnGetConvolutionBackwardFilterWorkspaceSize");
  }
  const size_t bytes = std::max(data_bytes, filter_bytes);
  void* ws = bytes > 0 ? ctx.TempSpace(bytes) : nullptr;
  const T one = 1;
  auto beta = [](OpReq r) { return r == OpReq::kAdd ? T(1) : T(0); };
  if (req[0] != OpReq::kNull) {
    const T b = beta(req[0]);
    Check(cudnnConvolutionBackwardData(h, &one, d.w, w.dptr, d.y, dy.dptr, d.conv, a.bwd_data, ws,
                                       data_bytes, &b, d.x, out[0].dptr),
          "cudnnConvolutionBackwardData");
  }
  if (req[1] != OpReq::kNull) {
    const T b = beta(req[1]);
    Check(cudnnConvolutionBackwardFilter(h, &one, d.x, x.dptr, d.y, dy.dptr, d.conv, a.bwd_filter,
                                         ws, filter_bytes, &b, d.w, out[1].dptr),
          "cudnnConvolutionBackwardFilter");
  }
  if (!p.no_bias && req[2] != OpReq::kNull) {
    const T b = beta(req[2]);
    Check(cudnnConvolutionBackwardBias(h, &one, d.y, dy.dptr, &b, d.bias, out[2].dptr),
          "cudnnConvolutionBackwardBias");
  }
}

// Deconvolution: in = (data, weight[, bias]) with weight (C, F / groups, kernel...); the output
// is the data gradient of the convolution from the output to the data.
template <typename T>
void DeconvForward(const Window& win, int groups, bool no_bias, const OpContext& ctx,
                   const std::vector<TBlob>& in, OpReq req, const TBlob& out) {
  cudnnHandle_t h = DnnOf(ctx.run);
  const TBlob &x = in[0], &w = in[1];
  const int64_t c = Plane::Of(x.shape).c;
  const ConvDescs d(win, groups, out.shape, x.shape, c, out.dtype);
  const Algos& a = AlgosFor(h, d, ProblemKey(win, groups, out.shape, x.shape, c, out.dtype));
  size_t bytes = 0;
  Check(cudnnGetConvolutionBackwardDataWorkspaceSize(h, d.w, d.y, d.conv, d.x, a.bwd_data, &bytes),
        "cudnnGetConvolutionBackwardDataWorkspaceSize");
  void* ws = bytes > 0 ? ctx.TempSpace(bytes) : nullptr;
  const T one = 1, beta = req == OpReq::kAdd ? T(1) : T(0);
  Check(cudnnConvolutionBackwardData(h, &one, d.w, w.dptr, d.y, x.dptr, d.conv, a.bwd_data, ws,
                                     bytes, &beta, d.x, out.dptr),
        "cudnnConvolutionBackwardData (Deconvolution)");
  if (!no_bias) {
    Check(cudnnAddTensor(h, &one, d.bias_x, in[2].dptr, &one, d.x, out.dptr), "cudnnAddTensor");
  }
}

// in = (ograd, data, weight); out = (data_grad, weight_grad[, bias_grad]): the data gradient is
// the convolution of ograd, the weight gradient the convolution's filter gradient with ograd as
// its input.
template <typename T>
void DeconvBackward(const Window& win, int groups, bool no_bias, const OpContext& ctx,
                    const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                    const std::vector<TBlob>& out) {
  cudnnHandle_t h = DnnOf(ctx.run);
  const TBlob &dy = in[0], &x = in[1], &w = in[2];
  const int64_t c = Plane::Of(x.shape).c;
  const ConvDescs d(win, groups, dy.shape, x.shape, c, dy.dtype);
  const Algos& a = AlgosFor(h, d, ProblemKey(win, groups, dy.shape, x.shape, c, dy.dtype));
  size_t fwd_bytes = 0, filter_bytes = 0;
  if (req[0] != OpReq::kNull) {
    Check(cudnnGetConvolutionForwardWorkspaceSize(h, d.x, d.w, d.conv, d.y, a.fwd, &fwd_bytes),
          "cudnnGetConvolutionForwardWorkspaceSize");
  }
  if (req[1] != OpReq::kNull) {
    Check(cudnnGetConvolutionBackwardFilterWorkspaceSize(h, d.x, d.y, d.conv, d.w, a.bwd_filter,
                                                         &filter_bytes),
          "cudnnGetConvolutionBackwardFilterWorkspaceSize");
  }
  const size_t bytes = std::max(fwd_bytes, filter_bytes);
  void* ws = bytes > 0 ? ctx.TempSpace(bytes) : nullptr;
  const T one = 1;
  auto beta = [](OpReq r) { return r == OpReq::kAdd ? T(1) : T(0); };
  if (req[0] != OpReq::kNull) {
    const T b = beta(req[0]);
    Check(cudnnConvolutionForward(h, &one, d.x, dy.dptr, d.w, w.dptr, d.conv, a.fwd, ws, fwd_bytes,
                                  &b, d.y, out[0].dptr),
          "cudnnConvolutionForward (Deconvolution gradient)");
  }
  if (req[1] != OpReq::kNull) {
    const T b = beta(req[1]);
    Check(cudnnConvolutionBackwardFilter(h, &one, d.x, dy.dptr, d.y, x.dptr, d.conv, a.bwd_filter,
                                         ws, filter_bytes, &b, d.w, out[1].dptr),
          "cudnnConvolutionBackwardFilter (Deconvolution gradient)");
  }
  if (!no_bias && req[2] != OpReq::kNull) {
    const T b = beta(req[2]);
    Check(cudnnConvolutionBackwardBias(h, &one, d.x, dy.dptr, &b, d.bias_x, out[2].dptr),
          "cudnnConvolutionBackwardBias (Deconvolution gradient)");
  }
}

}  // namespace

void CudnnDeconvForward(const Window& w, int groups, bool no_bias, const OpContext& ctx,
                        const std::vector<TBlob>& in, OpReq req, const TBlob& out) {
  if (req == OpReq::kNull) return;
  if (out.dtype == DType::kFloat64) {
    DeconvForward<double>(w, groups, no_bias, ctx, in, req, out);
  } else {
    DeconvForward<float>(w, groups, no_bias, ctx, in, req, out);
  }
}

void CudnnDeconvBackward(const Window& w, int groups, bool no_bias, const OpContext& ctx,
                         const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                         const std::vector<TBlob>& out) {
  if (in[0].dtype == DType::kFloat64) {
    DeconvBackward<double>(w, groups, no_bias, ctx, in, req, out);
  } else {
    DeconvBackward<float>(w, groups, no_bias, ctx, in, req, out);
  }
}

void CudnnConvForward(const ConvolutionParam& p, const Window& w, const OpContext& ctx,
                      const std::vector<TBlob>& in, OpReq req, const TBlob& out) {
  if (req == OpReq::kNull) return;
  if (out.dtype == DType::kFloat64) {
    Forward<double>(p, w, ctx, in, req, out);
  } else {
    Forward<float>(p, w, ctx, in, req, out);  // other dtypes: DnnTensor names them
  }
}

void CudnnConvBackward(const ConvolutionParam& p, const Window& w, const OpContext& ctx,
                       const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                       const std::vector<TBlob>& out) {
  if (in[0].dtype == DType::kFloat64) {
    Backward<double>(p, w, ctx, in, req, out);
  } else {
    Backward<float>(p, w, ctx, in, req, out);
  }
}

}  // namespace mx

#endif  // MX_USE_CUDA && MX_USE_CUDNN
