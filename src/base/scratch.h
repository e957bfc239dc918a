// Per-thread scratch objects for hot paths that must not allocate in steady state.
//
// A ScratchLease<T> hands out this thread's T, which keeps its vectors' capacity from one lease to
// the next, so a call that fills a few lists allocates only until they have grown once. When the
// lease ends (returning or throwing) it calls T::Clear(), so nothing the call put there (array
// references) outlives it. A second lease taken while the first is held (a call re-entered from
// inside itself, e.g. through a function the engine runs on the calling thread) gets a fresh T of
// its own instead.
//
//   struct Lists {
//     std::vector<Shape> shapes;
//     void Clear() { shapes.clear(); }  // keeps the capacity
//   };
//   ScratchLease<Lists> s;
//   s->shapes.push_back(...);  // no allocation once the list has grown on an earlier call
#ifndef MX_BASE_SCRATCH_H_
#define MX_BASE_SCRATCH_H_

#include <memory>

namespace mx {

template <typename T>
class ScratchLease {
 public:
  ScratchLease() {
    if (busy_) {
      own_ = std::make_unique<T>();
      obj_ = own_.get();
    } else {
      busy_ = true;
      obj_ = &mine_;
    }
  }
  ~ScratchLease() {
    obj_->Clear();
    if (own_ == nullptr) busy_ = false;
  }
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;

  T* operator->() const { return obj_; }
  T& operator*() const { return *obj_; }

 private:
  static thread_local T mine_;
  static thread_local bool busy_;
  std::unique_ptr<T> own_;
  T* obj_ = nullptr;
};

template <typename T>
thread_local T ScratchLease<T>::mine_;
template <typename T>
thread_local bool ScratchLease<T>::busy_ = false;

}  // namespace mx

#endif  // MX_BASE_SCRATCH_H_
