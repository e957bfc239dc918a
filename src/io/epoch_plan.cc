#include "io/epoch_plan.h"

#include <utility>

#include "base/error.h"

namespace mx {
namespace io {

const char* LastBatchName(LastBatch last_batch) {
  switch (last_batch) {
    case LastBatch::kPad:
      return "pad";
    case LastBatch::kDiscard:
      return "discard";
    case LastBatch::kRollOver:
      return "roll_over";
  }
  return "?";
}

EpochPlan::EpochPlan(int64_t num_samples, int64_t batch_size, LastBatch last_batch, bool shuffle,
                     uint64_t seed)
    : num_samples_(num_samples),
      batch_size_(batch_size),
      last_batch_(last_batch),
      shuffle_(shuffle),
      rng_(seed) {
  MX_CHECK(num_samples > 0, kInvalidArgument) << "data iterator: the data holds no samples";
  MX_CHECK(batch_size > 0, kInvalidArgument)
      << "data iterator: batch_size must be at least 1, got " << batch_size;
  MX_CHECK(batch_size <= kMaxBatchSize, kInvalidArgument)
      << "data iterator: batch_size " << batch_size << " is above the limit of " << kMaxBatchSize;
  MX_CHECK(last_batch == LastBatch::kPad || last_batch == LastBatch::kDiscard ||
               last_batch == LastBatch::kRollOver,
           kInvalidArgument)
      << "data iterator: unknown last_batch_handle " << static_cast<int>(last_batch)
      << ": expected 0 (pad), 1 (discard) or 2 (roll_over)";
  order_.reserve(num_samples + batch_size);
  Plan({});
}

void EpochPlan::NextEpoch(bool finished) {
  std::vector<int64_t> carried;
  if (last_batch_ == LastBatch::kRollOver && finished) {
    carried.assign(order_.begin() + num_batches_ * batch_size_, order_.end());
  }
  Plan(std::move(carried));
}

void EpochPlan::Plan(std::vector<int64_t> carried) {
  order_ = std::move(carried);
  const size_t first = order_.size();
  for (int64_t i = 0; i < num_samples_; ++i) order_.push_back(i);
  if (shuffle_) {
    for (size_t i = order_.size() - 1; i > first; --i) {
      // The modulo bias of a 64-bit draw is below 2^-40 for any realistic sample count.
      const size_t j = first + static_cast<size_t>(rng_() % (i - first + 1));
      std::swap(order_[i], order_[j]);
    }
  }
  const auto n = static_cast<int64_t>(order_.size());
  num_batches_ =
      last_batch_ == LastBatch::kPad ? (n + batch_size_ - 1) / batch_size_ : n / batch_size_;
}

void EpochPlan::Batch(int64_t b, int64_t* out) const {
  const auto n = static_cast<int64_t>(order_.size());
  // Positions past the end wrap to the epoch's start: that is the padding (several times over
  // when the batch is larger than the data).
  for (int64_t i = 0, pos = b * batch_size_; i < batch_size_; ++i, ++pos) out[i] = order_[pos % n];
}

int64_t EpochPlan::Pad(int64_t b) const {
  const int64_t end = (b + 1) * batch_size_;
  const auto n = static_cast<int64_t>(order_.size());
  return end > n ? end - n : 0;
}

}  // namespace io
}  // namespace mx
