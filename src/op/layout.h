// Blocked activations: what ops and executors share about TBlob::layout.
//
// oneDNN's convolutions run on a channel-blocked order (nChw16c); libmx arrays are plain NCHW, so
// each convolution used to reorder its activations in and out. Inside an executor the layout pass
// (PlanLayout, src/graph/pass/plan_layout.cc) keeps an activation blocked when every op that
// reads or writes it takes that order (Op::SetLayoutSlots, Op::SetElementwise) and the caller
// never sees it (arguments, outputs and gradients stay plain). An op on such a slot whose fast
// path declines a call (an accumulated gradient, a geometry oneDNN does not express) computes on
// plain copies instead:
//
//   if (AnyBlocked(in, out) && !OneDNNConvForward(attrs, ctx, in, req[0], out[0])) {
//     return ComputePlain(CpuForward, attrs, ctx, in, req, out);
//   }
#ifndef MX_OP_LAYOUT_H_
#define MX_OP_LAYOUT_H_

#include <vector>

#include "op/op.h"

namespace mx {

// Whether executors keep activations blocked: on by default where oneDNN is built and enabled;
// MX_BLOCKED_LAYOUT=0 in the environment (read at start-up) turns it off, e.g. to compare.
bool BlockedLayouts();
void SetBlockedLayouts(bool on);

// Whether an array of this shape and type may be blocked: float32, 4-D, channels a positive
// multiple of 16 (so the blocked order pads nothing and has the plain array's size).
bool Blockable(const Shape& shape, int dtype);

bool AnyBlocked(const std::vector<TBlob>& in, const std::vector<TBlob>& out);

// Converts between the orders (float32, Blockable shapes); `to` and `from` do not overlap.
void BlockedToPlain(const TBlob& from, float* to);
void PlainToBlocked(const float* from, const TBlob& to);

// Whether both orders put the elements of an array of this shape in the same places: a 1x1 plane
// (global pooling's output) is n*C + c either way.
bool SameOrder(const Shape& shape);
// Writes `from` (an array of to.shape in order `from_layout`) into `to` in to.layout.
void ConvertLayout(const float* from, Layout from_layout, const TBlob& to);

// Runs `fn` (a compute that reads only plain blobs) on plain copies of the blocked operands:
// blocked inputs are converted in, blocked outputs computed plain and converted back (what they
// hold first when accumulated). The copies come from the storage pool. The call gets no
// bind-time state, which was planned for the blocked layouts.
void ComputePlain(const FCompute& fn, const NodeAttrs& attrs, const OpContext& ctx,
                  const std::vector<TBlob>& in, const std::vector<OpReq>& req,
                  const std::vector<TBlob>& out);
// How many calls ComputePlain has run (tests check which paths take blocked arrays directly).
uint64_t PlainFallbacks();

}  // namespace mx

#endif  // MX_OP_LAYOUT_H_
