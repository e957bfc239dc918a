// BatchNorm forward and backward through oneDNN (float32, channel axis 1 of data viewed as
// (N, C, H*W, 1): plain, or channel-blocked (nChw16c) when an executor keeps the activation so,
// op/layout.h; data, output and their gradients share one layout, LayoutSlots::tied).
//
// oneDNN computes the batch mean and (biased) variance straight into the op's hidden outputs;
// the moving statistics are then updated here, as the loops do. fix_gamma leaves out the scale
// (oneDNN then uses 1) and its gradient is written as 0.
#include <algorithm>
#include <cstring>
#include <vector>

#include "op/batch_norm.h"
#include "op/layout.h"
#include "op/onednn/onednn.h"

namespace mx {
namespace {

using dnnl::memory;
using Flags = dnnl::normalization_flags;

struct Problem {
  memory::desc data;
  Flags flags;
  onednn::Key key{};
};

Problem Describe(const BatchNormParam& p, const ChannelView& v, bool global, int kind,
                 Layout layout) {
  Problem pr;
  const bool blocked = layout == Layout::kBlocked16;
  pr.data = onednn::PlainDesc({v.outer, v.c, v.inner, 1},
                              blocked ? memory::format_tag::nChw16c : memory::format_tag::nchw);
  pr.flags = Flags::use_shift;
  if (!p.fix_gamma) pr.flags = pr.flags | Flags::use_scale;
  if (global) pr.flags = pr.flags | Flags::use_global_stats;
  pr.key = {kind, v.outer, v.c, v.inner, static_cast<int64_t>(pr.flags), blocked};
  return pr;
}

dnnl::batch_normalization_forward::primitive_desc ForwardDesc(const Problem& pr, float eps,
                                                              dnnl::prop_kind prop) {
  using F = dnnl::batch_normalization_forward;
  return F::primitive_desc(F::desc(prop, pr.data, eps, pr.flags), onednn::Engine());
}

bool Takes(const BatchNormParam& p, const TBlob& data, const std::vector<OpReq>& req) {
  if (!onednn::Enabled() || data.dtype != DType::kFloat32 || data.shape.ndim() < 2) return false;
  if ((p.axis < 0 ? p.axis + data.shape.ndim() : p.axis) != 1) return false;
  // oneDNN writes every output: nothing to accumulate, and the data-sized one is wanted (the
  // per-channel ones nobody reads go to Spare).
  for (OpReq r : req)
    if (r == OpReq::kAdd) return false;
  return req[0] != OpReq::kNull;
}

memory Mem(const memory::desc& d, const TBlob& b) { return memory(d, onednn::Engine(), b.dptr); }

// Where a per-channel output nobody reads (kNull: an inference executor's batch statistics, a
// frozen gamma's gradient) is written: a buffer of this thread's, grown, then reused.
void* Spare(const TBlob& b, OpReq req, int slot) {
  if (req != OpReq::kNull) return b.dptr;
  thread_local std::vector<float> spare[2];
  std::vector<float>& buf = spare[slot];
  if (buf.size() < static_cast<size_t>(b.Size())) buf.resize(b.Size());
  return buf.data();
}

}  // namespace

bool OneDNNBatchNormForward(const BatchNormParam& p, bool training, const OpContext&,
                            const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                            const std::vector<TBlob>& out) {
  // One layout for data and output (LayoutSlots::tied): a mix goes to the loops, on plain copies.
  if (!Takes(p, in[0], req) || out[0].layout != in[0].layout) return false;
  const ChannelView v = ChannelViewOf(p, in[0].shape);
  const Problem pr = Describe(p, v, !training, 0, in[0].layout);
  const auto eps = static_cast<float>(p.eps);
  auto& prim = onednn::ThreadCache<dnnl::batch_normalization_forward>().Get(pr.key, [&] {
    return dnnl::batch_normalization_forward(ForwardDesc(
        pr, eps,
        training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference));
  });
  const memory::desc stat = onednn::PlainDesc({v.c}, memory::format_tag::x);
  auto* mean = static_cast<float*>(Spare(out[1], req[1], 0));
  auto* var = static_cast<float*>(Spare(out[2], req[2], 1));
  float* moving_mean = in[3].data<float>();
  float* moving_var = in[4].data<float>();
  if (!training) {
    // The moving statistics are the ones used, and what the hidden outputs report.
    std::memcpy(mean, moving_mean, sizeof(float) * v.c);
    std::memcpy(var, moving_var, sizeof(float) * v.c);
  }
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, Mem(pr.data, in[0])},
                                       {DNNL_ARG_DST, Mem(pr.data, out[0])},
                                       {DNNL_ARG_MEAN, memory(stat, onednn::Engine(), mean)},
                                       {DNNL_ARG_VARIANCE, memory(stat, onednn::Engine(), var)},
                                       {DNNL_ARG_SHIFT, Mem(stat, in[2])}};
  if (!p.fix_gamma) args.emplace(DNNL_ARG_SCALE, Mem(stat, in[1]));
  prim.execute(onednn::Stream(), args);
  onednn::Stream().wait();
  if (training) {
    const float m = p.momentum;
    for (int64_t c = 0; c < v.c; ++c) {
      moving_mean[c] = moving_mean[c] * m + mean[c] * (1 - m);
      moving_var[c] = moving_var[c] * m + var[c] * (1 - m);
    }
  }
  onednn::CountCall();
  return true;
}

bool OneDNNBatchNormBackward(const BatchNormParam& p, const OpContext&,
                             const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                             const std::vector<TBlob>& out) {
  if (!Takes(p, in[1], req) || in[0].layout != in[1].layout || out[0].layout != in[1].layout) {
    return false;
  }
  const ChannelView v = ChannelViewOf(p, in[1].shape);
  const Problem pr = Describe(p, v, p.use_global_stats, 1, in[1].layout);
  const auto eps = static_cast<float>(p.eps);
  auto& prim = onednn::ThreadCache<dnnl::batch_normalization_backward>().Get(pr.key, [&] {
    using B = dnnl::batch_normalization_backward;
    const B::desc d(dnnl::prop_kind::backward, pr.data, pr.data, eps, pr.flags);
    return B(B::primitive_desc(d, onednn::Engine(),
                               ForwardDesc(pr, eps, dnnl::prop_kind::forward_training)));
  });
  const memory::desc stat = onednn::PlainDesc({v.c}, memory::format_tag::x);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_DIFF_DST, Mem(pr.data, in[0])},
      {DNNL_ARG_SRC, Mem(pr.data, in[1])},
      {DNNL_ARG_MEAN, Mem(stat, in[3])},
      {DNNL_ARG_VARIANCE, Mem(stat, in[4])},
      {DNNL_ARG_DIFF_SRC, Mem(pr.data, out[0])},
      {DNNL_ARG_DIFF_SHIFT, memory(stat, onednn::Engine(), Spare(out[2], req[2], 1))}};
  if (!p.fix_gamma) {
    args.emplace(DNNL_ARG_SCALE, Mem(stat, in[2]));
    args.emplace(DNNL_ARG_DIFF_SCALE, memory(stat, onednn::Engine(), Spare(out[1], req[1], 0)));
  }
  // oneDNN 2.6 insists on a shift argument in backward though the gradient does not depend on
  // it; the backward op has no beta, so it gets a buffer of this thread's (grown, then reused).
  thread_local std::vector<float> unused_shift;
  if (unused_shift.size() < static_cast<size_t>(v.c)) unused_shift.resize(v.c);
  args.emplace(DNNL_ARG_SHIFT, memory(stat, onednn::Engine(), unused_shift.data()));
  prim.execute(onednn::Stream(), args);
  onednn::Stream().wait();
  if (p.fix_gamma && req[1] != OpReq::kNull) {
    std::fill(out[1].data<float>(), out[1].data<float>() + v.c, 0.0f);
  }
  onednn::CountCall();
  return true;
}

}  // namespace mx

namespace mx {

LayoutSlots OneDNNBatchNormSlots(const BatchNormParam& p, bool backward,
                                 const std::vector<Shape>& in, int dtype) {
  const Shape& data = backward ? in[1] : in[0];
  if (!onednn::Enabled() || dtype != static_cast<int>(DType::kFloat32) || data.ndim() != 4 ||
      (p.axis < 0 ? p.axis + 4 : p.axis) != 1) {
    return {};
  }
  if (backward) return {{0, 1}, {0}, true};  // ograd, data; data_grad
  return {{0}, {0}, true};
}

}  // namespace mx
