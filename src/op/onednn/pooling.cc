// Max and average pooling forward through oneDNN (float32). On the layout the caller has: plain
// NCHW (pooling reads each input once, so reordering to a blocked layout would cost more than it
// saves), or channel-blocked where an executor keeps the activation so (op/layout.h). The
// backward pass is the loops' on plain arrays (op/pooling.cc says why), oneDNN's on blocked ones.
#include <memory>
#include <vector>

#include "op/layout.h"
#include "op/onednn/onednn.h"
#include "op/pooling.h"

namespace mx {
namespace {

using dnnl::memory;
using Dims = memory::dims;

struct Problem {
  Dims src, dst, strides, kernel, pad_l, pad_r;
  dnnl::algorithm alg;
  memory::format_tag tag = memory::format_tag::nchw;  // the data's layout (SetLayout)
  onednn::Key key{};
};

// False when oneDNN would compute something else: sum pooling (no such algorithm), or an
// average over padding whose right side differs from the left (the `full` convention counts
// only the padding it was given; oneDNN counts the extended right padding too).
bool Describe(const PoolingParam& p, const Window& w, const Shape& data, const Shape& out,
              Problem* pr) {
  if (p.pool_type == kSumPool) return false;
  const Plane x = Plane::Of(data), y = Plane::Of(out);
  pr->src = {x.n, x.c, x.h, x.w};
  pr->dst = {y.n, y.c, y.h, y.w};
  pr->strides = {w.stride[0], w.stride[1]};
  pr->kernel = {w.kernel[0], w.kernel[1]};
  pr->pad_l = {w.pad[0], w.pad[1]};
  const int64_t in_ext[2] = {x.h, x.w}, out_ext[2] = {y.h, y.w};
  pr->pad_r.resize(2);
  for (int a = 0; a < 2; ++a) {
    pr->pad_r[a] = (out_ext[a] - 1) * w.stride[a] + w.kernel[a] - in_ext[a] - w.pad[a];
    if (pr->pad_r[a] < 0) return false;
    if (p.pool_type == kAvgPool && p.count_include_pad && pr->pad_r[a] != w.pad[a]) return false;
  }
  pr->alg = p.pool_type == kMaxPool ? dnnl::algorithm::pooling_max
            : p.count_include_pad   ? dnnl::algorithm::pooling_avg_include_padding
                                    : dnnl::algorithm::pooling_avg_exclude_padding;
  pr->key = {static_cast<int64_t>(pr->alg),
             x.n,
             x.c,
             x.h,
             x.w,
             y.h,
             y.w,
             w.kernel[0],
             w.kernel[1],
             w.stride[0],
             w.stride[1],
             w.pad[0],
             w.pad[1]};
  return true;
}

memory::format_tag Tag(Layout layout) {
  return layout == Layout::kBlocked16 ? memory::format_tag::nChw16c : memory::format_tag::nchw;
}

float* ThreadBuffer(int slot, size_t bytes) {
  thread_local std::vector<float> buffers[4];
  std::vector<float>& b = buffers[slot];
  if (b.size() * sizeof(float) < bytes) b.resize((bytes + sizeof(float) - 1) / sizeof(float));
  return b.data();
}

// The primitive works in the data's layout (part of the plan's key): oneDNN's kernels for
// mixed layouts are its reference ones, 60x slower on global pooling before a Flatten (which
// reads a plain output). An operand in the other layout goes through a buffer and a conversion,
// free for a 1x1 output plane, where both orders agree.
void SetLayout(Problem* pr, Layout data) {
  pr->tag = Tag(data);
  pr->key[13] = static_cast<int64_t>(data);
}

// The memory the primitive reads or writes for `b`: `b` itself when in `layout` (or either order
// agrees), else a buffer of this thread's (`slot`), holding b's values when `in`.
float* InLayout(const TBlob& b, Layout layout, int slot, bool in) {
  if (b.layout == layout || SameOrder(b.shape)) return b.data<float>();
  float* buf = ThreadBuffer(slot, b.Bytes());
  if (in) ConvertLayout(b.data<float>(), b.layout, TBlob{buf, b.shape, b.dtype, b.ctx, layout});
  return buf;
}

// After the primitive: `b`'s values from the buffer InLayout gave, if any.
void Finish(const TBlob& b, Layout layout, const float* used) {
  if (used != b.dptr) ConvertLayout(used, layout, b);
}

dnnl::pooling_forward::primitive_desc ForwardDesc(const Problem& pr, dnnl::prop_kind prop) {
  using F = dnnl::pooling_forward;
  const F::desc d(prop, pr.alg, onednn::PlainDesc(pr.src, pr.tag),
                  onednn::PlainDesc(pr.dst, pr.tag), pr.strides, pr.kernel, pr.pad_l, pr.pad_r);
  return F::primitive_desc(d, onednn::Engine());
}

struct ForwardPlan {
  dnnl::pooling_forward prim;
};

// Max pooling's backward reads the argmax workspace of a training forward pass, which the graph
// does not keep (its arrays have data's shape): the plan reruns that pass into buffers of this
// thread's.
struct BackwardPlan {
  dnnl::pooling_forward forward;  // training, for the workspace (max pooling only)
  dnnl::pooling_backward prim;
  memory::desc dst, workspace;
  bool max = false;
};

// This thread's plan for a problem, built at its first call; null (then the caller declines)
// where oneDNN has no implementation, e.g. for some mix of layouts.
template <typename Plan, typename Build>
const Plan* ThreadPlan(const onednn::Key& key, Build build) {
  return onednn::ThreadCache<std::unique_ptr<Plan>>()
      .Get(key,
           [&]() -> std::unique_ptr<Plan> {
             try {
               return std::make_unique<Plan>(build());
             } catch (const dnnl::error&) {
               return nullptr;
             }
           })
      .get();
}

bool Takes(const TBlob& data, OpReq req) {
  return onednn::Enabled() && data.dtype == DType::kFloat32 && req != OpReq::kAdd;
}

}  // namespace

LayoutSlots OneDNNPoolSlots(const PoolingParam& p, const Window& w, bool backward,
                            const Shape& data, const Shape& out, int dtype) {
  Problem pr;
  if (!onednn::Enabled() || dtype != static_cast<int>(DType::kFloat32) || data.ndim() != 4 ||
      !Describe(p, w, data, out, &pr)) {
    return {};
  }
  if (backward) return {{0, 1, 2}, {0}, false};  // ograd, data, output (unread); data_grad
  return {{0}, {0}, false};
}

bool OneDNNPoolForward(const PoolingParam& p, const Window& w, const OpContext&, const TBlob& in,
                       OpReq req, const TBlob& out) {
  Problem pr;
  if (!Takes(in, req) || !Describe(p, w, in.shape, out.shape, &pr)) return false;
  SetLayout(&pr, in.layout);
  const ForwardPlan* plan = ThreadPlan<ForwardPlan>(pr.key, [&] {
    return ForwardPlan{dnnl::pooling_forward(ForwardDesc(pr, dnnl::prop_kind::forward_inference))};
  });
  if (plan == nullptr) return false;
  float* y = InLayout(out, in.layout, 2, false);
  memory src(onednn::PlainDesc(pr.src, pr.tag), onednn::Engine(), in.dptr),
      dst(onednn::PlainDesc(pr.dst, pr.tag), onednn::Engine(), y);
  plan->prim.execute(onednn::Stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
  onednn::Stream().wait();
  Finish(out, in.layout, y);
  onednn::Stream().wait();
  onednn::CountCall();
  return true;
}

bool OneDNNPoolBackward(const PoolingParam& p, const Window& w, const std::vector<TBlob>& in,
                        OpReq req, const TBlob& out) {
  Problem pr;
  if (!Takes(in[1], req) || req == OpReq::kNull || !Describe(p, w, in[1].shape, in[0].shape, &pr)) {
    return false;
  }
  const Layout layout = in[1].layout;
  SetLayout(&pr, layout);
  pr.key[16] = 1;  // backward
  const BackwardPlan* found = ThreadPlan<BackwardPlan>(pr.key, [&] {
    using B = dnnl::pooling_backward;
    BackwardPlan b;
    const auto fwd = ForwardDesc(pr, dnnl::prop_kind::forward_training);
    const B::desc d(pr.alg, onednn::PlainDesc(pr.src, pr.tag), onednn::PlainDesc(pr.dst, pr.tag),
                    pr.strides, pr.kernel, pr.pad_l, pr.pad_r);
    b.prim = B(B::primitive_desc(d, onednn::Engine(), fwd));
    b.max = pr.alg == dnnl::algorithm::pooling_max;
    if (b.max) {
      b.forward = dnnl::pooling_forward(fwd);
      b.dst = fwd.dst_desc();
      b.workspace = fwd.workspace_desc();
    }
    return b;
  });
  if (found == nullptr) return false;
  const BackwardPlan& plan = *found;
  const dnnl::engine& eng = onednn::Engine();
  float* dx = InLayout(out, layout, 3, false);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_DIFF_DST,
       memory(onednn::PlainDesc(pr.dst, pr.tag), eng, InLayout(in[0], layout, 2, true))},
      {DNNL_ARG_DIFF_SRC, memory(onednn::PlainDesc(pr.src, pr.tag), eng, dx)}};
  if (plan.max) {
    memory ws(plan.workspace, eng, ThreadBuffer(0, plan.workspace.get_size()));
    plan.forward.execute(
        onednn::Stream(),
        {{DNNL_ARG_SRC, memory(onednn::PlainDesc(pr.src, pr.tag), eng, in[1].dptr)},
         {DNNL_ARG_DST, memory(plan.dst, eng, ThreadBuffer(1, plan.dst.get_size()))},
         {DNNL_ARG_WORKSPACE, ws}});
    args.emplace(DNNL_ARG_WORKSPACE, ws);
  }
  plan.prim.execute(onednn::Stream(), args);
  onednn::Stream().wait();
  Finish(out, layout, dx);
  onednn::CountCall();
  return true;
}

}  // namespace mx
