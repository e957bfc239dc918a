// Crop: a spatial window of NCHW data, of size h_w (one input) or of the second input's height
// and width (two inputs: crop_like is read only for its shape, and gets a zero gradient).
//
// The window starts at offset (y, x), or is centred with center_crop (rounding down, as MXNet).
// The backward op takes the data too, only for its shape: the gradient is the output gradient
// placed in a zero array of the data's shape.
#include "op/kernel.h"
#include "op/nn_ops.h"
#include "op/op_util.h"
#include "op/param_types.h"

namespace mx {
namespace {

struct CropParam : public dmlc::Parameter<CropParam> {
  int num_args;
  Tuple offset;
  Tuple h_w;
  bool center_crop;
  DMLC_DECLARE_PARAMETER(CropParam) {
    DMLC_DECLARE_FIELD(num_args).set_range(1, 2).describe(
        "The number of inputs: 1 crops to h_w; 2 crops to the height and width of the second "
        "input (crop_like).");
    DMLC_DECLARE_FIELD(offset)
        .set_default(Tuple{0, 0})
        .describe("The window's top-left corner (y, x); ignored with center_crop.");
    DMLC_DECLARE_FIELD(h_w)
        .set_default(Tuple{0, 0})
        .describe("The window's (height, width) when num_args is 1.");
    DMLC_DECLARE_FIELD(center_crop)
        .set_default(false)
        .describe("Whether to centre the window instead of starting it at offset.");
  }
};

const CropParam& Param(const NodeAttrs& attrs) { return attrs.get<CropParam>(); }

void CheckPair(const Tuple& t, const char* name) {
  MX_CHECK(t.size() == 2 && t[0] >= 0 && t[1] >= 0, kInvalidArgument)
      << name << "=" << t << " must be two non-negative integers";
}

// The window's (y, x) corner in data of shape `d` for an output of shape `o`; checks that it fits.
std::pair<int64_t, int64_t> CropCorner(const CropParam& p, const Shape& d, const Shape& o) {
  MX_CHECK(o[2] <= d[2] && o[3] <= d[3], kInvalidArgument)
      << "the crop (" << o[2] << ", " << o[3] << ") is larger than input 'arg0' of shape " << d;
  if (p.center_crop) return {(d[2] - o[2]) / 2, (d[3] - o[3]) / 2};
  MX_CHECK(p.offset[0] + o[2] <= d[2] && p.offset[1] + o[3] <= d[3], kInvalidArgument)
      << "offset=" << p.offset << " plus the crop (" << o[2] << ", " << o[3]
      << ") exceeds input 'arg0' of shape " << d;
  return {p.offset[0], p.offset[1]};
}

std::vector<std::string> CropInputs(const NodeAttrs& attrs) {
  return NumberedNames("arg", Param(attrs).num_args);
}

bool CropShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const CropParam& p = Param(attrs);
  CheckPair(p.offset, "offset");
  CheckPair(p.h_w, "h_w");
  const Shape& d = (*in)[0];
  MX_CHECK(d.ndim() < 0 || d.ndim() == 4, kInvalidArgument)
      << "input 'arg0' must be 4-D (batch, channel, height, width), got shape " << d;
  int64_t h = p.h_w[0], w = p.h_w[1];
  if (p.num_args == 1) {
    MX_CHECK(h >= 1 && w >= 1, kInvalidArgument)
        << "h_w=" << p.h_w << " must give a positive height and width with num_args=1";
  } else {
    const Shape& like = (*in)[1];
    MX_CHECK(like.ndim() < 0 || like.ndim() == 4, kInvalidArgument)
        << "input 'arg1' (crop_like) must be 4-D, got shape " << like;
    h = like.ndim() == 4 ? like[2] : -1;
    w = like.ndim() == 4 ? like[3] : -1;
  }
  if (d.ndim() < 0) return false;
  AssignShape(out, 0, Shape{d[0], d[1], h, w}, "output");
  // Backward: batch and channels of the data from the output.
  const Shape& o = (*out)[0];
  AssignShape(in, 0, Shape{o[0], o[1], d[2], d[3]}, "input 'arg0'");
  if (d.IsKnown() && o.IsKnown()) CropCorner(p, d, o);
  bool known = o.IsKnown();
  for (const Shape& s : *in) known = known && s.IsKnown();
  return known;
}

// out[b, c, y, x] = in[b, c, y + y0, x + x0]; the backward's zero-filling inverse below.
template <OpReq Req>
struct CropKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* out, const T* in, int64_t oh, int64_t ow, int64_t ih,
                             int64_t iw, int64_t y0, int64_t x0) {
    const int64_t x = i % ow, y = (i / ow) % oh, bc = i / (ow * oh);
    Assign<Req>(out[i], in[(bc * ih + y + y0) * iw + x + x0]);
  }
};

template <OpReq Req>
struct CropGradKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* dx, const T* dy, int64_t oh, int64_t ow, int64_t ih,
                             int64_t iw, int64_t y0, int64_t x0) {
    const int64_t x = i % iw - x0, y = (i / iw) % ih - y0, bc = i / (iw * ih);
    const bool inside = x >= 0 && x < ow && y >= 0 && y < oh;
    Assign<Req>(dx[i], inside ? dy[(bc * oh + y) * ow + x] : T(0));
  }
};

void CropForward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                 const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const Shape &d = in[0].shape, &o = out[0].shape;
  const auto [y0, x0] = CropCorner(Param(attrs), d, o);
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<CropKernel<Req>>::Launch(ctx, out[0].Size(), out[0].data<T>(), in[0].data<T>(), o[2],
                                      o[3], d[2], d[3], y0, x0);
    });
  });
}

// Inputs (ograd, data); output data_grad.
void CropBackward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                  const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const Shape &o = in[0].shape, &d = out[0].shape;
  const auto [y0, x0] = CropCorner(Param(attrs), d, o);
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      Kernel<CropGradKernel<Req>>::Launch(ctx, out[0].Size(), out[0].data<T>(), in[0].data<T>(),
                                          o[2], o[3], d[2], d[3], y0, x0);
    });
  });
}

// Inputs (ograd, data), checked as the forward op checks its data and output: the op can be
// invoked by name with any arrays, and its kernel indexes them as NCHW.
bool CropBackwardShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  AssignShape(out, 0, (*in)[1], "output 'data_grad'");
  AssignShape(in, 1, (*out)[0], "input 'data'");
  const Shape& d = (*in)[1];
  MX_CHECK(d.ndim() < 0 || d.ndim() == 4, kInvalidArgument)
      << "input 'data' must be 4-D (batch, channel, height, width), got shape " << d;
  if (d.ndim() == 4) {
    const CropParam& p = Param(attrs);
    const int64_t h = p.num_args == 1 ? p.h_w[0] : -1, w = p.num_args == 1 ? p.h_w[1] : -1;
    AssignShape(in, 0, Shape{d[0], d[1], h, w}, "input 'ograd'");
  }
  const bool known = (*in)[0].IsKnown() && (*in)[1].IsKnown();
  if (known) CropCorner(Param(attrs), d, (*in)[0]);
  return known;
}

}  // namespace

DMLC_REGISTER_PARAMETER(CropParam);

void RegisterCropOps(OpRegistry* reg) {
  reg->Add("Crop")
      .Describe(
          "Crops the height and width of NCHW data (arg0) to h_w (num_args=1) or to the height "
          "and width of a second input crop_like (arg1, num_args=2, used only for its shape). The "
          "window starts at offset (y, x), or is centred with center_crop (rounded down).")
      .SetParam<CropParam>()
      .SetInputs(CropInputs)
      .SetNumOutputs(1)
      .SetInferShape(CropShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(CropForward, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        std::vector<NodeEntry> grads{
            MakeGradEntry("_backward_Crop", n, "backward", {og[0], InputOf(n, 0)}, n->attrs.dict)};
        if (n->inputs.size() > 1) grads.push_back(ZeroGradient());
        return grads;
      });

  reg->Add("_backward_Crop")
      .Describe("Gradient of Crop: the output gradient placed in zeros of the data's shape.")
      .SetParam<CropParam>()
      .SetInputs({"ograd", "data"})
      .SetNumOutputs(1)
      .SetInferShape(CropBackwardShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(CropBackward, kGpuKernels)
      .SetBackwardOf("Crop");
}

}  // namespace mx
