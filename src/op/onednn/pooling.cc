// Max and average pooling forward through oneDNN (float32, plain NCHW: pooling reads each input
// once, so reordering to a blocked layout would cost more than it saves). The backward pass is
// the loops' (op/pooling.cc says why).
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

}  // namespace mx
