// The in-memory iterator (MXNet's NDArrayIter): batches over arrays whose first axis indexes the
// samples, with an optional label array of the same number of samples.
//
//   BatchIterParams p;
//   p.batch_size = 32;
//   p.shuffle = true;
//   p.seed = 1;
//   auto it = CreateNDArrayIter(images, labels, p);  // labels may be a none NDArray
#ifndef MX_IO_NDARRAY_ITER_H_
#define MX_IO_NDARRAY_ITER_H_

#include <memory>

#include "io/batch_iter.h"

namespace mx {
namespace io {

// Copies the arrays' contents (converted to float32) when created, so they may change later.
std::unique_ptr<DataIter> CreateNDArrayIter(const NDArray& data, const NDArray& label,
                                            const BatchIterParams& params);

// From host float32 buffers, copied when created. `label` may be null (no labels); then
// `label_shape` is ignored.
std::unique_ptr<DataIter> CreateNDArrayIter(const float* data, const Shape& data_shape,
                                            const float* label, const Shape& label_shape,
                                            const BatchIterParams& params);

}  // namespace io
}  // namespace mx

#endif  // MX_IO_NDARRAY_ITER_H_
