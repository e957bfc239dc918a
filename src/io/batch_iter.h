// BatchIter: the DataIter shared by every iterator whose samples sit in host memory (arrays, a
// decoded MNIST file). A SampleSource says how to copy one sample; BatchIter does the rest: the
// epoch plan (order, shuffling, last batch), a fresh pair of batch arrays per batch (Note [fresh
// batches] in data_iter.h), and the prefetch thread that fills the next batch while the current
// one is in use.
#ifndef MX_IO_BATCH_ITER_H_
#define MX_IO_BATCH_ITER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "io/data_iter.h"
#include "io/epoch_plan.h"
#include "io/prefetcher.h"

namespace mx {
namespace io {

// Random access to samples as float32. Called from the prefetch thread: implementations must
// be safe to call concurrently with the consumer (read-only after construction is enough).
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual int64_t num_samples() const = 0;
  // The shape of one sample's data, and of one sample's label (Shape::Unknown(): no labels).
  virtual Shape data_shape() const = 0;
  virtual Shape label_shape() const = 0;
  // Write sample `i`'s data (data_shape().Size() floats) or label to `dst`.
  virtual void CopyData(int64_t i, float* dst) const = 0;
  virtual void CopyLabel(int64_t i, float* dst) const = 0;
};

struct BatchIterParams {
  int64_t batch_size = 0;
  bool shuffle = false;
  uint64_t seed = 0;
  LastBatch last_batch = LastBatch::kPad;
  // False prepares each batch inside Next() on the caller's thread.
  bool prefetch = true;
};

class BatchIter final : public DataIter {
 public:
  BatchIter(std::unique_ptr<SampleSource> source, const BatchIterParams& params);
  ~BatchIter() override;

  void Reset() override;
  bool Next() override;
  const NDArray& data() const override;
  const NDArray& label() const override;
  int64_t pad() const override;
  const Shape& provide_data() const override { return data_shape_; }
  const Shape& provide_label() const override { return label_shape_; }

 private:
  // A batch being prepared or handed out. Fill gives the slot new arrays for every batch.
  struct Slot {
    NDArray data, label;
    std::vector<int64_t> samples;  // of the batch it holds
    int64_t pad = 0;
  };
  void Fill(int slot, int64_t batch);
  const Slot& CurrentSlot() const;

  std::unique_ptr<SampleSource> source_;
  EpochPlan plan_;
  Shape data_shape_, label_shape_;
  std::vector<Slot> slots_;
  int current_ = -1;
  std::unique_ptr<Prefetcher> prefetcher_;  // joined first on destruction: it fills slots_
};

}  // namespace io
}  // namespace mx

#endif  // MX_IO_BATCH_ITER_H_
