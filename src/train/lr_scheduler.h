// Learning-rate schedules, driven by the optimizer's update count (MXNet's num_update: the
// largest number of updates any one argument has had), as in MXNet's lr_scheduler.py.
//
//   FactorScheduler s(/*step=*/100, /*factor=*/0.5, /*stop_factor_lr=*/1e-8);
//   s.set_base_lr(0.1);
//   s.LearningRate(100);  // 0.1
//   s.LearningRate(101);  // 0.05: one step of 100 updates has passed
#ifndef MX_TRAIN_LR_SCHEDULER_H_
#define MX_TRAIN_LR_SCHEDULER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mx {
namespace train {

class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  // The rate the schedule starts from (the optimizer sets its learning_rate here).
  void set_base_lr(double lr) { base_lr_ = lr; }
  // The rate for update number `num_update`. Schedules are stateful and expect non-decreasing
  // counts, as MXNet's are.
  virtual double LearningRate(int64_t num_update) = 0;

 protected:
  double base_lr_ = 0.01;
};

// Multiplies the rate by `factor` after every `step` updates, never going below stop_factor_lr.
class FactorScheduler : public LRScheduler {
 public:
  FactorScheduler(int64_t step, double factor, double stop_factor_lr);
  double LearningRate(int64_t num_update) override;

 private:
  int64_t step_, count_ = 0;
  double factor_, stop_factor_lr_;
};

// Multiplies the rate by `factor` once the count passes each of the increasing `steps`.
class MultiFactorScheduler : public LRScheduler {
 public:
  MultiFactorScheduler(std::vector<int64_t> steps, double factor);
  double LearningRate(int64_t num_update) override;

 private:
  std::vector<int64_t> steps_;
  size_t next_ = 0;
  double factor_;
};

}  // namespace train
}  // namespace mx

#endif  // MX_TRAIN_LR_SCHEDULER_H_
