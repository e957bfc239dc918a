#include "train/lr_scheduler.h"

#include "base/error.h"

namespace mx {
namespace train {

FactorScheduler::FactorScheduler(int64_t step, double factor, double stop_factor_lr)
    : step_(step), factor_(factor), stop_factor_lr_(stop_factor_lr) {
  MX_CHECK(step >= 1, kInvalidArgument)
      << "factor lr scheduler: step=" << step << " must be at least 1";
  MX_CHECK(factor <= 1 && factor > 0, kInvalidArgument)
      << "factor lr scheduler: factor=" << factor << " must be in (0, 1] so the rate decreases";
}

double FactorScheduler::LearningRate(int64_t num_update) {
  // Strictly greater, as MXNet: updates 1..step run at the base rate.
  while (num_update > count_ + step_) {
    count_ += step_;
    base_lr_ *= factor_;
    if (base_lr_ < stop_factor_lr_) base_lr_ = stop_factor_lr_;
  }
  return base_lr_;
}

MultiFactorScheduler::MultiFactorScheduler(std::vector<int64_t> steps, double factor)
    : steps_(std::move(steps)), factor_(factor) {
  MX_CHECK(!steps_.empty(), kInvalidArgument) << "multifactor lr scheduler: steps is empty";
  for (size_t i = 0; i < steps_.size(); ++i) {
    MX_CHECK(steps_[i] >= 1, kInvalidArgument)
        << "multifactor lr scheduler: steps[" << i << "]=" << steps_[i] << " must be at least 1";
    MX_CHECK(i == 0 || steps_[i] > steps_[i - 1], kInvalidArgument)
        << "multifactor lr scheduler: steps must increase, but steps[" << i << "]=" << steps_[i]
        << " follows " << steps_[i - 1];
  }
  MX_CHECK(factor <= 1 && factor > 0, kInvalidArgument)
      << "multifactor lr scheduler: factor=" << factor << " must be in (0, 1]";
}

double MultiFactorScheduler::LearningRate(int64_t num_update) {
  while (next_ < steps_.size() && num_update > steps_[next_]) {
    ++next_;
    base_lr_ *= factor_;
  }
  return base_lr_;
}

}  // namespace train
}  // namespace mx
