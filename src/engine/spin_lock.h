// A test-and-test-and-set lock for critical sections of a few instructions (a variable's queue).
//
// Every op takes its variables' locks twice (when pushed, when complete); with small ops run on
// the pusher that is most of an op's engine cost, and a pthread mutex's lock/unlock pair costs
// several times this lock's one exchange and one store. A waiter spins on a plain load (no cache
// line ping-pong), pausing between reads, and yields the core after a while, so a holder that was
// preempted on an oversubscribed machine gets it back to finish.
#ifndef MX_ENGINE_SPIN_LOCK_H_
#define MX_ENGINE_SPIN_LOCK_H_

#include <atomic>
#include <thread>

namespace mx {
namespace engine {

class SpinLock {
 public:
  void lock() {
    while (locked_.exchange(true, std::memory_order_acquire)) {
      int spins = 0;
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 64) {
          Pause();
        } else {
          std::this_thread::yield();
        }
      }
    }
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  static void Pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }
  std::atomic<bool> locked_{false};
};

}  // namespace engine
}  // namespace mx

#endif  // MX_ENGINE_SPIN_LOCK_H_
