// Data iterators: batches of samples for training and evaluation.
//
// A DataIter walks an epoch of batches. Next() makes the next batch current and returns false at
// the end of the epoch; Reset() starts the next epoch (reshuffling when asked to). The batch's
// arrays are on the CPU, shaped (batch_size, sample shape...); with LastBatch::kPad the final
// batch of an epoch is completed with samples from the epoch's start and pad() says how many.
//
//   std::unique_ptr<DataIter> it = CreateMNISTIter(images, labels, /*flat=*/true, params);
//   for (int epoch = 0; epoch < 10; ++epoch, it->Reset()) {
//     while (it->Next()) Train(it->data(), it->label(), it->pad());
//   }
//
// Note [fresh batches]: every batch is a new pair of arrays. A copy of data() or label() (an
// NDArray shares its chunk) keeps that batch's contents for as long as it is held: the iterator
// never writes into an array it has handed out, so batches may be kept, e.g. in a list of a whole
// epoch, and the iterator stays independent of engine work still reading them. The memory is
// still reused: when the last holder of a batch lets go (and the engine work on it has run), its
// blocks go back to the storage pool, where later batches find them. A loop that drops each batch
// before the next one therefore takes no new memory from the system in steady state; the cost
// per batch is two array headers and engine variables, made on the prefetch thread (about 1.5 us
// measured, against about 500 us of MLP training per batch of 128), and the iterator no longer
// waits for engine work still reading a batch before it fills the next one.
#ifndef MX_IO_DATA_ITER_H_
#define MX_IO_DATA_ITER_H_

#include <cstdint>
#include <string>

#include "base/shape.h"
#include "ndarray/ndarray.h"

namespace mx {
namespace io {

// What happens to the samples that do not fill a whole last batch. Values match the C ABI's
// MX_LAST_BATCH_* constants.
enum class LastBatch : int {
  kPad = 0,       // complete the batch with samples from the start of the epoch; pad() counts them
  kDiscard = 1,   // drop them
  kRollOver = 2,  // keep them for the first batch of the next epoch
};

// "pad", "discard" or "roll_over".
const char* LastBatchName(LastBatch last_batch);

class DataIter {
 public:
  virtual ~DataIter() = default;

  // Starts the next epoch. There is no current batch until Next (arrays already taken from
  // data() and label() keep their contents).
  virtual void Reset() = 0;
  // Makes the next batch current; false at the end of the epoch (and until Reset). Throws the
  // error that preparing the batch raised, if any.
  virtual bool Next() = 0;

  // The current batch (see Note [fresh batches]). Throws when there is none.
  virtual const NDArray& data() const = 0;
  // The current batch's labels; a none array when the iterator has no labels.
  virtual const NDArray& label() const = 0;
  // How many samples at the end of the current batch are padding (repeats from the epoch start).
  virtual int64_t pad() const = 0;

  // Shapes of every batch: (batch_size, sample shape...). provide_label() is Shape::Unknown()
  // when there are no labels.
  virtual const Shape& provide_data() const = 0;
  virtual const Shape& provide_label() const = 0;
  bool has_label() const { return provide_label().ndim() >= 0; }
};

}  // namespace io
}  // namespace mx

#endif  // MX_IO_DATA_ITER_H_
