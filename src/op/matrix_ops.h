// The matrix/shape op family, split over three files that RegisterMatrixOps (matrix.cc) calls:
//   matrix.cc     dot, batch_dot, transpose
//   shape_ops.cc  Reshape, reshape_like, Flatten, expand_dims, Concat, SliceChannel, slice_axis
//   indexing.cc   take, one_hot, clip, Cast, add_n / ElementWiseSum
// and the helpers those files (and init_op.cc) share.
#ifndef MX_OP_MATRIX_OPS_H_
#define MX_OP_MATRIX_OPS_H_

#include <dmlc/parameter.h>

#include <cstring>
#include <string>
#include <vector>

#include "op/cuda_util.h"
#include "op/elemwise.h"
#include "op/op.h"

namespace mx {

void RegisterShapeOps(OpRegistry* reg);
void RegisterIndexingOps(OpRegistry* reg);

namespace matrix {

// Adds every dtype name ("float32", "float64", ...) as an enum value of a dtype parameter, with
// the DType value the C ABI uses.
inline dmlc::parameter::FieldEntry<int>& AddDTypeEnums(dmlc::parameter::FieldEntry<int>& f) {
  for (int t = 0; t < kNumDTypes; ++t) f.add_enum(DTypeName(static_cast<DType>(t)), t);
  return f;
}

// `axis` counted from the end when negative, checked against `ndim` (the rank of `what`, or
// ndim + 1 for expand_dims); errors name the parameter, the value and the valid range.
inline int NormalizeAxis(int axis, int ndim, const char* param = "axis") {
  MX_CHECK(axis >= -ndim && axis < ndim, kInvalidArgument)
      << param << "=" << axis << " is out of range for " << ndim << " axes (valid: " << -ndim
      << " to " << ndim - 1 << ")";
  return axis < 0 ? axis + ndim : axis;
}

// out = in (or out += in) on rctx's device, for any numeric dtype; nothing to do when writing
// onto itself.
inline void CopyOrAdd(const engine::RunContext& rctx, const TBlob& in, OpReq req, const TBlob& out,
                      const std::string& op) {
  if (req == OpReq::kNull) return;
  if (req != OpReq::kAdd) {
    if (in.dptr == out.dptr || out.Bytes() == 0) return;
#if MX_USE_CUDA
    if (rctx.ctx.is_gpu()) {
      cuda::Check(cudaMemcpyAsync(out.dptr, in.dptr, out.Bytes(), cudaMemcpyDeviceToDevice,
                                  cuda::StreamOf(rctx)),
                  "cudaMemcpyAsync");
      return;
    }
#endif
    std::memcpy(out.dptr, in.dptr, out.Bytes());
    return;
  }
  MX_NUMERIC_TYPE_SWITCH(out.dtype, T, op, {
    Kernel<UnaryKernel<fn::Identity, OpReq::kAdd>>::Launch(rctx, out.Size(), out.data<T>(),
                                                           in.data<T>(), T(0));
  });
}

// dst[dst_off + r * dst_stride + j] = (or +=) src[src_off + r * src_stride + j] for r < rows,
// j < len (in elements), on rctx's device: the block copy behind Concat, SliceChannel,
// slice_axis and take.
void CopyRows(const engine::RunContext& rctx, const TBlob& src, int64_t src_off, int64_t src_stride,
              const TBlob& dst, int64_t dst_off, int64_t dst_stride, int64_t rows, int64_t len,
              OpReq req, const std::string& op);

// Throws when `v` exceeds the int that BLAS takes.
void CheckBlasDim(int64_t v);

}  // namespace matrix
}  // namespace mx

#endif  // MX_OP_MATRIX_OPS_H_
