// Pad: pads the spatial axes of 4-D (NCHW) or 5-D (NCDHW) data, as MXNet's Pad: pad_width is
// numpy's (before, after) per axis, flattened, and must be zero on the batch and channel axes.
//
//   constant  the padding is constant_value
//   edge      the padding repeats the nearest edge value
//   reflect   the padding mirrors the data about the edge, excluding the edge itself
//             (numpy's "reflect"; each width must be below the axis' size)
//
// Every output element finds its source (or the constant) on its own, so the forward op is one
// launch/map. The gradient of edge and reflect padding sums several output positions into one
// input element: the backward op works plane by plane (batch x channel), in parallel over planes
// (one GPU thread per plane), which never share an input element.
#include <algorithm>

#include "op/kernel.h"
#include "op/nn_ops.h"
#include "op/op_util.h"
#include "op/param_types.h"

namespace mx {
namespace {

enum PadMode { kConstant, kEdge, kReflect };

struct PadParam : public dmlc::Parameter<PadParam> {
  int mode;
  Tuple pad_width;
  double constant_value;
  DMLC_DECLARE_PARAMETER(PadParam) {
    DMLC_DECLARE_FIELD(mode)
        .add_enum("constant", kConstant)
        .add_enum("edge", kEdge)
        .add_enum("reflect", kReflect)
        .describe(
            "How to pad: constant pads with constant_value; edge repeats the edge values; "
            "reflect mirrors the data about the edges (excluding the edge values).");
    DMLC_DECLARE_FIELD(pad_width).describe(
        "The widths (before_1, after_1, ..., before_N, after_N) for each of the N axes of the "
        "data (numpy's pad_width, flattened). The first four (batch and channel axes) must be 0.");
    DMLC_DECLARE_FIELD(constant_value)
        .set_default(0.0)
        .describe("The padding value with mode=constant.");
  }
};

const PadParam& Param(const NodeAttrs& attrs) { return attrs.get<PadParam>(); }

// The spatial geometry as three axes (depth, height, width); 4-D data has a depth of 1.
struct PadGeom {
  int64_t planes = 1;  // batch x channels
  int64_t in[3] = {1, 1, 1};
  int64_t out[3] = {1, 1, 1};
  int64_t before[3] = {0, 0, 0};
  MX_XINLINE int64_t in_plane() const { return in[0] * in[1] * in[2]; }
  MX_XINLINE int64_t out_plane() const { return out[0] * out[1] * out[2]; }
};

PadGeom Geometry(const PadParam& p, const Shape& data) {
  PadGeom g;
  g.planes = data[0] * data[1];
  for (int a = 5 - data.ndim(); a < 3; ++a) {
    const int axis = a + data.ndim() - 3;
    g.in[a] = data[axis];
    g.before[a] = p.pad_width[2 * axis];
    g.out[a] = g.in[a] + g.before[a] + p.pad_width[2 * axis + 1];
  }
  return g;
}

// The checks MXNet makes, with messages that say which value is wrong.
void CheckPad(const PadParam& p, const Shape& data, const char* name) {
  MX_CHECK(data.ndim() == 4 || data.ndim() == 5, kInvalidArgument)
      << name << " must be 4-D or 5-D (batch, channel, spatial...), got shape " << data;
  MX_CHECK(static_cast<int>(p.pad_width.size()) == 2 * data.ndim(), kInvalidArgument)
      << "pad_width=" << p.pad_width << " must have 2 * ndim = " << 2 * data.ndim()
      << " entries for " << name << " of shape " << data;
  for (size_t i = 0; i < p.pad_width.size(); ++i) {
    MX_CHECK(p.pad_width[i] >= 0, kInvalidArgument)
        << "pad_width=" << p.pad_width << " has a negative width";
    MX_CHECK(i >= 4 || p.pad_width[i] == 0, kInvalidArgument)
        << "pad_width=" << p.pad_width
        << " pads the batch or channel axis; its first four entries must be 0";
  }
  // Edge and reflect padding copy data values: an axis they pad must have enough of them.
  for (int a = 2; a < data.ndim() && p.mode != kConstant; ++a) {
    const int64_t n = data[a], before = p.pad_width[2 * a], after = p.pad_width[2 * a + 1];
    if (n < 0 || (before == 0 && after == 0)) continue;
    MX_CHECK(n > 0, kInvalidArgument)
        << "mode=" << (p.mode == kEdge ? "edge" : "reflect") << " cannot pad the empty axis " << a
        << " of " << name << " of shape " << data;
    MX_CHECK(p.mode != kReflect || (before < n && after < n), kInvalidArgument)
        << "mode=reflect needs widths below the axis size: pad_width=" << p.pad_width
        << " pads axis " << a << " of " << name << " of shape " << data << " by more than "
        << n - 1;
  }
}

// data -> out = data + the widths, axis by axis, in both directions. The names are the
// caller's: the backward op infers with the roles swapped (its output is the data's gradient).
bool PadShapes(const PadParam& p, Shape* data, Shape* out, const char* data_name,
               const char* out_name) {
  const int ndim = data->ndim() >= 0 ? data->ndim() : out->ndim();
  if (ndim < 0) return false;
  std::vector<Shape> d{*data}, o{*out};
  if (d[0].ndim() < 0) d[0] = Shape::Filled(ndim, -1);
  CheckPad(p, d[0], data_name);
  Shape from_data = Shape::Filled(ndim, -1), from_out = Shape::Filled(ndim, -1);
  for (int a = 0; a < ndim; ++a) {
    const int64_t extra = p.pad_width[2 * a] + p.pad_width[2 * a + 1];
    if (d[0][a] >= 0) from_data[a] = d[0][a] + extra;
    if (o[0].ndim() == ndim && o[0][a] >= extra) from_out[a] = o[0][a] - extra;
  }
  AssignShape(&o, 0, from_data, out_name);
  AssignShape(&d, 0, from_out, data_name);
  CheckPad(p, d[0], data_name);
  *data = d[0];
  *out = o[0];
  return data->IsKnown() && out->IsKnown();
}

bool PadShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  return PadShapes(Param(attrs), &(*in)[0], &(*out)[0], "input 'data'", "output");
}

// The input index along one axis for output index o, or -1 for constant padding.
MX_XINLINE int64_t Source(int64_t o, int64_t before, int64_t n, int mode) {
  int64_t i = o - before;
  if (i >= 0 && i < n) return i;
  if (mode == kConstant) return -1;
  if (mode == kEdge) return i < 0 ? 0 : n - 1;
  return i < 0 ? -i : 2 * (n - 1) - i;  // reflect: the widths are below n
}

template <OpReq Req>
struct PadKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* y, const T* x, PadGeom g, int mode, T value) {
    const int64_t ox = i % g.out[2], oy = (i / g.out[2]) % g.out[1];
    const int64_t oz = (i / (g.out[2] * g.out[1])) % g.out[0], plane = i / g.out_plane();
    const int64_t sx = Source(ox, g.before[2], g.in[2], mode);
    const int64_t sy = Source(oy, g.before[1], g.in[1], mode);
    const int64_t sz = Source(oz, g.before[0], g.in[0], mode);
    const bool inside = sx >= 0 && sy >= 0 && sz >= 0;
    Assign<Req>(y[i],
                inside ? x[plane * g.in_plane() + (sz * g.in[1] + sy) * g.in[2] + sx] : value);
  }
};

void PadForward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const PadParam& p = Param(attrs);
  const PadGeom g = Geometry(p, in[0].shape);
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<PadKernel<Req>>::Launch(ctx, out[0].Size(), out[0].data<T>(), in[0].data<T>(), g,
                                     p.mode, T(p.constant_value));
    });
  });
}

// dx[plane b] (+)= the sum of dy over every output position whose source it is: one task per
// plane (Kernel::LaunchTasks), since planes never share an input element.
struct PadGradPlane {
  template <typename T>
  MX_XINLINE static void Map(int64_t b, T* dx_all, const T* dy_all, PadGeom g, int mode, bool add) {
    const T* dy = dy_all + b * g.out_plane();
    T* dx = dx_all + b * g.in_plane();
    if (!add) {
      for (int64_t i = 0; i < g.in_plane(); ++i) dx[i] = T(0);
    }
    for (int64_t z = 0; z < g.out[0]; ++z) {
      const int64_t sz = Source(z, g.before[0], g.in[0], mode);
      for (int64_t y = 0; y < g.out[1]; ++y) {
        const int64_t sy = Source(y, g.before[1], g.in[1], mode);
        if (sz < 0 || sy < 0) continue;  // a constant row: no input behind it
        const T* row = dy + (z * g.out[1] + y) * g.out[2];
        T* target = dx + (sz * g.in[1] + sy) * g.in[2];
        for (int64_t x = 0; x < g.out[2]; ++x) {
          const int64_t sx = Source(x, g.before[2], g.in[2], mode);
          if (sx >= 0) target[sx] += row[x];
        }
      }
    }
  }
};

// Input (ograd); output data_grad.
void PadBackward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                 const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  const PadParam& p = Param(attrs);
  const PadGeom g = Geometry(p, out[0].shape);
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    Kernel<PadGradPlane>::LaunchTasks(ctx, g.planes, g.planes * g.out_plane(), out[0].data<T>(),
                                      in[0].data<T>(), g, p.mode, req[0] == OpReq::kAdd);
  });
}

bool PadBackwardShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  return PadShapes(Param(attrs), &(*out)[0], &(*in)[0], "output 'data_grad'", "input 'ograd'");
}

}  // namespace

DMLC_REGISTER_PARAMETER(PadParam);

void RegisterPadOps(OpRegistry* reg) {
  reg->Add("Pad")
      .Describe(
          "Pads the spatial axes of 4-D or 5-D data. pad_width gives (before, after) widths for "
          "every axis, flattened (the batch and channel widths must be 0). mode=constant fills "
          "with constant_value, edge repeats the edge values, reflect mirrors the data about the "
          "edges without repeating them (widths below the axis size).")
      .SetParam<PadParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(PadShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(PadForward, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return std::vector<NodeEntry>{
            MakeGradEntry("_backward_Pad", n, "backward", {og[0]}, n->attrs.dict)};
      });

  reg->Add("_backward_Pad")
      .Describe("Gradient of Pad: the output gradient summed back onto the positions it came from.")
      .SetParam<PadParam>()
      .SetInputs({"ograd"})
      .SetNumOutputs(1)
      .SetInferShape(PadBackwardShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(PadBackward, kGpuKernels)
      .SetBackwardOf("Pad");
}

}  // namespace mx
