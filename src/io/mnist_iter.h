// The MNIST iterator: images and labels from the standard IDX files (gzip'ed or plain), pixels
// scaled to [0, 1] as float32, labels as float32 class indices. A directory may hold either form
// of each file: given "train-images-idx3-ubyte", the iterator reads that file or, when it does
// not exist, "train-images-idx3-ubyte.gz" beside it (and the other way round).
//
//   BatchIterParams p;
//   p.batch_size = 128;
//   p.shuffle = true;
//   auto train = CreateMNISTIter("data/mnist/train-images-idx3-ubyte",
//                                "data/mnist/train-labels-idx1-ubyte", /*flat=*/true, p);
//   // data: (128, 784) when flat, else (128, 1, 28, 28); label: (128,)
#ifndef MX_IO_MNIST_ITER_H_
#define MX_IO_MNIST_ITER_H_

#include <memory>
#include <string>

#include "io/batch_iter.h"

namespace mx {
namespace io {

// Reads both files when called (they are small: 47 MB for the full 60,000 training digits).
// Unreadable, corrupt, truncated or mismatched files are mx::Error(kIO) naming the file; a file
// missing in both forms is one naming both paths tried. With num_parts > 1 the iterator serves
// part `part_index` of that many contiguous parts (one per distributed worker); a part with no
// sample is kInvalidArgument. Parts are equal: the last (count % num_parts) samples are left out,
// so that every worker takes the same number of steps.
std::unique_ptr<DataIter> CreateMNISTIter(const std::string& image_path,
                                          const std::string& label_path, bool flat,
                                          const BatchIterParams& params, int num_parts = 1,
                                          int part_index = 0);

}  // namespace io
}  // namespace mx

#endif  // MX_IO_MNIST_ITER_H_
