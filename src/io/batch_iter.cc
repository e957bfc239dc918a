#include "io/batch_iter.h"

#include <utility>

#include "base/error.h"

namespace mx {
namespace io {
namespace {

// The batch's shape: batch_size rows of `sample`.
Shape BatchShape(int64_t batch_size, const Shape& sample) {
  MX_CHECK(sample.ndim() < Shape::kMaxNDim, kInvalidArgument)
      << "data iterator: samples of shape " << sample << " have too many dimensions";
  std::vector<int64_t> dims{batch_size};
  dims.insert(dims.end(), sample.begin(), sample.end());
  return Shape(dims);
}

// One consumer's batch plus one being filled plus one ready: the consumer never waits while the
// thread keeps up.
constexpr int kNumSlots = 3;

}  // namespace

BatchIter::BatchIter(std::unique_ptr<SampleSource> source, const BatchIterParams& params)
    : source_(std::move(source)),
      plan_(source_->num_samples(), params.batch_size, params.last_batch, params.shuffle,
            params.seed) {
  data_shape_ = BatchShape(params.batch_size, source_->data_shape());
  const Shape label = source_->label_shape();
  label_shape_ = label.ndim() < 0 ? Shape::Unknown() : BatchShape(params.batch_size, label);
  slots_.resize(params.prefetch ? kNumSlots : 1);
  for (Slot& s : slots_) s.samples.resize(params.batch_size);
  prefetcher_ = std::make_unique<Prefetcher>(
      static_cast<int>(slots_.size()), [this](int slot, int64_t batch) { Fill(slot, batch); },
      params.prefetch);
  prefetcher_->Start([this] { return plan_.num_batches(); });
}

BatchIter::~BatchIter() { prefetcher_.reset(); }

void BatchIter::Reset() {
  current_ = -1;
  const bool finished = prefetcher_->consumed() == plan_.num_batches();
  prefetcher_->Start([this, finished] {
    plan_.NextEpoch(finished);
    return plan_.num_batches();
  });
}

bool BatchIter::Next() {
  current_ = -1;
  current_ = prefetcher_->Next();
  return current_ >= 0;
}

void BatchIter::Fill(int slot, int64_t batch) {
  Slot& s = slots_[slot];
  plan_.Batch(batch, s.samples.data());
  s.pad = plan_.Pad(batch);
  // Note [fresh batches]: new arrays for every batch. The previous batch of this slot stays with
  // whoever still holds it (its memory returns to the storage pool when the last holder lets go
  // and the engine work on it has run), so nothing the consumer kept is ever written again.
  s.data = NDArray(data_shape_, Context::CPU(), DType::kFloat32, /*delay_alloc=*/false);
  auto* data = static_cast<float*>(s.data.data().dptr);
  const int64_t data_row = data_shape_.Size() / data_shape_[0];
  for (size_t i = 0; i < s.samples.size(); ++i)
    source_->CopyData(s.samples[i], data + i * data_row);
  if (label_shape_.ndim() < 0) return;
  s.label = NDArray(label_shape_, Context::CPU(), DType::kFloat32, /*delay_alloc=*/false);
  auto* label = static_cast<float*>(s.label.data().dptr);
  const int64_t label_row = label_shape_.Size() / label_shape_[0];
  for (size_t i = 0; i < s.samples.size(); ++i) {
    source_->CopyLabel(s.samples[i], label + i * label_row);
  }
}

const BatchIter::Slot& BatchIter::CurrentSlot() const {
  MX_CHECK(current_ >= 0, kInvalidArgument)
      << "data iterator: no current batch (call Next first; after the end of an epoch or a Reset "
         "there is none until Next returns true)";
  return slots_[current_];
}

const NDArray& BatchIter::data() const { return CurrentSlot().data; }
const NDArray& BatchIter::label() const { return CurrentSlot().label; }
int64_t BatchIter::pad() const { return CurrentSlot().pad; }

}  // namespace io
}  // namespace mx
