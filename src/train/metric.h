// Evaluation metrics: running scores over batches of labels and predictions, as MXNet's
// metric.py. Metrics read the arrays into host memory (Update blocks until the predictions are
// computed); the score is sum / count over everything since the last Reset.
//
//   auto acc = Metric::Create("acc", {});
//   acc->Update({label}, {softmax_output});  // label (n,), prediction (n, classes)
//   auto [name, value] = acc->Get();          // "accuracy", 0.93
#ifndef MX_TRAIN_METRIC_H_
#define MX_TRAIN_METRIC_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ndarray/ndarray.h"
#include "train/train_params.h"

namespace mx {
namespace train {

class Metric {
 public:
  virtual ~Metric() = default;

  // Creates "acc"/"accuracy" (axis=1), "top_k_accuracy"/"top_k_acc" (top_k=1),
  // "ce"/"cross-entropy" (eps=1e-12), "mse". Unknown names and parameters are errors naming them.
  static std::unique_ptr<Metric> Create(const std::string& name, const ParamMap& params);

  // Adds one batch: labels[i] goes with preds[i]. Both lists must have the same length.
  void Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds);
  // The metric's name and its value: NaN before the first update, as in MXNet.
  std::pair<std::string, double> Get() const;
  void Reset() {
    sum_ = 0;
    count_ = 0;
  }
  const std::string& name() const { return name_; }

 protected:
  // A host copy of one array, as doubles.
  struct Host {
    Shape shape;
    std::vector<double> v;
  };
  explicit Metric(std::string name) : name_(std::move(name)) {}
  // Adds one (label, prediction) pair to sum_ and count_.
  virtual void UpdateOne(const Host& label, const Host& pred) = 0;

  double sum_ = 0;
  double count_ = 0;

 private:
  // Reuses the buffers, so evaluating batch after batch does not allocate.
  void Read(const NDArray& a, Host* out);

  std::string name_;
  Host label_, pred_;
  std::vector<float> f32_;
};

}  // namespace train
}  // namespace mx

#endif  // MX_TRAIN_METRIC_H_
