// LeakyReLU: leaky (a fixed negative slope), prelu (a learned slope per channel) and elu.
//
// The gradients are computed from the input, not from the output as MXNet does: the sign of the
// output tells the sign of the input only for a non-negative slope, and a learned prelu slope can
// turn negative. The forward op may still run in place; the memory planner only does so when
// nothing (such as this backward op) reads the input afterwards.
#include <algorithm>

#include "op/kernel.h"
#include "op/math_functors.h"
#include "op/nn_ops.h"
#include "op/op_util.h"

namespace mx {
namespace {

enum LeakyActType { kLeaky, kPRelu, kElu };

struct LeakyReLUParam : public dmlc::Parameter<LeakyReLUParam> {
  int act_type;
  float slope;
  DMLC_DECLARE_PARAMETER(LeakyReLUParam) {
    DMLC_DECLARE_FIELD(act_type)
        .set_default(kLeaky)
        .add_enum("leaky", kLeaky)
        .add_enum("prelu", kPRelu)
        .add_enum("elu", kElu)
        .describe(
            "The activation: leaky x > 0 ? x : slope*x; prelu x > 0 ? x : gamma[c]*x with a "
            "learned gamma per channel (axis 1); elu x > 0 ? x : slope*(exp(x)-1).");
    DMLC_DECLARE_FIELD(slope).set_default(0.25f).describe(
        "The negative slope of leaky and the scale of elu (unused by prelu).");
  }
};

const LeakyReLUParam& Param(const NodeAttrs& attrs) { return attrs.get<LeakyReLUParam>(); }

bool IsPRelu(const NodeAttrs& attrs) { return Param(attrs).act_type == kPRelu; }

bool LeakyShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  // The output is the data's shape, in both directions.
  AssignShape(out, 0, (*in)[0], "output");
  AssignShape(in, 0, (*out)[0], "input 'data'");
  const Shape& data = (*in)[0];
  if (IsPRelu(attrs) && data.ndim() >= 0) {
    MX_CHECK(data.ndim() >= 2, kInvalidArgument)
        << "act_type=prelu needs input 'data' with a channel axis (at least 2 dimensions, "
           "(batch, channel, ...)), got shape "
        << data;
    const Shape& gamma = (*in)[1];
    if (!(gamma.ndim() == 1 && gamma[0] == 1)) {
      AssignShape(in, 1, Shape{data[1]}, "input 'gamma' (one slope per channel, or (1,))");
    }
  }
  bool known = (*out)[0].IsKnown();
  for (const Shape& s : *in) known = known && s.IsKnown();
  return known;
}

template <OpReq Req>
struct LeakyKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* y, const T* x, T slope) {
    Assign<Req>(y[i], x[i] > 0 ? x[i] : slope * x[i]);
  }
};

template <OpReq Req>
struct EluKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* y, const T* x, T slope) {
    Assign<Req>(y[i], x[i] > 0 ? x[i] : slope * (math::exp(x[i]) - T(1)));
  }
};

template <OpReq Req>
struct PReluKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* y, const T* x, const T* gamma, int64_t channels,
                             int64_t inner) {
    const T a = gamma[(i / inner) % channels];
    Assign<Req>(y[i], x[i] > 0 ? x[i] : a * x[i]);
  }
};

void LeakyForward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                  const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const LeakyReLUParam& p = Param(attrs);
  const int64_t n = out[0].Size();
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    T* y = out[0].data<T>();
    const T* x = in[0].data<T>();
    MX_REQ_SWITCH(req[0], Req, {
      switch (p.act_type) {
        case kLeaky:
          Kernel<LeakyKernel<Req>>::Launch(ctx, n, y, x, T(p.slope));
          break;
        case kElu:
          Kernel<EluKernel<Req>>::Launch(ctx, n, y, x, T(p.slope));
          break;
        case kPRelu: {
          // gamma holds one slope per channel, or one slope for all (shape (1,)).
          const int64_t inner = in[0].shape.ProdDims(2, in[0].shape.ndim());
          Kernel<PReluKernel<Req>>::Launch(ctx, n, y, x, in[1].data<T>(), in[1].Size(), inner);
          break;
        }
      }
    });
  });
}

// ---- backward: inputs (ograd, data[, gamma]), outputs (data_grad[, gamma_grad]) ----

template <OpReq Req>
struct LeakyGradKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* dx, const T* dy, const T* x, T slope) {
    Assign<Req>(dx[i], x[i] > 0 ? dy[i] : slope * dy[i]);
  }
};

template <OpReq Req>
struct EluGradKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* dx, const T* dy, const T* x, T slope) {
    Assign<Req>(dx[i], x[i] > 0 ? dy[i] : slope * math::exp(x[i]) * dy[i]);
  }
};

template <OpReq Req>
struct PReluGradKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* dx, const T* dy, const T* x, const T* gamma,
                             int64_t channels, int64_t inner) {
    const T a = gamma[(i / inner) % channels];
    Assign<Req>(dx[i], x[i] > 0 ? dy[i] : a * dy[i]);
  }
};

// gamma_grad[g] = sum over the batch and the inner axes of dy * min(x, 0) in the channels slope
// g serves (every channel for a single slope). One slope per index, so no two threads write the
// same one: the CPU runs slopes on its OpenMP threads, the GPU one thread per slope (slopes are
// few and their sums long, so this is correct rather than fast on the GPU).
struct PReluGammaGradKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t g, T* dgamma, const T* dy, const T* x, int64_t batch,
                             int64_t data_channels, int64_t inner, int64_t channels, OpReq req) {
    T sum = 0;
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t c = g; c < data_channels; c += channels) {
        const int64_t base = (b * data_channels + c) * inner;
        for (int64_t j = 0; j < inner; ++j) {
          const T v = x[base + j];
          sum += v > 0 ? T(0) : v * dy[base + j];
        }
      }
    }
    AssignAt(req, dgamma, g, sum);
  }
};

void LeakyBackward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                   const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const LeakyReLUParam& p = Param(attrs);
  const int64_t n = in[0].Size();
  MX_REAL_TYPE_SWITCH(in[0].dtype, T, attrs.op->name, {
    const T* dy = in[0].data<T>();
    const T* x = in[1].data<T>();
    T* dx = out[0].data<T>();
    if (p.act_type != kPRelu) {
      MX_REQ_SWITCH(req[0], Req, {
        if (p.act_type == kLeaky) {
          Kernel<LeakyGradKernel<Req>>::Launch(ctx, n, dx, dy, x, T(p.slope));
        } else {
          Kernel<EluGradKernel<Req>>::Launch(ctx, n, dx, dy, x, T(p.slope));
        }
      });
      return;
    }
    const Shape& ds = in[1].shape;
    const int64_t channels = in[2].Size(), inner = ds.ProdDims(2, ds.ndim());
    const T* gamma = in[2].data<T>();
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<PReluGradKernel<Req>>::Launch(ctx, n, dx, dy, x, gamma, channels, inner);
    });
    if (req[1] != OpReq::kNull) {
      Kernel<PReluGammaGradKernel>::LaunchTasks(ctx, channels, n, out[1].data<T>(), dy, x, ds[0],
                                                ds[1], inner, channels, req[1]);
    }
  });
}

bool LeakyBackwardShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  // ograd, data and data_grad share a shape; gamma_grad is gamma's.
  Shape s = (*in)[0];
  MX_CHECK(MergeShape(&s, (*in)[1]), kInvalidArgument)
      << "input 'ograd' has shape " << (*in)[0] << " but input 'data' has shape " << (*in)[1];
  AssignShape(in, 0, s, "input 'ograd'");
  AssignShape(in, 1, s, "input 'data'");
  AssignShape(out, 0, s, "output 'data_grad'");
  AssignShape(in, 0, (*out)[0], "input 'ograd'");
  AssignShape(in, 1, (*out)[0], "input 'data'");
  if (IsPRelu(attrs)) {
    AssignShape(out, 1, (*in)[2], "output 'gamma_grad'");
    AssignShape(in, 2, (*out)[1], "input 'gamma'");
  }
  bool known = true;
  for (const Shape& x : *in) known = known && x.IsKnown();
  for (const Shape& x : *out) known = known && x.IsKnown();
  return known;
}

}  // namespace

DMLC_REGISTER_PARAMETER(LeakyReLUParam);

void RegisterLeakyReLUOps(OpRegistry* reg) {
  reg->Add("LeakyReLU")
      .Describe(
          "Leaky rectified linear units, elementwise (act_type):\n\n"
          "- leaky: out = x > 0 ? x : slope * x\n"
          "- prelu: out = x > 0 ? x : gamma[c] * x, with the learned input gamma holding one "
          "slope per channel c (axis 1; shape (channels,), inferred from data) or one shared "
          "slope (shape (1,))\n"
          "- elu: out = x > 0 ? x : slope * (exp(x) - 1)\n\n"
          "Differentiable with respect to data and (prelu) gamma.")
      .SetParam<LeakyReLUParam>()
      .SetInputs([](const NodeAttrs& a) {
        return IsPRelu(a) ? std::vector<std::string>{"data", "gamma"}
                          : std::vector<std::string>{"data"};
      })
      .SetNumOutputs(1)
      .SetInferShape(LeakyShape)
      .SetInferType(ElemwiseType)
      .SetInplace({{0, 0}})
      .SetComputeAll(LeakyForward, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        std::vector<NodeEntry> ins{og[0], InputOf(n, 0)};
        if (IsPRelu(n->attrs)) ins.push_back(InputOf(n, 1));
        return MakeGradNode("_backward_LeakyReLU", n, std::move(ins), n->attrs.dict);
      });

  reg->Add("_backward_LeakyReLU")
      .Describe("Gradient of LeakyReLU: data and (prelu) gamma gradients, from the input.")
      .SetParam<LeakyReLUParam>()
      .SetInputs([](const NodeAttrs& a) {
        return IsPRelu(a) ? std::vector<std::string>{"ograd", "data", "gamma"}
                          : std::vector<std::string>{"ograd", "data"};
      })
      .SetNumOutputs([](const NodeAttrs& a) { return IsPRelu(a) ? 2 : 1; })
      .SetInferShape(LeakyBackwardShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(LeakyBackward, kGpuKernels)
      .SetBackwardOf("LeakyReLU");
}

}  // namespace mx
