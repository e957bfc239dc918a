// Max and average pooling through oneDNN (float32, plain NCHW: pooling reads each input once, so
// reordering to a blocked layout would cost more than it saves).
//
// Max pooling's backward needs the forward pass's argmax (oneDNN's workspace); the forward op
// does not keep it (the graph holds only arrays of data shape), so the backward op reruns the
// forward pass into scratch memory, which is cheap next to the convolutions around it.
#include "op/pooling.h"
#include "op/onednn/onednn.h"

namespace mx {
namespace {

using dnnl::memory;
using Dims = memory::dims;

struct Problem {
  Dims src, dst, strides, kernel, pad_l, pad_r;
  dnnl::algorithm alg;
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

memory::desc Plain(const Dims& d) { return onednn::PlainDesc(d, memory::format_tag::nchw); }

dnnl::pooling_forward::primitive_desc ForwardDesc(const Problem& pr, dnnl::prop_kind prop) {
  using F = dnnl::pooling_forward;
  const F::desc d(prop, pr.alg, Plain(pr.src), Plain(pr.dst), pr.strides, pr.kernel, pr.pad_l,
                  pr.pad_r);
  return F::primitive_desc(d, onednn::Engine());
}

struct ForwardPlan {
  dnnl::pooling_forward prim;
};

struct BackwardPlan {
  dnnl::pooling_forward forward;  // forward_training: recomputes max pooling's workspace
  dnnl::pooling_backward prim;
  memory::desc workspace;
};

bool Takes(const TBlob& data, OpReq req) {
  return onednn::Enabled() && data.dtype == DType::kFloat32 && req != OpReq::kAdd;
}

}  // namespace

bool OneDNNPoolForward(const PoolingParam& p, const Window& w, const OpContext&, const TBlob& in,
                       OpReq req, const TBlob& out) {
  Problem pr;
  if (!Takes(in, req) || !Describe(p, w, in.shape, out.shape, &pr)) return false;
  ForwardPlan& plan = onednn::ThreadCache<ForwardPlan>().Get(pr.key, [&] {
    return ForwardPlan{dnnl::pooling_forward(ForwardDesc(pr, dnnl::prop_kind::forward_inference))};
  });
  memory src(Plain(pr.src), onednn::Engine(), in.dptr),
      dst(Plain(pr.dst), onednn::Engine(), out.dptr);
  plan.prim.execute(onednn::Stream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
  onednn::Stream().wait();
  onednn::CountCall();
  return true;
}

bool OneDNNPoolBackward(const PoolingParam& p, const Window& w, const OpContext& ctx,
                        const std::vector<TBlob>& in, OpReq req, const TBlob& out) {
  Problem pr;
  if (!Takes(in[1], req) || !Describe(p, w, in[1].shape, in[0].shape, &pr)) return false;
  pr.key[0] += 1000;  // not the forward plan's key
  BackwardPlan& plan = onednn::ThreadCache<BackwardPlan>().Get(pr.key, [&] {
    const auto fwd = ForwardDesc(pr, dnnl::prop_kind::forward_training);
    using B = dnnl::pooling_backward;
    const B::desc d(pr.alg, Plain(pr.src), Plain(pr.dst), pr.strides, pr.kernel, pr.pad_l,
                    pr.pad_r);
    BackwardPlan b;
    b.forward = dnnl::pooling_forward(fwd);
    b.prim = B(B::primitive_desc(d, onednn::Engine(), fwd));
    b.workspace = fwd.workspace_desc();
    return b;
  });
  const bool is_max = pr.alg == dnnl::algorithm::pooling_max;
  memory src(Plain(pr.src), onednn::Engine(), in[1].dptr);
  memory diff_dst(Plain(pr.dst), onednn::Engine(), in[0].dptr);
  memory diff_src(Plain(pr.src), onednn::Engine(), out.dptr);
  std::unordered_map<int, memory> args{{DNNL_ARG_DIFF_DST, diff_dst},
                                       {DNNL_ARG_DIFF_SRC, diff_src}};
  if (is_max) {
    // Rerun the forward pass for the argmax: into scratch, since the real output may be shared.
    const size_t ws_bytes = plan.workspace.get_size(), dst_bytes = in[0].Bytes();
    onednn::Scratch scratch(ctx, onednn::ScratchBytes({ws_bytes, dst_bytes}));
    memory ws(plan.workspace, onednn::Engine(), scratch.Take(ws_bytes));
    memory dst(Plain(pr.dst), onednn::Engine(), scratch.Take(dst_bytes));
    plan.forward.execute(onednn::Stream(),
                         {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}, {DNNL_ARG_WORKSPACE, ws}});
    args.emplace(DNNL_ARG_WORKSPACE, ws);
    plan.prim.execute(onednn::Stream(), args);
  } else {
    plan.prim.execute(onednn::Stream(), args);
  }
  onednn::Stream().wait();
  onednn::CountCall();
  return true;
}

}  // namespace mx
