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
void RowStats(const T* x, int64_t len, T eps, T* mean, T* inv_std) {
  T sum = 0;
  for (int64_t j = 0; j < len; ++j) sum += x[j];
  const T m = sum / T(len);
  T sq = 0;
  for (int64_t j = 0; j < len; ++j) sq += (x[j] - m) * (x[j] - m);
  *mean = m;
  *inv_std = T(1) / math::sqrt(sq / T(len) + eps);
}

template <typename T, OpReq Req>
void InstanceNormFwd(const T* x, const T* gamma, const T* beta, T* y, int64_t rows,
                     int64_t channels, int64_t len, T eps) {
#if MX_USE_OPENMP
  MX_OMP_FOR_IF(rows * len >= kOmpMinWork)
#endif
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * len;
    T* yr = y + r * len;
    T mean, inv_std;
    RowStats(xr, len, eps, &mean, &inv_std);
    const T scale = gamma[r % channels] * inv_std, shift = beta[r % channels];
    for (int64_t j = 0; j < len; ++j) Assign<Req>(yr[j], T((xr[j] - mean) * scale + shift));
  }
}

void InstanceNormForward(const NodeAttrs& attrs, const OpContext&, const std::vector<TBlob>& in,
                         const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const Shape& s = in[0].shape;
  const int64_t channels = s[1], rows = s[0] * s[1], len = s.ProdDims(2, s.ndim());
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      InstanceNormFwd<T, Req>(in[0].data<T>(), in[1].data<T>(), in[2].data<T>(), out[0].data<T>(),
                              rows, channels, len, T(Eps(attrs)));
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

template <typename T, OpReq Req>
void InstanceNormRowGrad(const T* dy, const T* x, T gamma, int64_t len, T eps, T* dx, T* sum_dy,
                         T* sum_dy_xhat) {
  T mean, inv_std;
  RowStats(x, len, eps, &mean, &inv_std);
  T a = 0, b = 0;
  for (int64_t j = 0; j < len; ++j) {
    a += dy[j];
    b += dy[j] * (x[j] - mean) * inv_std;
  }
  *sum_dy = a;
  *sum_dy_xhat = b;
  if (Req == OpReq::kNull) return;  // only gamma_grad and beta_grad are wanted
  const T k = gamma * inv_std, ma = a / T(len), mb = b / T(len);
  for (int64_t j = 0; j < len; ++j) {
    Assign<Req>(dx[j], T(k * (dy[j] - ma - (x[j] - mean) * inv_std * mb)));
  }
}

template <typename T, OpReq Req>
void InstanceNormRowsGrad(const T* dy, const T* x, const T* gamma, int64_t rows, int64_t channels,
                          int64_t len, T eps, T* dx, T* sums) {
#if MX_USE_OPENMP
  MX_OMP_FOR_IF(rows * len >= kOmpMinWork)
#endif
  for (int64_t r = 0; r < rows; ++r) {
    InstanceNormRowGrad<T, Req>(dy + r * len, x + r * len, gamma[r % channels], len, eps,
                                Req == OpReq::kNull ? nullptr : dx + r * len, &sums[2 * r],
                                &sums[2 * r + 1]);
  }
}

// out[i] = v as `req` says; `out` is null when req is kNull.
template <typename T>
void AssignReq(OpReq req, T* out, int64_t i, T v) {
  if (req == OpReq::kAdd) {
    out[i] += v;
  } else if (req != OpReq::kNull) {
    out[i] = v;
  }
}

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
        InstanceNormRowsGrad<T, OpReq::kNull>(dy, x, gamma, rows, channels, len, eps, dx, sums);
        break;
      case OpReq::kAdd:
        InstanceNormRowsGrad<T, OpReq::kAdd>(dy, x, gamma, rows, channels, len, eps, dx, sums);
        break;
      default:
        InstanceNormRowsGrad<T, OpReq::kWrite>(dy, x, gamma, rows, channels, len, eps, dx, sums);
    }
    T* dgamma = out[1].data<T>();
    T* dbeta = out[2].data<T>();
    for (int64_t c = 0; c < channels; ++c) {
      T g = 0, b = 0;
      for (int64_t n = 0; n < batch; ++n) {
        b += sums[2 * (n * channels + c)];
        g += sums[2 * (n * channels + c) + 1];
      }
      AssignReq(req[1], dgamma, c, g);
      AssignReq(req[2], dbeta, c, b);
    }
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
      .SetCompute(DeviceType::kCPU, InstanceNormForward)
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
      .SetCompute(DeviceType::kCPU, InstanceNormBackward)
      .SetBackwardOf("InstanceNorm");
}

}  // namespace mx
