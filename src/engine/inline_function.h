// A move-only callable with inline storage, so pushing an op does not allocate.
//
// std::function allocates once a capture outgrows its (implementation-defined, often 16-byte)
// buffer, and an engine push usually captures a few pointers plus a shape or two. InlineFunction
// keeps captures of up to `Capacity` bytes inside the object and falls back to the heap only for
// larger ones, so steady-state pushes with ordinary lambdas never call malloc.
//
// Unlike std::function it is move-only (captures may own unique_ptrs) and its call operator is
// const, because a cached engine operator may be invoked by two readers at once.
//
//   InlineFunction<void(int), 64> f = [v = std::vector<int>{1, 2}](int x) { use(v, x); };
//   f(3);
#ifndef MX_ENGINE_INLINE_FUNCTION_H_
#define MX_ENGINE_INLINE_FUNCTION_H_

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace mx {
namespace engine {

template <typename Signature, size_t Capacity>
class InlineFunction;

template <typename R, typename... Args, size_t Capacity>
class InlineFunction<R(Args...), Capacity> {
 public:
  InlineFunction() noexcept = default;
  InlineFunction(std::nullptr_t) noexcept {}  // NOLINT(runtime/explicit): mirrors std::function

  template <typename F, typename D = std::decay_t<F>,
            typename = std::enable_if_t<!std::is_same<D, InlineFunction>::value &&
                                        std::is_invocable_r<R, const D&, Args...>::value>>
  InlineFunction(
      F&& f) {  // NOLINT(runtime/explicit): lambdas convert implicitly, as for std::function
    Emplace<D>(std::forward<F>(f));
  }

  InlineFunction(InlineFunction&& other) noexcept { MoveFrom(other); }
  InlineFunction& operator=(InlineFunction&& other) noexcept {
    if (this != &other) {
      Reset();
      MoveFrom(other);
    }
    return *this;
  }
  InlineFunction(const InlineFunction&) = delete;
  InlineFunction& operator=(const InlineFunction&) = delete;
  ~InlineFunction() { Reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  R operator()(Args... args) const { return ops_->invoke(Target(), std::forward<Args>(args)...); }

  void Reset() noexcept {
    if (ops_ != nullptr) {
      ops_->destroy(this);
      ops_ = nullptr;
    }
  }

  // True when the callable lives on the heap (its capture exceeded Capacity); for tests.
  bool IsHeapAllocated() const noexcept { return ops_ != nullptr && ops_->heap; }

 private:
  // One static table per stored type: cheaper than a virtual base and keeps the object trivially
  // relocatable through `relocate`.
  struct Ops {
    R (*invoke)(const void* target, Args&&... args);
    void (*relocate)(InlineFunction* from, InlineFunction* to) noexcept;
    void (*destroy)(InlineFunction* self) noexcept;
    bool heap;
  };

  template <typename D>
  static constexpr bool kFitsInline =
      sizeof(D) <= Capacity &&
      alignof(D) <= alignof(std::max_align_t) && std::is_nothrow_move_constructible<D>::value;

  template <typename D>
  static const Ops* InlineOps() {
    static const Ops ops = {
        [](const void* t, Args&&... args) -> R {
          return (*static_cast<const D*>(t))(std::forward<Args>(args)...);
        },
        [](InlineFunction* from, InlineFunction* to) noexcept {
          D* src = reinterpret_cast<D*>(&from->storage_);
          new (&to->storage_) D(std::move(*src));
          src->~D();
        },
        [](InlineFunction* self) noexcept { reinterpret_cast<D*>(&self->storage_)->~D(); }, false};
    return &ops;
  }

  template <typename D>
  static const Ops* HeapOps() {
    static const Ops ops = {
        [](const void* t, Args&&... args) -> R {
          return (*static_cast<const D*>(t))(std::forward<Args>(args)...);
        },
        [](InlineFunction* from, InlineFunction* to) noexcept {
          to->heap_ = from->heap_;
          from->heap_ = nullptr;
        },
        [](InlineFunction* self) noexcept { delete static_cast<D*>(self->heap_); }, true};
    return &ops;
  }

  template <typename D, typename F>
  void Emplace(F&& f) {
    if constexpr (kFitsInline<D>) {
      new (&storage_) D(std::forward<F>(f));
      ops_ = InlineOps<D>();
    } else {
      heap_ = new D(std::forward<F>(f));
      ops_ = HeapOps<D>();
    }
  }

  const void* Target() const noexcept {
    return ops_->heap ? static_cast<const void*>(heap_) : static_cast<const void*>(&storage_);
  }

  void MoveFrom(InlineFunction& other) noexcept {
    if (other.ops_ != nullptr) {
      other.ops_->relocate(&other, this);
      ops_ = other.ops_;
      other.ops_ = nullptr;
    }
  }

  const Ops* ops_ = nullptr;
  union {
    std::aligned_storage_t<Capacity, alignof(std::max_align_t)> storage_;
    void* heap_;
  };
};

}  // namespace engine
}  // namespace mx

#endif  // MX_ENGINE_INLINE_FUNCTION_H_
