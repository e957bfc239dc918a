// Prefetcher: prepares the batches of an epoch on a background thread, into a ring of slots.
//
// The slots are the caller's (arrays, buffers); the prefetcher only decides which slot holds
// which batch and when. One slot belongs to the consumer (the batch it is using), the others are
// filled ahead of it, so the next batch's preparation overlaps the work on the current one and
// the slots are reused for the whole run. An exception thrown while filling a batch is kept with
// that batch and rethrown by Next() on the consumer's thread; the background thread lives on.
//
//   Prefetcher p(3, [&](int slot, int64_t batch) { Fill(slots[slot], batch); }, true);
//   p.Start([&] { return plan.num_batches(); });
//   for (int slot; (slot = p.Next()) >= 0;) Use(slots[slot]);
//
// Next, Start and the destructor are for one consumer thread at a time.
#ifndef MX_IO_PREFETCHER_H_
#define MX_IO_PREFETCHER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mx {
namespace io {

class Prefetcher {
 public:
  using FillFn = std::function<void(int slot, int64_t batch)>;

  // `threaded` false fills each batch inside Next() on the caller's thread (for debugging and as
  // the reference the threaded mode is tested against). Nothing is filled before Start().
  Prefetcher(int num_slots, FillFn fill, bool threaded);
  // Stops the thread after the batch being filled, if any, and joins it.
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Begins an epoch. `plan` runs while no batch is being filled (so it may change what fill
  // reads) and returns the epoch's number of batches. Batches of the previous epoch that were
  // prepared but not taken are dropped, and the consumer's slot is taken back.
  void Start(const std::function<int64_t()>& plan);

  // Hands the consumer's previous slot back and returns the slot holding the next batch, or -1
  // at the end of the epoch. Rethrows the exception that filling this batch raised.
  int Next();

  // Batches of this epoch that Next() has returned (or whose errors it has rethrown).
  int64_t consumed() const { return consumed_; }

 private:
  struct Ready {
    int slot;
    std::exception_ptr error;
  };
  void Run();

  const FillFn fill_;
  const bool threaded_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> free_;    // slots nobody uses
  std::deque<Ready> ready_;  // filled slots, in batch order
  int current_ = -1;         // the consumer's slot
  int64_t num_batches_ = 0;  // of this epoch
  int64_t produced_ = 0;     // batches of this epoch handed to fill
  int64_t consumed_ = 0;     // written by the consumer only (under mu_ when threaded)
  bool filling_ = false;     // the thread is inside fill_
  bool pausing_ = false;     // Start() waits for the thread to leave fill_
  bool stop_ = false;
  std::thread thread_;  // last: started after everything above exists
};

}  // namespace io
}  // namespace mx

#endif  // MX_IO_PREFETCHER_H_
