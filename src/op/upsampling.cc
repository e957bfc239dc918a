// UpSampling with sample_type=nearest: every input pixel becomes a scale_h x scale_w block.
//
// With several inputs the output has the first input's size times scale; each input i is
// upsampled by its own factor (output size / input i's size, which must divide) and the results
// are concatenated along the channels (multi_input_mode=concat) or summed (sum), as in MXNet.
// Bilinear upsampling (a fixed-weight deconvolution in MXNet) is not implemented: the enum value
// is kept so that MXNet's parameter set parses, and is rejected with an error at parse time.
//
// The backward op of a single input needs only the output gradient (the input's shape is the
// gradient's divided by scale); with several inputs it also takes the inputs, for their shapes.
#include <functional>
#include <utility>

#include "op/kernel.h"
#include "op/nn_ops.h"
#include "op/op_util.h"
#include "op/param_types.h"

namespace mx {
namespace {

enum SampleType { kNearest, kBilinear };
enum MultiInputMode { kConcat, kSum };

struct UpSamplingParam : public dmlc::Parameter<UpSamplingParam> {
  Tuple scale;
  int num_filter;
  int sample_type;
  int multi_input_mode;
  int num_args;
  int64_t workspace;
  DMLC_DECLARE_PARAMETER(UpSamplingParam) {
    DMLC_DECLARE_FIELD(scale).describe(
        "The upsampling factor: an integer for both spatial axes, (scale_h, scale_w), or a 4-tuple "
        "whose last two entries are used.");
    DMLC_DECLARE_FIELD(num_filter)
        .set_default(0)
        .describe("The number of channels; only used by bilinear upsampling (not implemented).");
    DMLC_DECLARE_FIELD(sample_type)
        .add_enum("nearest", kNearest)
        .add_enum("bilinear", kBilinear)
        .describe("The upsampling method. Only 'nearest' is implemented.");
    DMLC_DECLARE_FIELD(multi_input_mode)
        .set_default(kConcat)
        .add_enum("concat", kConcat)
        .add_enum("sum", kSum)
        .describe(
            "How several inputs are combined: concat joins the upsampled inputs along the "
            "channel axis; sum adds them (all must have the same number of channels).");
    DMLC_DECLARE_FIELD(num_args)
        .set_range(1, kMaxOpArity)
        .describe("The number of inputs. All are upsampled to the first input's size times scale.");
    DMLC_DECLARE_FIELD(workspace).set_default(512).set_range(0, 8192).describe(
        "Workspace limit in MB for bilinear upsampling (unused by nearest).");
  }
};

const UpSamplingParam& Param(const NodeAttrs& attrs) { return attrs.get<UpSamplingParam>(); }

// (scale_h, scale_w) from the scale tuple; errors name the parameter.
std::pair<int64_t, int64_t> ScaleHW(const UpSamplingParam& p) {
  const Tuple& s = p.scale;
  MX_CHECK(s.size() == 1 || s.size() == 2 || s.size() == 4, kInvalidArgument)
      << "scale=" << s << " must have 1, 2 or 4 entries";
  const int64_t h = s.size() == 4 ? s[2] : s[0];
  const int64_t w = s.size() == 4 ? s[3] : s[s.size() - 1];
  MX_CHECK(h >= 1 && w >= 1, kInvalidArgument) << "scale=" << s << " must be positive";
  return {h, w};
}

std::vector<std::string> UpSamplingInputs(const NodeAttrs& attrs) {
  return NumberedNames("arg", Param(attrs).num_args);
}

bool UpSamplingShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const UpSamplingParam& p = Param(attrs);
  const auto [sh, sw] = ScaleHW(p);
  for (size_t i = 0; i < in->size(); ++i) {
    const Shape& s = (*in)[i];
    MX_CHECK(s.ndim() < 0 || s.ndim() == 4, kInvalidArgument)
        << "input 'arg" << i << "' must be 4-D (batch, channel, height, width), got shape " << s;
  }
  const Shape& first = (*in)[0];
  // Backward, single input: the input is the output divided by the scale.
  if (in->size() == 1 && first.ndim() < 0 && (*out)[0].ndim() == 4) {
    const Shape& o = (*out)[0];
    Shape d = Shape::Filled(4, -1);
    d[0] = o[0];
    d[1] = o[1];
    if (o[2] >= 0 && o[2] % sh == 0) d[2] = o[2] / sh;
    if (o[3] >= 0 && o[3] % sw == 0) d[3] = o[3] / sw;
    AssignShape(in, 0, d, "input 'arg0'");
  }
  if (first.ndim() < 0) return false;
  Shape o = first;
  if (o[2] >= 0) o[2] *= sh;
  if (o[3] >= 0) o[3] *= sw;
  o[1] = p.multi_input_mode == kSum ? -1 : 0;
  for (size_t i = 0; i < in->size(); ++i) {
    const Shape& s = (*in)[i];
    if (s.ndim() < 0) {
      if (p.multi_input_mode == kConcat) o[1] = -1;
      continue;
    }
    MX_CHECK(first[0] < 0 || s[0] < 0 || s[0] == first[0], kInvalidArgument)
        << "input 'arg" << i << "' has shape " << s << " but input 'arg0' has shape " << first
        << ": the batch sizes differ";
    for (int a = 2; a < 4; ++a) {
      MX_CHECK(o[a] < 0 || s[a] < 0 || (s[a] > 0 && o[a] % s[a] == 0), kInvalidArgument)
          << "input 'arg" << i << "' of shape " << s << ": its " << (a == 2 ? "height" : "width")
          << " " << s[a] << " does not divide the output " << (a == 2 ? "height" : "width") << " "
          << o[a] << " (input 'arg0' " << first << " times scale " << p.scale << ")";
    }
    if (s[1] < 0) {
      if (p.multi_input_mode == kConcat) o[1] = -1;
    } else if (p.multi_input_mode == kSum) {
      MX_CHECK(o[1] < 0 || o[1] == s[1], kInvalidArgument)
          << "multi_input_mode=sum needs the same number of channels in every input; input 'arg"
          << i << "' has shape " << s << ", expected " << o[1] << " channels";
      o[1] = s[1];
    } else if (o[1] >= 0) {
      o[1] += s[1];
    }
  }
  AssignShape(out, 0, o, "output");
  bool known = (*out)[0].IsKnown();
  for (const Shape& s : *in) known = known && s.IsKnown();
  return known;
}

// out[b, c0 + c, y, x] (+)= in[b, c, y / fh, x / fw] over one input's channel slice.
template <OpReq Req>
struct UpsampleKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* out, const T* in, int64_t channels, int64_t ih,
                             int64_t iw, int64_t fh, int64_t fw, int64_t out_channels, int64_t c0) {
    const int64_t ow = iw * fw, oh = ih * fh;
    const int64_t x = i % ow, y = (i / ow) % oh, bc = i / (ow * oh);
    const int64_t c = bc % channels, b = bc / channels;
    const T v = in[(bc * ih + y / fh) * iw + x / fw];
    Assign<Req>(out[((b * out_channels + c0 + c) * oh + y) * ow + x], v);
  }
};

void UpSamplingForward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                       const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  const UpSamplingParam& p = Param(attrs);
  const Shape& os = out[0].shape;
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    int64_t c0 = 0;
    for (size_t k = 0; k < in.size(); ++k) {
      const Shape& s = in[k].shape;
      // In sum mode every input after the first adds onto the output.
      const OpReq r = p.multi_input_mode == kSum && k > 0 ? OpReq::kAdd : req[0];
      MX_REQ_SWITCH(r, Req, {
        Kernel<UpsampleKernel<Req>>::Launch(ctx, in[k].Size() * (os[2] / s[2]) * (os[3] / s[3]),
                                            out[0].data<T>(), in[k].data<T>(), s[1], s[2], s[3],
                                            os[2] / s[2], os[3] / s[3], os[1], c0);
      });
      if (p.multi_input_mode == kConcat) c0 += s[1];
    }
  });
}

// ---- backward: inputs (ograd[, arg0, ...]), outputs one gradient per input ----

// dx[b, c, y, x] = sum of ograd over the fh x fw block that input pixel was copied to.
template <OpReq Req>
struct UpsampleGradKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* dx, const T* dy, int64_t channels, int64_t ih,
                             int64_t iw, int64_t fh, int64_t fw, int64_t out_channels, int64_t c0) {
    const int64_t x = i % iw, y = (i / iw) % ih, bc = i / (iw * ih);
    const int64_t c = bc % channels, b = bc / channels;
    const int64_t ow = iw * fw, oh = ih * fh;
    const T* block = dy + ((b * out_channels + c0 + c) * oh + y * fh) * ow + x * fw;
    T sum = 0;
    for (int64_t u = 0; u < fh; ++u) {
      for (int64_t v = 0; v < fw; ++v) sum += block[u * ow + v];
    }
    Assign<Req>(dx[i], sum);
  }
};

void UpSamplingBackward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                        const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const UpSamplingParam& p = Param(attrs);
  const Shape& os = in[0].shape;
  MX_REAL_TYPE_SWITCH(in[0].dtype, T, attrs.op->name, {
    int64_t c0 = 0;
    for (size_t k = 0; k < out.size(); ++k) {
      const Shape& s = out[k].shape;
      MX_REQ_SWITCH(req[k], Req, {
        Kernel<UpsampleGradKernel<Req>>::Launch(ctx, out[k].Size(), out[k].data<T>(),
                                                in[0].data<T>(), s[1], s[2], s[3], os[2] / s[2],
                                                os[3] / s[3], os[1], c0);
      });
      if (p.multi_input_mode == kConcat) c0 += s[1];
    }
  });
}

std::vector<std::string> UpSamplingBackwardInputs(const NodeAttrs& attrs) {
  std::vector<std::string> names{"ograd"};
  if (Param(attrs).num_args > 1) {
    for (auto& n : UpSamplingInputs(attrs)) names.push_back(n);
  }
  return names;
}

bool UpSamplingBackwardShape(const NodeAttrs& attrs, std::vector<Shape>* in,
                             std::vector<Shape>* out) {
  // The forward inference on (input shapes -> ograd's shape), with the input shapes being the
  // gradients' (single input) or the forwarded inputs' (several).
  std::vector<Shape> fin =
      Param(attrs).num_args == 1 ? *out : std::vector<Shape>(in->begin() + 1, in->end());
  for (size_t i = 0; i < fin.size(); ++i) MergeShape(&fin[i], (*out)[i]);
  std::vector<Shape> fout{(*in)[0]};
  const bool known = UpSamplingShape(attrs, &fin, &fout);
  AssignShape(in, 0, fout[0], "input 'ograd'");
  for (size_t i = 0; i < out->size(); ++i) {
    AssignShape(out, i, fin[i], "output " + std::to_string(i));
    if (in->size() > 1) AssignShape(in, i + 1, fin[i], "input 'arg" + std::to_string(i) + "'");
  }
  return known;
}

// Parses the parameters and rejects what is not implemented, so a symbol fails when it is made.
void ParseUpSampling(const std::function<void(NodeAttrs*)>& parse, NodeAttrs* attrs) {
  parse(attrs);
  MX_CHECK(Param(*attrs).sample_type == kNearest, kUnsupported)
      << "operator '" << attrs->op->name
      << "': sample_type='bilinear' is not implemented; the accepted value is 'nearest'";
}

}  // namespace

DMLC_REGISTER_PARAMETER(UpSamplingParam);

void RegisterUpSamplingOps(OpRegistry* reg) {
  Op& fwd = reg->Add("UpSampling")
                .Describe(
                    "Nearest-neighbour upsampling of NCHW inputs (sample_type='nearest'): each "
                    "pixel is repeated scale_h x scale_w times. The output is the first input's "
                    "size times scale; further inputs are upsampled to that size by their own "
                    "integer factors and concatenated along the channels (multi_input_mode=concat) "
                    "or summed (sum). sample_type='bilinear' is not implemented.")
                .SetParam<UpSamplingParam>()
                .SetInputs(UpSamplingInputs)
                .SetNumOutputs(1)
                .SetInferShape(UpSamplingShape)
                .SetInferType(ElemwiseType)
                .SetComputeAll(UpSamplingForward, kGpuKernels)
                .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
                  std::vector<NodeEntry> ins{og[0]};
                  if (n->inputs.size() > 1)
                    ins.insert(ins.end(), n->inputs.begin(), n->inputs.end());
                  return MakeGradNode("_backward_UpSampling", n, std::move(ins), n->attrs.dict);
                });
  fwd.parse = [parse = fwd.parse](NodeAttrs* a) { ParseUpSampling(parse, a); };

  Op& bwd = reg->Add("_backward_UpSampling")
                .Describe("Gradient of UpSampling: block sums of the output gradient per input.")
                .SetParam<UpSamplingParam>()
                .SetInputs(UpSamplingBackwardInputs)
                .SetNumOutputs([](const NodeAttrs& a) { return Param(a).num_args; })
                .SetInferShape(UpSamplingBackwardShape)
                .SetInferType(ElemwiseType)
                .SetComputeAll(UpSamplingBackward, kGpuKernels)
                .SetBackwardOf("UpSampling");
  bwd.parse = [parse = bwd.parse](NodeAttrs* a) { ParseUpSampling(parse, a); };
}

}  // namespace mx
