// Optimizers: per-argument update rules that push the registered update ops (sgd_update,
// sgd_mom_update, adam_update), so every step runs lazily on the engine like the forward and
// backward passes, and state (momentum, Adam's moments) lives beside the weight on its device.
//
// Semantics are MXNet's optimizer.py: arguments are identified by an integer index; each index
// counts its own updates, and the largest count (num_update) drives the learning-rate schedule.
// Per-argument multipliers are looked up by index name (SetArgNames), and once names are known,
// arguments whose names end in neither "_weight" nor "_gamma" (biases, beta, ...) get no weight
// decay unless a wd_mult says otherwise, as in MXNet.
//
//   auto opt = Optimizer::Create("sgd", {{"learning_rate", "0.1"}, {"momentum", "0.9"}});
//   opt->SetArgNames({{0, "fc1_weight"}, {1, "fc1_bias"}});
//   opt->Update(0, weight, grad);  // returns at once; the engine orders it after backward
#ifndef MX_TRAIN_OPTIMIZER_H_
#define MX_TRAIN_OPTIMIZER_H_

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "ndarray/ndarray.h"
#include "train/lr_scheduler.h"
#include "train/train_params.h"

namespace mx {
namespace train {

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // Creates "sgd" or "adam" from string parameters. Both take learning_rate, wd (0),
  // rescale_grad (1), clip_gradient (-1 or "None": off), begin_num_update (0), and a schedule:
  // lr_scheduler ("factor": lr_step, lr_factor (1), lr_stop_factor_lr (1e-8); "multifactor":
  // lr_steps as "[s1, s2, ...]", lr_factor). sgd: learning_rate (0.01), momentum (0).
  // adam: learning_rate (0.001), beta1 (0.9), beta2 (0.999), epsilon (1e-8). Unknown names and
  // keys are errors naming them.
  static std::unique_ptr<Optimizer> Create(const std::string& name, const ParamMap& params);

  // Pushes one update of argument `index`: weight is updated in place from grad. State for the
  // index is created (zeros, the weight's device and type) at its first update.
  void Update(int index, const NDArray& weight, const NDArray& grad);

  // Names arguments by index (merged with earlier calls), for lr_mult/wd_mult and the default
  // of no weight decay on names not ending in "_weight" or "_gamma".
  void SetArgNames(const std::map<int, std::string>& names);
  // Multipliers by argument name (merged with earlier calls; 1 when not set).
  void SetLrMult(const std::map<std::string, double>& mults);
  void SetWdMult(const std::map<std::string, double>& mults);

  // The base rate; an error once a schedule is set (the schedule owns the rate then, as MXNet).
  void SetLearningRate(double lr);
  // The rate at the current update count, before multipliers (the schedule's, if any).
  double LearningRate();
  void SetScheduler(std::unique_ptr<LRScheduler> scheduler);
  void set_rescale_grad(double v) { rescale_grad_ = v; }
  int64_t num_update() const { return num_update_; }
  const std::string& name() const { return name_; }

 protected:
  // The common hyper-parameters the update ops take.
  struct Step {
    double lr, wd;
    int64_t t;  // this index's update count (begin_num_update + updates so far, this one included)
  };
  explicit Optimizer(std::string name) : name_(std::move(name)) {}
  // Pushes the update op; `step` has lr and wd with multipliers and schedule applied.
  virtual void Push(int index, const NDArray& weight, const NDArray& grad, const Step& step) = 0;
  // Common parameters shared by every optimizer's op call.
  void AddCommonParams(const Step& step, ParamMap* params) const;
  // State array `slot` of `index`, created as zeros like `weight` at first use.
  const NDArray& State(int index, int slot, const NDArray& weight);

  double lr_ = 0.01, wd_ = 0, rescale_grad_ = 1, clip_gradient_ = -1;
  int64_t begin_num_update_ = 0;

 private:
  double MultFor(int index, const std::map<std::string, double>& mults, bool is_wd) const;

  std::string name_;
  std::unique_ptr<LRScheduler> scheduler_;
  int64_t num_update_ = 0;
  std::unordered_map<int, int64_t> counts_;
  std::unordered_map<int, std::string> names_;
  std::map<std::string, double> lr_mult_, wd_mult_;
  std::unordered_map<int, std::vector<NDArray>> states_;
};

}  // namespace train
}  // namespace mx

#endif  // MX_TRAIN_OPTIMIZER_H_
