#include "train/optimizer.h"

#include <cmath>
#include <utility>
#include <vector>

#include "base/error.h"
#include "op/invoke.h"
#include "op/op_util.h"

namespace mx {
namespace train {
namespace {

bool EndsWith(const std::string& s, const char* suffix) {
  const std::string t(suffix);
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}

void PushOp(const char* op, const ParamMap& params, std::vector<NDArray> inputs,
            const NDArray& weight) {
  std::vector<NDArray> out{weight};  // in place: the op's output aliases its weight input
  Invoke(MakeAttrs(OpRegistry::Get()->Get(op), params), inputs, &out);
}

class SGD : public Optimizer {
 public:
  explicit SGD(double momentum) : Optimizer("sgd"), momentum_(momentum) {}

 protected:
  void Push(int index, const NDArray& weight, const NDArray& grad, const Step& step) override {
    ParamMap p;
    AddCommonParams(step, &p);
    if (momentum_ == 0) {  // no state to keep: the plain update is cheaper
      PushOp("sgd_update", p, {weight, grad}, weight);
      return;
    }
    p["momentum"] = ParamString(momentum_);
    PushOp("sgd_mom_update", p, {weight, grad, State(index, 0, weight)}, weight);
  }

 private:
  double momentum_;
};

class Adam : public Optimizer {
 public:
  Adam(double beta1, double beta2, double epsilon)
      : Optimizer("adam"), beta1_(beta1), beta2_(beta2), epsilon_(epsilon) {}

 protected:
  void Push(int index, const NDArray& weight, const NDArray& grad, const Step& step) override {
    // The op leaves bias correction to the caller, as in MXNet: fold it into lr.
    const double t = static_cast<double>(step.t);
    Step corrected = step;
    corrected.lr *= std::sqrt(1 - std::pow(beta2_, t)) / (1 - std::pow(beta1_, t));
    ParamMap p;
    AddCommonParams(corrected, &p);
    p["beta1"] = ParamString(beta1_);
    p["beta2"] = ParamString(beta2_);
    p["epsilon"] = ParamString(epsilon_);
    PushOp("adam_update", p, {weight, grad, State(index, 0, weight), State(index, 1, weight)},
           weight);
  }

 private:
  double beta1_, beta2_, epsilon_;
};

std::unique_ptr<LRScheduler> SchedulerFrom(ParamReader* r) {
  const std::string type = r->String("lr_scheduler", "");
  const bool has_step = r->Has("lr_step");
  const int64_t step = r->Int("lr_step", 0);
  const std::vector<int64_t> steps = r->IntList("lr_steps");
  const double factor = r->Double("lr_factor", 1);
  const double stop = r->Double("lr_stop_factor_lr", 1e-8);
  if (type.empty() || type == "none" || type == "None") return nullptr;
  if (type == "factor") {
    MX_CHECK(has_step, kInvalidArgument)
        << r->what() << ": lr_scheduler='factor' needs lr_step (updates between reductions)";
    return std::make_unique<FactorScheduler>(step, factor, stop);
  }
  if (type == "multifactor") {
    MX_CHECK(r->Has("lr_steps"), kInvalidArgument)
        << r->what() << ": lr_scheduler='multifactor' needs lr_steps, e.g. \"[1000, 2000]\"";
    return std::make_unique<MultiFactorScheduler>(steps, factor);
  }
  MX_THROW(kInvalidArgument) << r->what() << ": lr_scheduler='" << type
                             << "' is not one of factor, multifactor";
}

}  // namespace

std::unique_ptr<Optimizer> Optimizer::Create(const std::string& given, const ParamMap& params) {
  const std::string name = Lower(given);
  ParamReader r("optimizer '" + name + "'", params);
  std::unique_ptr<Optimizer> opt;
  double lr = 0;
  if (name == "sgd") {
    lr = r.Double("learning_rate", 0.01);
    const double momentum = r.Double("momentum", 0);
    MX_CHECK(momentum >= 0 && momentum < 1, kInvalidArgument)
        << r.what() << ": momentum=" << momentum << " is outside [0, 1)";
    opt = std::make_unique<SGD>(momentum);
  } else if (name == "adam") {
    lr = r.Double("learning_rate", 0.001);
    const double beta1 = r.Double("beta1", 0.9), beta2 = r.Double("beta2", 0.999);
    const double epsilon = r.Double("epsilon", 1e-8);
    MX_CHECK(beta1 >= 0 && beta1 < 1, kInvalidArgument)
        << r.what() << ": beta1=" << beta1 << " is outside [0, 1)";
    MX_CHECK(beta2 >= 0 && beta2 < 1, kInvalidArgument)
        << r.what() << ": beta2=" << beta2 << " is outside [0, 1)";
    MX_CHECK(epsilon >= 0, kInvalidArgument)
        << r.what() << ": epsilon=" << epsilon << " is negative";
    opt = std::make_unique<Adam>(beta1, beta2, epsilon);
  } else {
    MX_THROW(kInvalidArgument) << "unknown optimizer '" << given << "' (known: sgd, adam)";
  }
  MX_CHECK(lr >= 0, kInvalidArgument) << r.what() << ": learning_rate=" << lr << " is negative";
  opt->lr_ = lr;
  opt->wd_ = r.Double("wd", 0);
  opt->rescale_grad_ = r.Double("rescale_grad", 1);
  const std::string clip = r.String("clip_gradient", "");
  opt->clip_gradient_ =
      (clip.empty() || clip == "None" || clip == "none") ? -1 : r.Double("clip_gradient", -1);
  opt->begin_num_update_ = r.Int("begin_num_update", 0);
  MX_CHECK(opt->begin_num_update_ >= 0, kInvalidArgument)
      << r.what() << ": begin_num_update=" << opt->begin_num_update_ << " is negative";
  opt->num_update_ = opt->begin_num_update_;
  std::unique_ptr<LRScheduler> scheduler = SchedulerFrom(&r);
  r.Finish();
  if (scheduler) opt->SetScheduler(std::move(scheduler));
  return opt;
}

void Optimizer::Update(int index, const NDArray& weight, const NDArray& grad) {
  MX_CHECK(index >= 0, kInvalidArgument)
      << name_ << " optimizer: index " << index << " is negative";
  MX_CHECK(!weight.is_none() && !grad.is_none(), kInvalidArgument)
      << name_ << " optimizer: index " << index << ": weight or grad is an empty array";
  MX_CHECK(weight.shape() == grad.shape(), kInvalidArgument)
      << name_ << " optimizer: index " << index << ": weight " << weight.shape() << " and grad "
      << grad.shape() << " differ in shape";
  auto it = counts_.emplace(index, begin_num_update_).first;
  const int64_t t = ++it->second;
  if (t > num_update_) num_update_ = t;
  Step step;
  step.lr = LearningRate() * MultFor(index, lr_mult_, false);
  step.wd = wd_ * MultFor(index, wd_mult_, true);
  step.t = t;  // counts from begin_num_update, as MXNet's Adam bias correction does
  Push(index, weight, grad, step);
}

void Optimizer::AddCommonParams(const Step& step, ParamMap* params) const {
  (*params)["lr"] = ParamString(step.lr);
  (*params)["wd"] = ParamString(step.wd);
  (*params)["rescale_grad"] = ParamString(rescale_grad_);
  (*params)["clip_gradient"] = ParamString(clip_gradient_);
}

const NDArray& Optimizer::State(int index, int slot, const NDArray& weight) {
  std::vector<NDArray>& states = states_[index];
  if (states.size() <= static_cast<size_t>(slot)) states.resize(slot + 1);
  NDArray& s = states[slot];
  if (s.is_none()) {
    s = NDArray(weight.shape(), weight.ctx(), weight.dtype());
    s.Fill(0);
  }
  MX_CHECK(s.shape() == weight.shape() && s.ctx() == weight.ctx(), kInvalidArgument)
      << name_ << " optimizer: index " << index << " was updated with a weight of shape "
      << s.shape() << " before and now with " << weight.shape()
      << " (or on another device): one index, one argument";
  return s;
}

double Optimizer::MultFor(int index, const std::map<std::string, double>& mults, bool is_wd) const {
  auto n = names_.find(index);
  if (n == names_.end()) return 1;
  auto m = mults.find(n->second);
  if (m != mults.end()) return m->second;
  // MXNet decays only weights and batch-norm scales by default: decaying biases or shifts
  // pulls them toward 0 for no regularising benefit.
  if (is_wd && !EndsWith(n->second, "_weight") && !EndsWith(n->second, "_gamma")) return 0;
  return 1;
}

void Optimizer::SetArgNames(const std::map<int, std::string>& names) {
  for (const auto& kv : names) {
    MX_CHECK(kv.first >= 0, kInvalidArgument)
        << name_ << " optimizer: argument '" << kv.second << "' has negative index " << kv.first;
    names_[kv.first] = kv.second;
  }
}

void Optimizer::SetLrMult(const std::map<std::string, double>& mults) {
  for (const auto& kv : mults) lr_mult_[kv.first] = kv.second;
}

void Optimizer::SetWdMult(const std::map<std::string, double>& mults) {
  for (const auto& kv : mults) wd_mult_[kv.first] = kv.second;
}

void Optimizer::SetLearningRate(double lr) {
  MX_CHECK(scheduler_ == nullptr, kInvalidArgument)
      << name_
      << " optimizer: the learning rate is set by its lr_scheduler; it cannot be set "
         "directly";
  MX_CHECK(std::isfinite(lr) && lr >= 0, kInvalidArgument)
      << name_ << " optimizer: learning rate " << lr << " is negative or not finite";
  lr_ = lr;
}

double Optimizer::LearningRate() {
  return scheduler_ ? scheduler_->LearningRate(num_update_) : lr_;
}

void Optimizer::SetScheduler(std::unique_ptr<LRScheduler> scheduler) {
  scheduler_ = std::move(scheduler);
  if (scheduler_) scheduler_->set_base_lr(lr_);
}

}  // namespace train
}  // namespace mx
