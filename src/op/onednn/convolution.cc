// Convolution forward, backward-data and backward-weights through oneDNN (float32).
//
// 1-D data is described to oneDNN as 2-D with H = 1, like the im2col path does. Each direction's
// plan (primitive descriptor, primitive, operand reorders) is built once per problem and thread
// (onednn.h) and reused.
#include <algorithm>

#include "op/convolution.h"
#include "op/onednn/onednn.h"

namespace mx {
namespace {

using dnnl::memory;
using Dims = memory::dims;
using Tag = memory::format_tag;

// The problem in oneDNN's terms.
struct Problem {
  Dims src, weights, bias, dst, strides, dilates, pad_l, pad_r;
  bool grouped = false, has_bias = false;
  onednn::Key key{};
};

// False when oneDNN cannot express it: the floor in the output extent can leave the right
// padding negative (the last rows of the input unused), which oneDNN does not take.
bool Describe(const ConvolutionParam& p, const Window& w, const Shape& data, const Shape& out,
              int kind, Problem* pr) {
  const Plane x = Plane::Of(data), y = Plane::Of(out);
  const int64_t g = p.num_group;
  pr->grouped = g > 1;
  pr->has_bias = !p.no_bias;
  pr->src = {x.n, x.c, x.h, x.w};
  pr->dst = {y.n, y.c, y.h, y.w};
  pr->bias = {y.c};
  pr->weights = pr->grouped ? Dims{g, y.c / g, x.c / g, w.kernel[0], w.kernel[1]}
                            : Dims{y.c, x.c, w.kernel[0], w.kernel[1]};
  pr->strides = {w.stride[0], w.stride[1]};
  pr->dilates = {w.dilate[0] - 1, w.dilate[1] - 1};
  pr->pad_l = {w.pad[0], w.pad[1]};
  const int64_t in_ext[2] = {x.h, x.w}, out_ext[2] = {y.h, y.w};
  pr->pad_r.resize(2);
  for (int a = 0; a < 2; ++a) {
    pr->pad_r[a] = (out_ext[a] - 1) * w.stride[a] + w.Span(a) - in_ext[a] - w.pad[a];
    if (pr->pad_r[a] < 0) return false;
  }
  pr->key = {kind,        x.n,         x.c,         x.h,          x.w,         y.c,
             g,           w.kernel[0], w.kernel[1], w.stride[0],  w.stride[1], w.dilate[0],
             w.dilate[1], w.pad[0],    w.pad[1],    pr->has_bias, y.h,         y.w};
  return true;
}

memory::desc Any(const Dims& d) { return memory::desc(d, memory::data_type::f32, Tag::any); }
memory::desc UserData(const Dims& d) { return onednn::PlainDesc(d, Tag::nchw); }
memory::desc UserWeights(const Problem& pr) {
  return onednn::PlainDesc(pr.weights, pr.grouped ? Tag::goihw : Tag::oihw);
}
memory::desc UserBias(const Problem& pr) { return onednn::PlainDesc(pr.bias, Tag::x); }

dnnl::primitive_attr UserScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// The forward op always asks for forward_inference: the output is the same, and oneDNN 2.6 picks
// a faster kernel for it (LeNet's second layer: 174 vs 110 GFLOP/s on this machine). The
// backward plans' hints are forward_training descriptors, as oneDNN expects.
dnnl::convolution_forward::primitive_desc ForwardDesc(const Problem& pr, dnnl::prop_kind prop) {
  using F = dnnl::convolution_forward;
  const auto alg = dnnl::algorithm::convolution_direct;
  F::desc d = pr.has_bias ? F::desc(prop, alg, Any(pr.src), Any(pr.weights), UserBias(pr),
                                    Any(pr.dst), pr.strides, pr.dilates, pr.pad_l, pr.pad_r)
                          : F::desc(prop, alg, Any(pr.src), Any(pr.weights), Any(pr.dst),
                                    pr.strides, pr.dilates, pr.pad_l, pr.pad_r);
  return F::primitive_desc(d, UserScratchpad(), onednn::Engine());
}

struct ForwardPlan {
  dnnl::convolution_forward prim;
  onednn::Operand src, weights, dst;
  memory::desc scratchpad;
  size_t scratch = 0;
};

struct BackwardDataPlan {
  dnnl::convolution_backward_data prim;
  onednn::Operand diff_dst, weights, diff_src;
  memory::desc scratchpad;
  size_t scratch = 0;
};

struct BackwardWeightsPlan {
  dnnl::convolution_backward_weights prim;
  onednn::Operand src, diff_dst, diff_weights;
  memory::desc scratchpad;
  size_t scratch = 0;
};

ForwardPlan BuildForward(const Problem& pr) {
  const auto pd = ForwardDesc(pr, dnnl::prop_kind::forward_inference);
  ForwardPlan plan;
  plan.prim = dnnl::convolution_forward(pd);
  plan.src = onednn::PlanOperand(UserData(pr.src), pd.src_desc(), true);
  plan.weights = onednn::PlanOperand(UserWeights(pr), pd.weights_desc(), true);
  plan.dst = onednn::PlanOperand(UserData(pr.dst), pd.dst_desc(), false);
  plan.scratchpad = pd.scratchpad_desc();
  plan.scratch = onednn::ScratchBytes(
      {plan.src.bytes, plan.weights.bytes, plan.dst.bytes, plan.scratchpad.get_size()});
  return plan;
}

BackwardDataPlan BuildBackwardData(const Problem& pr) {
  using B = dnnl::convolution_backward_data;
  B::desc d(dnnl::algorithm::convolution_direct, Any(pr.src), Any(pr.weights), Any(pr.dst),
            pr.strides, pr.dilates, pr.pad_l, pr.pad_r);
  const B::primitive_desc pd(d, UserScratchpad(), onednn::Engine(),
                             ForwardDesc(pr, dnnl::prop_kind::forward_training));
  BackwardDataPlan plan;
  plan.prim = B(pd);
  plan.diff_dst = onednn::PlanOperand(UserData(pr.dst), pd.diff_dst_desc(), true);
  plan.weights = onednn::PlanOperand(UserWeights(pr), pd.weights_desc(), true);
  plan.diff_src = onednn::PlanOperand(UserData(pr.src), pd.diff_src_desc(), false);
  plan.scratchpad = pd.scratchpad_desc();
  plan.scratch = onednn::ScratchBytes(
      {plan.diff_dst.bytes, plan.weights.bytes, plan.diff_src.bytes, plan.scratchpad.get_size()});
  return plan;
}

BackwardWeightsPlan BuildBackwardWeights(const Problem& pr) {
  using B = dnnl::convolution_backward_weights;
  const auto alg = dnnl::algorithm::convolution_direct;
  B::desc d = pr.has_bias ? B::desc(alg, Any(pr.src), Any(pr.weights), UserBias(pr), Any(pr.dst),
                                    pr.strides, pr.dilates, pr.pad_l, pr.pad_r)
                          : B::desc(alg, Any(pr.src), Any(pr.weights), Any(pr.dst), pr.strides,
                                    pr.dilates, pr.pad_l, pr.pad_r);
  const B::primitive_desc pd(d, UserScratchpad(), onednn::Engine(),
                             ForwardDesc(pr, dnnl::prop_kind::forward_training));
  BackwardWeightsPlan plan;
  plan.prim = B(pd);
  plan.src = onednn::PlanOperand(UserData(pr.src), pd.src_desc(), true);
  plan.diff_dst = onednn::PlanOperand(UserData(pr.dst), pd.diff_dst_desc(), true);
  plan.diff_weights = onednn::PlanOperand(UserWeights(pr), pd.diff_weights_desc(), false);
  plan.scratchpad = pd.scratchpad_desc();
  plan.scratch = onednn::ScratchBytes(
      {plan.src.bytes, plan.diff_dst.bytes, plan.diff_weights.bytes, plan.scratchpad.get_size()});
  return plan;
}

bool Takes(const std::vector<TBlob>& in, std::initializer_list<OpReq> reqs) {
  if (!onednn::Enabled() || in[0].dtype != DType::kFloat32) return false;
  for (OpReq r : reqs)
    if (r == OpReq::kAdd) return false;
  return true;
}

}  // namespace

bool OneDNNConvForward(const ConvolutionParam& p, const Window& w, const OpContext& ctx,
                       const std::vector<TBlob>& in, OpReq req, const TBlob& out) {
  Problem pr;
  if (!Takes(in, {req}) || !Describe(p, w, in[0].shape, out.shape, 0, &pr)) return false;
  ForwardPlan& plan =
      onednn::ThreadCache<ForwardPlan>().Get(pr.key, [&] { return BuildForward(pr); });
  onednn::Scratch scratch(ctx, plan.scratch);
  memory src = onednn::Bind(plan.src, in[0].dptr, &scratch);
  memory weights = onednn::Bind(plan.weights, in[1].dptr, &scratch);
  memory dst = onednn::Bind(plan.dst, out.dptr, &scratch);
  memory pad(plan.scratchpad, onednn::Engine(), scratch.Take(plan.scratchpad.get_size()));
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src},
                                       {DNNL_ARG_WEIGHTS, weights},
                                       {DNNL_ARG_DST, dst},
                                       {DNNL_ARG_SCRATCHPAD, pad}};
  if (pr.has_bias) args.emplace(DNNL_ARG_BIAS, memory(UserBias(pr), onednn::Engine(), in[2].dptr));
  plan.prim.execute(onednn::Stream(), args);
  onednn::Finish(plan.dst, dst, out.dptr);
  onednn::Stream().wait();
  onednn::CountCall();
  return true;
}

bool OneDNNConvBackward(const ConvolutionParam& p, const Window& w, const OpContext& ctx,
                        const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                        const std::vector<TBlob>& out) {
  const OpReq bias_req = p.no_bias ? OpReq::kNull : req[2];
  Problem pr;
  if (!Takes(in, {req[0], req[1], bias_req}) || !Describe(p, w, in[1].shape, in[0].shape, 1, &pr)) {
    return false;
  }
  if (req[0] != OpReq::kNull) {
    pr.key[0] = 1;
    BackwardDataPlan& plan =
        onednn::ThreadCache<BackwardDataPlan>().Get(pr.key, [&] { return BuildBackwardData(pr); });
    onednn::Scratch scratch(ctx, plan.scratch);
    memory diff_dst = onednn::Bind(plan.diff_dst, in[0].dptr, &scratch);
    memory weights = onednn::Bind(plan.weights, in[2].dptr, &scratch);
    memory diff_src = onednn::Bind(plan.diff_src, out[0].dptr, &scratch);
    memory pad(plan.scratchpad, onednn::Engine(), scratch.Take(plan.scratchpad.get_size()));
    plan.prim.execute(onednn::Stream(), {{DNNL_ARG_DIFF_DST, diff_dst},
                                         {DNNL_ARG_WEIGHTS, weights},
                                         {DNNL_ARG_DIFF_SRC, diff_src},
                                         {DNNL_ARG_SCRATCHPAD, pad}});
    onednn::Finish(plan.diff_src, diff_src, out[0].dptr);
    onednn::Stream().wait();
  }
  if (req[1] != OpReq::kNull || bias_req != OpReq::kNull) {
    pr.key[0] = 2;
    BackwardWeightsPlan& plan = onednn::ThreadCache<BackwardWeightsPlan>().Get(
        pr.key, [&] { return BuildBackwardWeights(pr); });
    // The primitive always writes both gradients; one not wanted goes to scratch.
    const size_t bias_bytes = pr.has_bias && bias_req == OpReq::kNull ? pr.bias[0] * 4 : 0;
    const size_t weight_bytes =
        req[1] == OpReq::kNull ? plan.diff_weights.user.get_size() : size_t(0);
    onednn::Scratch scratch(ctx, plan.scratch + onednn::ScratchBytes({bias_bytes, weight_bytes}));
    void* dw = req[1] == OpReq::kNull ? scratch.Take(weight_bytes) : out[1].dptr;
    memory src = onednn::Bind(plan.src, in[1].dptr, &scratch);
    memory diff_dst = onednn::Bind(plan.diff_dst, in[0].dptr, &scratch);
    memory diff_weights = onednn::Bind(plan.diff_weights, dw, &scratch);
    memory pad(plan.scratchpad, onednn::Engine(), scratch.Take(plan.scratchpad.get_size()));
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src},
                                         {DNNL_ARG_DIFF_DST, diff_dst},
                                         {DNNL_ARG_DIFF_WEIGHTS, diff_weights},
                                         {DNNL_ARG_SCRATCHPAD, pad}};
    if (pr.has_bias) {
      void* db = bias_req == OpReq::kNull ? scratch.Take(bias_bytes) : out[2].dptr;
      args.emplace(DNNL_ARG_DIFF_BIAS, memory(UserBias(pr), onednn::Engine(), db));
    }
    plan.prim.execute(onednn::Stream(), args);
    onednn::Finish(plan.diff_weights, diff_weights, dw);
    onednn::Stream().wait();
  }
  onednn::CountCall();
  return true;
}

}  // namespace mx
