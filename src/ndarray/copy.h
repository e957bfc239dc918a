// Byte copies between any two devices, run inside an engine op.
#ifndef MX_NDARRAY_COPY_H_
#define MX_NDARRAY_COPY_H_

#include <cstddef>

#include "engine/engine.h"
#include "op/tblob.h"

namespace mx {

// Copies `from` into `to` (same shape). Host to host converts the element type when they differ;
// copies involving a GPU require equal types and are enqueued on the worker's stream, pageable
// host memory through a pinned staging block from the pool (copy.cc), so the worker does not
// wait for the transfer: the engine's completion event orders whoever uses the arrays next.
void CopyBlob(const TBlob& from, const TBlob& to, const engine::RunContext& rctx);
// Blocks until the copies enqueued on rctx's stream are done (nothing on the host): for a copy
// out of memory the engine does not track, such as a staging block about to be reused.
void WaitForCopies(const engine::RunContext& rctx);

// The engine property of a copy of `elements` between these devices (which workers run it; a
// small copy between host arrays is kCheap).
engine::FnProperty CopyProperty(Context from, Context to, int64_t elements);

}  // namespace mx

#endif  // MX_NDARRAY_COPY_H_
