// Filling an array with one value on its device: the creation ops (_zeros, _full, zeros_like,
// ...) and NDArray::Fill (executors zeroing gradients, initializers) share it.
#ifndef MX_OP_FILL_H_
#define MX_OP_FILL_H_

#include "engine/engine.h"
#include "op/op.h"
#include "op/tblob.h"

namespace mx {

// out = value (out += value for kAdd) on rctx's device; zero is a memset, so it works for every
// dtype (float16 too); other values need a numeric dtype. `what` names the caller in errors.
void FillBlob(const engine::RunContext& rctx, const TBlob& out, OpReq req, double value,
              const char* what);

}  // namespace mx

#endif  // MX_OP_FILL_H_
