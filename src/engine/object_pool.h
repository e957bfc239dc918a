// A free-list allocator for the engine's small, hot objects (op blocks, operators, variables,
// queue entries).
//
// Objects are constructed once, in chunks, and recycled forever: a recycled Operator keeps the
// capacity of its variable vectors, so steady-state pushes neither allocate nor construct.
// Each thread keeps a private free list and trades with the shared one in batches, so the shared
// lock is taken once per kBatch allocations rather than once per push (a pusher allocates and a
// worker frees; their batches meet in the shared list).
//
// Pools are process-lifetime and leaked on purpose (no work in static destructors). T needs a
// `T* pool_next` member and a default constructor.
#ifndef MX_ENGINE_OBJECT_POOL_H_
#define MX_ENGINE_OBJECT_POOL_H_

#include <mutex>
#include <new>

namespace mx {
namespace engine {

template <typename T>
class ObjectPool {
 public:
  static constexpr int kBatch = 64;

  static ObjectPool* Global() {
    static ObjectPool* const pool = new ObjectPool();  // leaked: outlives every thread
    return pool;
  }

  T* Alloc() {
    Cache& c = cache_;
    if (c.head == nullptr) Refill(&c);
    T* obj = c.head;
    c.head = obj->pool_next;
    --c.count;
    obj->pool_next = nullptr;
    return obj;
  }

  void Free(T* obj) {
    Cache& c = cache_;
    obj->pool_next = c.head;
    c.head = obj;
    if (++c.count >= 2 * kBatch) Spill(&c, kBatch);
  }

  // fork(): the shared list's lock must not be held by a thread that will not exist in the child.
  void LockForFork() { mu_.lock(); }
  void UnlockAfterFork() { mu_.unlock(); }

 private:
  struct Cache {
    T* head = nullptr;
    int count = 0;
    // A thread that exits hands its objects back, so worker restarts (fork, shutdown) leak nothing.
    ~Cache() {
      if (count > 0) Global()->Spill(this, count);
    }
  };

  void Refill(Cache* c) {
    std::lock_guard<std::mutex> lock(mu_);
    if (shared_count_ < kBatch) {
      // A chunk is never freed; its objects circulate through the free lists.
      T* chunk = new T[kBatch];
      for (int i = 0; i < kBatch; ++i) {
        chunk[i].pool_next = shared_head_;
        shared_head_ = &chunk[i];
      }
      shared_count_ += kBatch;
    }
    for (int i = 0; i < kBatch; ++i) {
      T* obj = shared_head_;
      shared_head_ = obj->pool_next;
      obj->pool_next = c->head;
      c->head = obj;
    }
    shared_count_ -= kBatch;
    c->count += kBatch;
  }

  void Spill(Cache* c, int n) {
    // Unlink n objects from the private list first, then splice them in under the lock.
    T* first = c->head;
    T* last = first;
    for (int i = 1; i < n; ++i) last = last->pool_next;
    c->head = last->pool_next;
    c->count -= n;
    std::lock_guard<std::mutex> lock(mu_);
    last->pool_next = shared_head_;
    shared_head_ = first;
    shared_count_ += n;
  }

  static thread_local Cache cache_;
  std::mutex mu_;
  T* shared_head_ = nullptr;
  int shared_count_ = 0;
};

template <typename T>
thread_local typename ObjectPool<T>::Cache ObjectPool<T>::cache_;

}  // namespace engine
}  // namespace mx

#endif  // MX_ENGINE_OBJECT_POOL_H_
