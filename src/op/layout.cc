#include "op/layout.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "storage/storage.h"

namespace mx {
namespace {

// Read by binding threads, written by tests and benchmarks (SetBlockedLayouts).
std::atomic<bool>& BlockedFlag() {
#if MX_USE_ONEDNN
  static std::atomic<bool> on([] {
    const char* v = std::getenv("MX_BLOCKED_LAYOUT");
    return v == nullptr || std::strcmp(v, "0") != 0;
  }());
#else
  static std::atomic<bool> on(false);  // no op of this build reads a blocked slot
#endif
  return on;
}

// One (sample, 16-channel block) at a time: H*W*16 floats in the blocked order, 16 planes of H*W
// in the plain one.
template <bool kToPlain>
void Convert(const Shape& s, const float* from, float* to) {
  const int64_t n = s[0], c = s[1], hw = s[2] * s[3], blocks = c / 16;
  const int64_t units = n * blocks;
#if MX_USE_OPENMP
#pragma omp parallel for if (n * c * hw >= (int64_t{1} << 15))
#endif
  for (int64_t nb = 0; nb < units; ++nb) {
    const int64_t plane0 = (nb / blocks * c + nb % blocks * 16) * hw;
    const float* src = from + (kToPlain ? nb * hw * 16 : plane0);
    float* dst = to + (kToPlain ? plane0 : nb * hw * 16);
    for (int64_t i = 0; i < hw; ++i) {
      for (int64_t k = 0; k < 16; ++k) {
        if (kToPlain) {
          dst[k * hw + i] = src[i * 16 + k];
        } else {
          dst[i * 16 + k] = src[k * hw + i];
        }
      }
    }
  }
}

std::atomic<uint64_t> fallbacks{0};

}  // namespace

uint64_t PlainFallbacks() { return fallbacks.load(std::memory_order_relaxed); }

bool BlockedLayouts() { return BlockedFlag().load(std::memory_order_relaxed); }
void SetBlockedLayouts(bool on) {
#if MX_USE_ONEDNN
  BlockedFlag().store(on, std::memory_order_relaxed);
#else
  (void)on;
#endif
}

bool Blockable(const Shape& shape, int dtype) {
  return dtype == static_cast<int>(DType::kFloat32) && shape.ndim() == 4 && shape.IsKnown() &&
         shape[1] > 0 && shape[1] % 16 == 0;
}

bool AnyBlocked(const std::vector<TBlob>& in, const std::vector<TBlob>& out) {
  for (const TBlob& b : in)
    if (b.layout != Layout::kPlain) return true;
  for (const TBlob& b : out)
    if (b.layout != Layout::kPlain) return true;
  return false;
}

void BlockedToPlain(const TBlob& from, float* to) {
  Convert<true>(from.shape, from.data<float>(), to);
}

void PlainToBlocked(const float* from, const TBlob& to) {
  Convert<false>(to.shape, from, to.data<float>());
}

bool SameOrder(const Shape& shape) { return shape.ndim() == 4 && shape[2] * shape[3] == 1; }

void ConvertLayout(const float* from, Layout from_layout, const TBlob& to) {
  if (from_layout == to.layout || SameOrder(to.shape)) {
    if (to.Bytes() > 0) std::memcpy(to.dptr, from, to.Bytes());
  } else if (from_layout == Layout::kPlain) {
    PlainToBlocked(from, to);
  } else {
    BlockedToPlain(TBlob{const_cast<float*>(from), to.shape, to.dtype, to.ctx, from_layout},
                   to.data<float>());
  }
}

void ComputePlain(const FCompute& fn, const NodeAttrs& attrs, const OpContext& ctx,
                  const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                  const std::vector<TBlob>& out) {
  fallbacks.fetch_add(1, std::memory_order_relaxed);
  // The copies come from the storage pool: after the first call, no allocation.
  struct Copies {
    std::vector<Storage::Handle> handles;
    ~Copies() {
      for (const auto& h : handles) Storage::Get()->Free(h);
    }
  } copies;
  auto plain_copy = [&](const TBlob& b, bool fill) {
    copies.handles.push_back(Storage::Get()->Alloc(b.Bytes(), Context::CPU()));
    TBlob p = b;
    p.dptr = copies.handles.back().dptr;
    p.layout = Layout::kPlain;
    if (fill) BlockedToPlain(b, p.data<float>());
    return p;
  };
  std::vector<TBlob> pin = in, pout = out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i].layout != Layout::kPlain) pin[i] = plain_copy(in[i], true);
  }
  std::vector<OpReq> preq = req;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].layout == Layout::kPlain || req[i] == OpReq::kNull) continue;
    pout[i] = plain_copy(out[i], req[i] == OpReq::kAdd);
    // The copy is memory of its own: an output in place over an input becomes a plain write.
    if (preq[i] == OpReq::kInplace) preq[i] = OpReq::kWrite;
  }
  OpContext plain_ctx = ctx;
  plain_ctx.state = nullptr;
  fn(attrs, plain_ctx, pin, preq, pout);
  for (size_t i = 0; i < out.size(); ++i) {
    if (pout[i].dptr != out[i].dptr) PlainToBlocked(pout[i].data<float>(), out[i]);
  }
}

}  // namespace mx
