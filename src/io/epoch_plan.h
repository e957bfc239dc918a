// Which samples make up each batch of an epoch: order, shuffling and last-batch handling, kept
// apart from the threads and arrays of the iterators so it can be tested on its own.
//
//   EpochPlan plan(/*num_samples=*/10, /*batch_size=*/4, LastBatch::kPad, /*shuffle=*/true, 7);
//   plan.num_batches();            // 3; batch 2 holds samples 8, 9 then 2 from the start
//   plan.Pad(2);                   // 2
//   plan.NextEpoch(/*finished=*/true);
#ifndef MX_IO_EPOCH_PLAN_H_
#define MX_IO_EPOCH_PLAN_H_

#include <cstdint>
#include <random>
#include <vector>

#include "io/data_iter.h"

namespace mx {
namespace io {

// Batches (and a sample index per row) are allocated up front, several at a time: a batch size
// beyond any real use must be an error, not an allocation of its absurd size.
constexpr int64_t kMaxBatchSize = int64_t{1} << 24;

class EpochPlan {
 public:
  // Plans the first epoch. Throws kInvalidArgument for no samples or a batch size below 1 or
  // above kMaxBatchSize.
  EpochPlan(int64_t num_samples, int64_t batch_size, LastBatch last_batch, bool shuffle,
            uint64_t seed);

  // Plans the next epoch. With kRollOver, the samples left over by a `finished` epoch (one whose
  // batches were all taken) come first in the new one.
  void NextEpoch(bool finished);

  int64_t num_batches() const { return num_batches_; }
  int64_t batch_size() const { return batch_size_; }
  // Writes the batch_size sample indices of batch `b` to `out`.
  void Batch(int64_t b, int64_t* out) const;
  // How many of batch `b`'s samples are padding.
  int64_t Pad(int64_t b) const;
  // The samples of this epoch in order (leftovers of the previous one first).
  const std::vector<int64_t>& order() const { return order_; }

 private:
  void Plan(std::vector<int64_t> carried);

  int64_t num_samples_;
  int64_t batch_size_;
  LastBatch last_batch_;
  bool shuffle_;
  // Fisher-Yates over mt19937_64 by hand: std::shuffle and the std distributions may differ
  // between standard libraries, and a seed must give the same order everywhere.
  std::mt19937_64 rng_;
  std::vector<int64_t> order_;
  int64_t num_batches_ = 0;
};

}  // namespace io
}  // namespace mx

#endif  // MX_IO_EPOCH_PLAN_H_
