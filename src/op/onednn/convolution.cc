// Convolution forward, backward-data and backward-weights through oneDNN (float32).
//
// 1-D data is described to oneDNN as 2-D with H = 1, like the im2col path does. Each direction's
// plan (primitive descriptor, primitive, operand reorders, the cached reordered weights) is built
// once: when an executor binds the node (ConvState, reached through OpContext::state), or, for
// imperative calls, once per problem and thread (onednn.h).
#include <algorithm>
#include <cstring>
#include <memory>

#include "op/convolution.h"
#include "op/onednn/onednn.h"

namespace mx {
namespace {

using dnnl::memory;
using Dims = memory::dims;
using Tag = memory::format_tag;

enum Direction : int { kForward = 0, kBackwardData = 1, kBackwardWeights = 2 };

// The problem in oneDNN's terms.
struct Problem {
  Dims src, weights, bias, dst, strides, dilates, pad_l, pad_r;
  int64_t group_channels = 0;  // input channels per group
  bool grouped = false, has_bias = false;
  // The layouts of the caller's activations (TBlob::layout): data and output (or output
  // gradient), and the data gradient.
  Layout src_layout = Layout::kPlain, dst_layout = Layout::kPlain, diff_src_layout = Layout::kPlain;
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
  pr->group_channels = x.c / g;
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

// Records the blobs' layouts: forward (data, output), backward (data, output gradient, data
// gradient). They are part of the plan's key.
void SetLayouts(Problem* pr, const TBlob& src, const TBlob& dst, const TBlob* diff_src) {
  pr->src_layout = src.layout;
  pr->dst_layout = dst.layout;
  pr->diff_src_layout = diff_src ? diff_src->layout : Layout::kPlain;
  pr->key[18] = static_cast<int64_t>(pr->src_layout);
  pr->key[19] = static_cast<int64_t>(pr->dst_layout);
  pr->key[20] = static_cast<int64_t>(pr->diff_src_layout);
}

// The layout a direction asks for its activations (data, output and their gradients); the
// weights are always `any`. oneDNN 2.6's choice under `any` is a channel-blocked layout
// (nChw16c) or nhwc, which pads the channels to a multiple of 16 where blocked:
// - forward and backward-data with fewer than 16 input channels per group (LeNet's and the
//   ResNet stem's first layer: 1 channel) compute 16 channels for each real one; plain NCHW
//   takes oneDNN's GEMM kernel instead, which computes only real channels and needs no reorders:
//   LeNet conv1's data gradient 1.7 ms vs 16 ms, the stem's forward 0.85 vs 1.35 ms (1 thread;
//   the forward of so few channels mostly takes conv_direct.cc instead);
// - backward-data and backward-weights with a channel count that is not a multiple of 16 (LeNet
//   conv2: 20) run best on nhwc, which does not pad: 3.7 vs 4.7 ms and 3.2 vs 5.5 ms;
// - the forward with a multiple of 16 channels runs best on nChw16c, where `any` picks the brgemm
//   kernel on nhwc: ResNet-50's 3x3 on 56x56 9.8-10.3 vs 11.5 ms, the ResNet-style blocks
//   0.34-0.73 vs 0.47-1.14 ms, reorders included (1 thread). With 20 channels (LeNet conv2) the
//   brgemm kernel is the faster one (2.9 vs 5.0 ms), so `any` stays.
Tag ActivationTag(const Problem& pr, int direction) {
  const int64_t c = pr.group_channels;
  const bool unpadded_nhwc = c >= 16 && c % 16 != 0;
  if (direction == kBackwardWeights) return unpadded_nhwc ? Tag::nhwc : Tag::any;
  if (c < 16) return Tag::nchw;
  if (direction == kForward && c % 16 == 0) return Tag::nChw16c;
  return direction == kBackwardData && unpadded_nhwc ? Tag::nhwc : Tag::any;
}

memory::desc Act(const Dims& d, Tag tag) { return memory::desc(d, memory::data_type::f32, tag); }
memory::desc Any(const Dims& d) { return memory::desc(d, memory::data_type::f32, Tag::any); }
memory::desc UserData(const Dims& d, Layout layout) {
  return onednn::PlainDesc(d, layout == Layout::kBlocked16 ? Tag::nChw16c : Tag::nchw);
}
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
// backward plans' hints are forward_training descriptors in the backward direction's layout, as
// oneDNN expects.
dnnl::convolution_forward::primitive_desc ForwardDesc(const Problem& pr, dnnl::prop_kind prop,
                                                      Tag tag) {
  using F = dnnl::convolution_forward;
  const auto alg = dnnl::algorithm::convolution_direct;
  const memory::desc src = Act(pr.src, tag), dst = Act(pr.dst, tag);
  F::desc d = pr.has_bias ? F::desc(prop, alg, src, Any(pr.weights), UserBias(pr), dst, pr.strides,
                                    pr.dilates, pr.pad_l, pr.pad_r)
                          : F::desc(prop, alg, src, Any(pr.weights), dst, pr.strides, pr.dilates,
                                    pr.pad_l, pr.pad_r);
  return F::primitive_desc(d, UserScratchpad(), onednn::Engine());
}

struct ForwardPlan {
  dnnl::convolution_forward prim;
  onednn::Operand src, weights, dst;
  onednn::CachedOperand cached_weights;
  memory::desc scratchpad;
  size_t scratch = 0;
};

struct BackwardDataPlan {
  dnnl::convolution_backward_data prim;
  onednn::Operand diff_dst, weights, diff_src;
  onednn::CachedOperand cached_weights;
  memory::desc scratchpad;
  size_t scratch = 0;
};

struct BackwardWeightsPlan {
  dnnl::convolution_backward_weights prim;
  onednn::Operand src, diff_dst, diff_weights;
  memory::desc scratchpad;
  size_t scratch = 0;
};

// Each builder returns null when oneDNN has no implementation for the problem (a dnnl::error
// while describing it): the call then takes the im2col path.
template <typename Plan, typename Fn>
std::unique_ptr<Plan> Build(Fn fill) {
  try {
    auto plan = std::make_unique<Plan>();
    fill(plan.get());
    onednn::CountPlan();
    return plan;
  } catch (const dnnl::error&) {
    return nullptr;
  }
}

std::unique_ptr<ForwardPlan> BuildForward(const Problem& pr) {
  return Build<ForwardPlan>([&](ForwardPlan* plan) {
    const auto pd =
        ForwardDesc(pr, dnnl::prop_kind::forward_inference, ActivationTag(pr, kForward));
    plan->prim = dnnl::convolution_forward(pd);
    plan->src = onednn::PlanOperand(UserData(pr.src, pr.src_layout), pd.src_desc(), true);
    plan->weights = onednn::PlanOperand(UserWeights(pr), pd.weights_desc(), true);
    plan->dst = onednn::PlanOperand(UserData(pr.dst, pr.dst_layout), pd.dst_desc(), false);
    plan->scratchpad = pd.scratchpad_desc();
    plan->scratch =
        onednn::ScratchBytes({plan->src.bytes, plan->dst.bytes, plan->scratchpad.get_size()});
  });
}

std::unique_ptr<BackwardDataPlan> BuildBackwardData(const Problem& pr) {
  return Build<BackwardDataPlan>([&](BackwardDataPlan* plan) {
    using B = dnnl::convolution_backward_data;
    const Tag tag = ActivationTag(pr, kBackwardData);
    B::desc d(dnnl::algorithm::convolution_direct, Act(pr.src, tag), Any(pr.weights),
              Act(pr.dst, tag), pr.strides, pr.dilates, pr.pad_l, pr.pad_r);
    const B::primitive_desc pd(d, UserScratchpad(), onednn::Engine(),
                               ForwardDesc(pr, dnnl::prop_kind::forward_training, tag));
    plan->prim = B(pd);
    plan->diff_dst = onednn::PlanOperand(UserData(pr.dst, pr.dst_layout), pd.diff_dst_desc(), true);
    plan->weights = onednn::PlanOperand(UserWeights(pr), pd.weights_desc(), true);
    plan->diff_src =
        onednn::PlanOperand(UserData(pr.src, pr.diff_src_layout), pd.diff_src_desc(), false);
    plan->scratchpad = pd.scratchpad_desc();
    plan->scratch = onednn::ScratchBytes(
        {plan->diff_dst.bytes, plan->diff_src.bytes, plan->scratchpad.get_size()});
  });
}

std::unique_ptr<BackwardWeightsPlan> BuildBackwardWeights(const Problem& pr) {
  return Build<BackwardWeightsPlan>([&](BackwardWeightsPlan* plan) {
    using B = dnnl::convolution_backward_weights;
    const auto alg = dnnl::algorithm::convolution_direct;
    const Tag tag = ActivationTag(pr, kBackwardWeights);
    const memory::desc src = Act(pr.src, tag), dst = Act(pr.dst, tag);
    B::desc d = pr.has_bias ? B::desc(alg, src, Any(pr.weights), UserBias(pr), dst, pr.strides,
                                      pr.dilates, pr.pad_l, pr.pad_r)
                            : B::desc(alg, src, Any(pr.weights), dst, pr.strides, pr.dilates,
                                      pr.pad_l, pr.pad_r);
    const B::primitive_desc pd(d, UserScratchpad(), onednn::Engine(),
                               ForwardDesc(pr, dnnl::prop_kind::forward_training, tag));
    plan->prim = B(pd);
    plan->src = onednn::PlanOperand(UserData(pr.src, pr.src_layout), pd.src_desc(), true);
    plan->diff_dst = onednn::PlanOperand(UserData(pr.dst, pr.dst_layout), pd.diff_dst_desc(), true);
    plan->diff_weights = onednn::PlanOperand(UserWeights(pr), pd.diff_weights_desc(), false);
    plan->scratchpad = pd.scratchpad_desc();
    plan->scratch = onednn::ScratchBytes({plan->src.bytes, plan->diff_dst.bytes,
                                          plan->diff_weights.bytes, plan->scratchpad.get_size()});
  });
}

// The plans of one executor node, built at bind for its shapes (null where a direction is not
// needed or oneDNN has no implementation).
struct ConvState {
  bool described = false;
  std::unique_ptr<ForwardPlan> forward;
  std::unique_ptr<BackwardDataPlan> backward_data;
  std::unique_ptr<BackwardWeightsPlan> backward_weights;
};

// One plan per problem and thread, for imperative calls (no executor node to hold them); a null
// pointer records that oneDNN has no implementation.
template <typename Plan>
Plan* ThreadPlan(const Problem& pr, std::unique_ptr<Plan> (*build)(const Problem&)) {
  return onednn::ThreadCache<std::unique_ptr<Plan>>().Get(pr.key, [&] { return build(pr); }).get();
}

bool Takes(const std::vector<TBlob>& in, std::initializer_list<OpReq> reqs) {
  if (!onednn::Enabled() || in[0].dtype != DType::kFloat32) return false;
  for (OpReq r : reqs)
    if (r == OpReq::kAdd) return false;
  return true;
}

// A oneDNN failure while computing becomes an error naming the node (the engine stores it on the
// outputs; it surfaces as an error status where they are read).
[[noreturn]] void Fail(const NodeAttrs& attrs, const char* what, const dnnl::error& e) {
  MX_THROW(kInternal) << attrs.op->name << (attrs.name.empty() ? "" : " node '") << attrs.name
                      << (attrs.name.empty() ? "" : "'") << ": oneDNN " << what
                      << " failed: " << e.what();
}

void RunForward(ForwardPlan& plan, const Problem& pr, const OpContext& ctx,
                const std::vector<TBlob>& in, const TBlob& out) {
  onednn::Scratch scratch(ctx, plan.scratch);
  memory src = onednn::Bind(plan.src, in[0].dptr, &scratch);
  memory weights = plan.cached_weights.Get(plan.weights, in[1].dptr);
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
}

// in = (ograd, data, weight); out = (data_grad, weight_grad[, bias_grad]). Either plan may be
// null (its gradient is not wanted). When both run and want the output gradient in the same
// layout, it is reordered once.
void RunBackward(BackwardDataPlan* data_plan, BackwardWeightsPlan* weights_plan, const Problem& pr,
                 const OpContext& ctx, const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                 OpReq bias_req, const std::vector<TBlob>& out) {
  // The weights primitive always writes both gradients; one not wanted goes to scratch.
  const size_t bias_bytes =
      weights_plan && pr.has_bias && bias_req == OpReq::kNull ? pr.bias[0] * 4 : 0;
  const size_t weight_bytes = weights_plan && req[1] == OpReq::kNull
                                  ? weights_plan->diff_weights.user.get_size()
                                  : size_t(0);
  onednn::Scratch scratch(ctx, (data_plan ? data_plan->scratch : 0) +
                                   (weights_plan ? weights_plan->scratch : 0) +
                                   onednn::ScratchBytes({bias_bytes, weight_bytes}));
  memory diff_dst_data;
  if (data_plan != nullptr) {
    BackwardDataPlan& plan = *data_plan;
    diff_dst_data = onednn::Bind(plan.diff_dst, in[0].dptr, &scratch);
    memory weights = plan.cached_weights.Get(plan.weights, in[2].dptr);
    memory diff_src = onednn::Bind(plan.diff_src, out[0].dptr, &scratch);
    memory pad(plan.scratchpad, onednn::Engine(), scratch.Take(plan.scratchpad.get_size()));
    plan.prim.execute(onednn::Stream(), {{DNNL_ARG_DIFF_DST, diff_dst_data},
                                         {DNNL_ARG_WEIGHTS, weights},
                                         {DNNL_ARG_DIFF_SRC, diff_src},
                                         {DNNL_ARG_SCRATCHPAD, pad}});
    onednn::Finish(plan.diff_src, diff_src, out[0].dptr);
    onednn::Stream().wait();
  }
  if (weights_plan != nullptr) {
    BackwardWeightsPlan& plan = *weights_plan;
    void* dw = req[1] == OpReq::kNull ? scratch.Take(weight_bytes) : out[1].dptr;
    memory src = onednn::Bind(plan.src, in[1].dptr, &scratch);
    const bool shared = data_plan != nullptr && plan.diff_dst.reorder &&
                        data_plan->diff_dst.reorder &&
                        plan.diff_dst.chosen == data_plan->diff_dst.chosen;
    memory diff_dst = shared ? diff_dst_data : onednn::Bind(plan.diff_dst, in[0].dptr, &scratch);
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
}

}  // namespace

LayoutSlots OneDNNConvSlots(const NodeAttrs& attrs, bool backward, const std::vector<Shape>& in,
                            const std::vector<Shape>& out, int dtype) {
  const ConvolutionParam& p = ConvParam(attrs);
  const Window w = ConvWindow(attrs);
  const Shape& data = backward ? in[1] : in[0];
  const Shape& y = backward ? in[0] : out[0];
  Problem pr;
  if (!onednn::Enabled() || dtype != static_cast<int>(DType::kFloat32) || w.ndim != 2 ||
      !Describe(p, w, data, y, 0, &pr)) {
    return {};
  }
  if (backward) return {{0, 1}, {0}, false};  // ograd, data; data_grad
  return {{0}, {0}, false};
}

std::shared_ptr<void> OneDNNConvState(const NodeAttrs& attrs, bool backward,
                                      const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                                      const std::vector<TBlob>& out) {
  const ConvolutionParam& p = ConvParam(attrs);
  const Window w = ConvWindow(attrs);
  auto state = std::make_shared<ConvState>();
  Problem pr;
  const TBlob& data = backward ? in[1] : in[0];
  const Shape& y = backward ? in[0].shape : out[0].shape;
  if (data.dtype != DType::kFloat32 || !Describe(p, w, data.shape, y, 0, &pr)) return state;
  if (backward) {
    SetLayouts(&pr, in[1], in[0], &out[0]);
  } else {
    SetLayouts(&pr, in[0], out[0], nullptr);
  }
  state->described = true;
  if (!backward) {
    if (req[0] != OpReq::kNull) state->forward = BuildForward(pr);
  } else {
    const bool bias_wanted = !p.no_bias && req[2] != OpReq::kNull;
    if (req[0] != OpReq::kNull) state->backward_data = BuildBackwardData(pr);
    if (req[1] != OpReq::kNull || bias_wanted) state->backward_weights = BuildBackwardWeights(pr);
  }
  return state;
}

bool OneDNNConvForward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                       OpReq req, const TBlob& out) {
  const ConvolutionParam& p = ConvParam(attrs);
  Problem pr;
  if (!Takes(in, {req}) || !Describe(p, ConvWindow(attrs), in[0].shape, out.shape, 0, &pr)) {
    return false;
  }
  SetLayouts(&pr, in[0], out, nullptr);
  ForwardPlan* plan = ctx.state != nullptr ? static_cast<ConvState*>(ctx.state)->forward.get()
                                           : ThreadPlan(pr, &BuildForward);
  if (plan == nullptr) return false;
  try {
    RunForward(*plan, pr, ctx, in, out);
  } catch (const dnnl::error& e) {
    Fail(attrs, "forward", e);
  }
  onednn::CountCall();
  return true;
}

bool OneDNNConvBackward(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                        const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const ConvolutionParam& p = ConvParam(attrs);
  const OpReq bias_req = p.no_bias ? OpReq::kNull : req[2];
  Problem pr;
  if (!Takes(in, {req[0], req[1], bias_req}) ||
      !Describe(p, ConvWindow(attrs), in[1].shape, in[0].shape, 0, &pr)) {
    return false;
  }
  SetLayouts(&pr, in[1], in[0], &out[0]);
  const bool want_data = req[0] != OpReq::kNull;
  const bool want_weights = req[1] != OpReq::kNull || bias_req != OpReq::kNull;
  BackwardDataPlan* data_plan = nullptr;
  BackwardWeightsPlan* weights_plan = nullptr;
  if (ctx.state != nullptr) {
    auto* state = static_cast<ConvState*>(ctx.state);
    data_plan = state->backward_data.get();
    weights_plan = state->backward_weights.get();
  } else {
    pr.key[0] = kBackwardData;
    if (want_data) data_plan = ThreadPlan(pr, &BuildBackwardData);
    pr.key[0] = kBackwardWeights;
    if (want_weights) weights_plan = ThreadPlan(pr, &BuildBackwardWeights);
  }
  // Both directions through oneDNN or neither (the im2col path computes them together).
  if ((want_data && data_plan == nullptr) || (want_weights && weights_plan == nullptr)) {
    return false;
  }
  try {
    RunBackward(want_data ? data_plan : nullptr, want_weights ? weights_plan : nullptr, pr, ctx, in,
                req, bias_req, out);
  } catch (const dnnl::error& e) {
    Fail(attrs, "backward", e);
  }
  onednn::CountCall();
  return true;
}

}  // namespace mx
