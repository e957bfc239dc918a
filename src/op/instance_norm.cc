// InstanceNorm: each (sample, channel) map normalised by its own mean and variance, then scaled
// and shifted per channel:
//
//   out[n,c,...] = gamma[c] * (x[n,c,...] - mean[n,c]) / sqrt(var[n,c] + eps) + beta[c]
//
// with the biased variance over the spatial axes. MXNet also outputs mean and var as hidden
// outputs for its backward; here the backward op recomputes them from the input (one more pass
// over a row it reads anyway), so no state lives between forward and backward. Rows are
// independent and run in parallel; statistics take two passes (mean, then squared deviations)
// for accuracy in float32.
#include <algorithm>

#include "op/kernel.h"
#include "op/math_functors.h"
#include "op/nn_ops.h"
#include "op/op_util.h"

namespace mx {
namespace {

struct InstanceNormParam : public dmlc::Parameter<InstanceNormParam> {
  float eps;
  DMLC_DECLARE_PARAMETER(InstanceNormParam) {
    DMLC_DECLARE_FIELD(eps).set_default(1e-3f).describe(
        "Added to the variance before the square root, so constant maps do not divide by zero.");
  }
};

float Eps(const NodeAttrs& attrs) { return attrs.get<InstanceNormParam>().eps; }

void CheckData(const Shape& d, const char* name) {
  MX_CHECK(d.ndim() < 0 || d.ndim() >= 3, kInvalidArgument)
      << name << " must have at least 3 dimensions (batch, channel, spatial...), got shape " << d;
}

// data (N, C, ...) -> gamma (C), beta (C), out like data; and back from out to data.
bool InstanceNormShape(const NodeAttrs&, std::vector<Shape>* in, std::vector<Shape>* out) {
  AssignShape(out, 0, (*in)[0], "output");
  AssignShape(in, 0, (*out)[0], "input 'data'");
  const Shape& d = (*in)[0];
  CheckData(d, "input 'data'");
  if (d.ndim() >= 3) {
    AssignShape(in, 1, Shape{d[1]}, "input 'gamma'");
    AssignShape(in, 2, Shape{d[1]}, "input 'beta'");
  }
  bool known = (*out)[0].IsKnown();
  for (const Shape& s : *in) known = known && s.IsKnown();
  return known;
}

// The mean and 1 / sqrt(var + eps) of one row.
template <typename T>
MX_XINLINE void RowStats(const T* x, int64_t len, T eps, T* mean, T* inv_std) {
  T sum = 0;
  for (int64_t j = 0; j < len; ++j) sum += x[j];
  const T m = sum / T(len);
  T sq = 0;
  for (int64_t j = 0; j < len; ++j) sq += (x[j] - m) * (x[j] - m);
  *mean = m;
  *inv_std = T(1) / math::sqrt(sq / T(len) + eps);
}

// One row (a sample's channel map) of the forward pass, on either device: the CPU's OpenMP
// threads share the rows, the GPU runs one thread per row (Kernel::LaunchTasks).
template <OpReq Req>
struct RowForward {
  template <typename T>
  MX_XINLINE static void Map(int64_t r, T* y, const T* x, const T* gamma, const T* beta,
                             int64_t channels, int64_t len, T eps) {
    const T* xr = x + r * len;
    T* yr = y + r * len;
    T mean, inv_std;
    RowStats(xr, len, eps, &mean, &inv_std);
    const T scale = gamma[r % channels] * inv_std, shift = beta[r % channels];
    for (int64_t j = 0; j < len; ++j) Assign<Req>(yr[j], T((xr[j] - mean) * scale + shift));
  }
};

void InstanceNormForward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                         const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const Shape& s = in[0].shape;
  const int64_t channels = s[1], rows = s[0] * s[1], len = s.ProdDims(2, s.ndim());
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<RowForward<Req>>::LaunchTasks(ctx, rows, rows * len, out[0].data<T>(), in[0].data<T>(),
                                           in[1].data<T>(), in[2].data<T>(), channels, len,
                                           T(Eps(attrs)));
    });
  });
}

// ---- backward: inputs (ograd, data, gamma); outputs (data_grad, gamma_grad, beta_grad) ----
//
// With xhat = (x - mean) * inv_std over a row of length M:
//   dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat))
//   dgamma[c] = sum over n and the row of dy * xhat,   dbeta[c] = sum of dy.
// The per-row sums go to temp space, then each channel adds its rows (in batch order, so the
// result does not depend on the thread count).

// One row of the backward pass: its data gradient (unless not wanted) and its two sums.
template <OpReq Req>
struct RowGrad {
  template <typename T>
  MX_XINLINE static void Map(int64_t r, T* dx, T* sums, const T* dy, const T* x, const T* gamma,
                             int64_t channels, int64_t len, T eps) {
    const T* dyr = dy + r * len;
    const T* xr = x + r * len;
    T mean, inv_std;
    RowStats(xr, len, eps, &mean, &inv_std);
    T a = 0, b = 0;
    for (int64_t j = 0; j < len; ++j) {
      a += dyr[j];
      b += dyr[j] * (xr[j] - mean) * inv_std;
    }
    sums[2 * r] = a;
    sums[2 * r + 1] = b;
    if (Req == OpReq::kNull) return;  // only gamma_grad and beta_grad are wanted
    T* dxr = dx + r * len;
    const T k = gamma[r % channels] * inv_std, ma = a / T(len), mb = b / T(len);
    for (int64_t j = 0; j < len; ++j) {
      Assign<Req>(dxr[j], T(k * (dyr[j] - ma - (xr[j] - mean) * inv_std * mb)));
    }
  }
};

// Each channel adds its rows' sums, in batch order (the result does not depend on the threads).
struct ChannelGrad {
  template <typename T>
  MX_XINLINE static void Map(int64_t c, T* dgamma, T* dbeta, const T* sums, int64_t batch,
                             int64_t channels, OpReq req_gamma, OpReq req_beta) {
    T g = 0, b = 0;
    for (int64_t n = 0; n < batch; ++n) {
      b += sums[2 * (n * channels + c)];
      g += sums[2 * (n * channels + c) + 1];
    }
    AssignAt(req_gamma, dgamma, c, g);
    AssignAt(req_beta, dbeta, c, b);
  }
};

void InstanceNormBackward(const NodeAttrs& attrs, const OpContext& ctx,
                          const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                          const std::vector<TBlob>& out) {
  const Shape& s = in[1].shape;
  const int64_t batch = s[0], channels = s[1], rows = batch * channels;
  const int64_t len = s.ProdDims(2, s.ndim());
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    const T* dy = in[0].data<T>();
    const T* x = in[1].data<T>();
    const T* gamma = in[2].data<T>();
    const T eps = T(Eps(attrs));
    T* sums = static_cast<T*>(ctx.TempSpace(2 * rows * sizeof(T)));
    T* dx = out[0].data<T>();
    switch (req[0]) {
      case OpReq::kNull:
        Kernel<RowGrad<OpReq::kNull>>::LaunchTasks(ctx, rows, rows * len, dx, sums, dy, x, gamma,
                                                   channels, len, eps);
        break;
      case OpReq::kAdd:
        Kernel<RowGrad<OpReq::kAdd>>::LaunchTasks(ctx, rows, rows * len, dx, sums, dy, x, gamma,
                                                  channels, len, eps);
        break;
      default:
        Kernel<RowGrad<OpReq::kWrite>>::LaunchTasks(ctx, rows, rows * len, dx, sums, dy, x, gamma,
                                                    channels, len, eps);
    }
    Kernel<ChannelGrad>::LaunchTasks(ctx, channels, rows, out[1].data<T>(), out[2].data<T>(),
                                     static_cast<const T*>(sums), batch, channels, req[1], req[2]);
  });
}

bool InstanceNormBackwardShape(const NodeAttrs&, std::vector<Shape>* in, std::vector<Shape>* out) {
  // ograd, data and data_grad share a shape; gamma, gamma_grad and beta_grad are (channels).
  for (int pass = 0; pass < 2; ++pass) {
    AssignShape(in, 0, (*in)[1], "input 'ograd'");
    AssignShape(in, 1, (*out)[0], "input 'data'");
    AssignShape(in, 1, (*in)[0], "input 'data'");
    AssignShape(out, 0, (*in)[1], "output 'data_grad'");
  }
  const Shape& d = (*in)[1];
  CheckData(d, "input 'data'");
  if (d.ndim() >= 3) AssignShape(in, 2, Shape{d[1]}, "input 'gamma'");
  AssignShape(out, 1, (*in)[2], "output 'gamma_grad'");
  AssignShape(out, 2, (*in)[2], "output 'beta_grad'");
  bool known = true;
  for (const Shape& x : *in) known = known && x.IsKnown();
  for (const Shape& x : *out) known = known && x.IsKnown();
  return known;
}

}  // namespace

DMLC_REGISTER_PARAMETER(InstanceNormParam);

void RegisterInstanceNormOps(OpRegistry* reg) {
  reg->Add("InstanceNorm")
      .Describe(
          "Instance normalisation (Ulyanov et al. 2016): every (sample, channel) map of data "
          "(N, C, spatial...) is normalised by its own mean and biased variance over the spatial "
          "axes, then out = gamma[c] * (x - mean) / sqrt(var + eps) + beta[c]. gamma and beta "
          "have shape (C), inferred from data.")
      .SetParam<InstanceNormParam>()
      .SetInputs({"data", "gamma", "beta"})
      .SetNumOutputs(1)
      .SetInferShape(InstanceNormShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(InstanceNormForward, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return MakeGradNode("_backward_InstanceNorm", n, {og[0], InputOf(n, 0), InputOf(n, 1)},
                            n->attrs.dict);
      });

  reg->Add("_backward_InstanceNorm")
      .Describe("Gradient of InstanceNorm (data, gamma, beta), recomputing the statistics.")
      .SetParam<InstanceNormParam>()
      .SetInputs({"ograd", "data", "gamma"})
      .SetNumOutputs(3)
      .SetInferShape(InstanceNormBackwardShape)
      .SetInferType(ElemwiseType)
      .SetResources({ResourceType::kTempSpace})
      .SetComputeAll(InstanceNormBackward, kGpuKernels)
      .SetBackwardOf("InstanceNorm");
}

}  // namespace mx
