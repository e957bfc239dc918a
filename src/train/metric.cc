#include "train/metric.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include "base/error.h"

namespace mx {
namespace train {
namespace {

// Class labels arrive as floats (MXNet's convention); they name a class by their integer part.
int64_t ClassOf(double label) { return static_cast<int64_t>(label); }

// Predictions laid out as (outer, classes, inner) along `axis`.
struct Layout {
  int64_t outer = 1, classes = 1, inner = 1;
};

Layout LayoutOf(const Shape& s, int axis) {
  Layout l;
  for (int i = 0; i < s.ndim(); ++i) {
    if (i < axis) l.outer *= s[i];
    if (i == axis) l.classes = s[i];
    if (i > axis) l.inner *= s[i];
  }
  return l;
}

class Accuracy : public Metric {
 public:
  explicit Accuracy(int axis) : Metric("accuracy"), axis_(axis) {}

 protected:
  void UpdateOne(const Host& label, const Host& pred) override {
    if (pred.shape == label.shape) {  // predictions are already class indices
      for (size_t i = 0; i < label.v.size(); ++i)
        sum_ += ClassOf(pred.v[i]) == ClassOf(label.v[i]) ? 1 : 0;
      count_ += static_cast<double>(label.v.size());
      return;
    }
    MX_CHECK(axis_ < pred.shape.ndim(), kInvalidArgument)
        << "accuracy: axis=" << axis_ << " is out of range for predictions of shape " << pred.shape;
    const Layout l = LayoutOf(pred.shape, axis_);
    MX_CHECK(static_cast<int64_t>(label.v.size()) == l.outer * l.inner, kInvalidArgument)
        << "accuracy: labels of shape " << label.shape << " do not match predictions of shape "
        << pred.shape << " (expected " << l.outer * l.inner << " labels)";
    for (int64_t o = 0; o < l.outer; ++o) {
      for (int64_t in = 0; in < l.inner; ++in) {
        const double* p = pred.v.data() + o * l.classes * l.inner + in;
        int64_t best = 0;  // the first maximum, as argmax
        for (int64_t c = 1; c < l.classes; ++c)
          if (p[c * l.inner] > p[best * l.inner]) best = c;
        sum_ += best == ClassOf(label.v[o * l.inner + in]) ? 1 : 0;
      }
    }
    count_ += static_cast<double>(l.outer * l.inner);
  }

 private:
  int axis_;
};

// Correct when the label's score is among the k best: fewer than k classes score strictly
// higher (ties count in the label's favour, where MXNet's argsort would break them by order).
class TopKAccuracy : public Metric {
 public:
  explicit TopKAccuracy(int64_t k) : Metric("top_k_accuracy_" + std::to_string(k)), k_(k) {}

 protected:
  void UpdateOne(const Host& label, const Host& pred) override {
    MX_CHECK(pred.shape.ndim() == 2, kInvalidArgument)
        << name() << ": predictions must be 2-D (batch, classes), got " << pred.shape;
    const int64_t n = pred.shape[0], classes = pred.shape[1];
    MX_CHECK(static_cast<int64_t>(label.v.size()) == n, kInvalidArgument)
        << name() << ": " << label.v.size() << " labels (shape " << label.shape << ") for " << n
        << " predictions";
    for (int64_t i = 0; i < n; ++i) {
      const int64_t y = ClassOf(label.v[i]);
      if (y < 0 || y >= classes) continue;  // a label outside the classes is never predicted
      const double* p = pred.v.data() + i * classes;
      int64_t higher = 0;
      for (int64_t c = 0; c < classes; ++c) higher += p[c] > p[y] ? 1 : 0;
      sum_ += higher < k_ ? 1 : 0;
    }
    count_ += static_cast<double>(n);
  }

 private:
  int64_t k_;
};

class CrossEntropy : public Metric {
 public:
  explicit CrossEntropy(double eps) : Metric("cross-entropy"), eps_(eps) {}

 protected:
  void UpdateOne(const Host& label, const Host& pred) override {
    MX_CHECK(pred.shape.ndim() == 2, kInvalidArgument)
        << "cross-entropy: predictions must be 2-D (batch, classes), got " << pred.shape;
    const int64_t n = pred.shape[0], classes = pred.shape[1];
    MX_CHECK(static_cast<int64_t>(label.v.size()) == n, kInvalidArgument)
        << "cross-entropy: " << label.v.size() << " labels (shape " << label.shape << ") for " << n
        << " predictions";
    for (int64_t i = 0; i < n; ++i) {
      const int64_t y = ClassOf(label.v[i]);
      MX_CHECK(y >= 0 && y < classes, kInvalidArgument)
          << "cross-entropy: label " << label.v[i] << " at row " << i << " is not a class in [0, "
          << classes << ")";
      sum_ += -std::log(pred.v[i * classes + y] + eps_);
    }
    count_ += static_cast<double>(n);
  }

 private:
  double eps_;
};

// MXNet (1.x) averages per batch and counts batches, so every batch weighs the same.
class MSE : public Metric {
 public:
  MSE() : Metric("mse") {}

 protected:
  void UpdateOne(const Host& label, const Host& pred) override {
    MX_CHECK(label.v.size() == pred.v.size(), kInvalidArgument)
        << "mse: labels of shape " << label.shape << " and predictions of shape " << pred.shape
        << " differ in size";
    if (label.v.empty()) return;
    double s = 0;
    for (size_t i = 0; i < label.v.size(); ++i) {
      const double d = label.v[i] - pred.v[i];
      s += d * d;
    }
    sum_ += s / static_cast<double>(label.v.size());
    count_ += 1;
  }
};

}  // namespace

std::unique_ptr<Metric> Metric::Create(const std::string& given, const ParamMap& params) {
  const std::string name = Lower(given);
  ParamReader r("metric '" + name + "'", params);
  std::unique_ptr<Metric> m;
  if (name == "acc" || name == "accuracy") {
    const int64_t axis = r.Int("axis", 1);
    MX_CHECK(axis >= 0 && axis < Shape::kMaxNDim, kInvalidArgument)
        << r.what() << ": axis=" << axis << " is out of range";
    m = std::make_unique<Accuracy>(static_cast<int>(axis));
  } else if (name == "top_k_accuracy" || name == "top_k_acc") {
    const int64_t k = r.Int("top_k", 1);
    MX_CHECK(k >= 1, kInvalidArgument) << r.what() << ": top_k=" << k << " must be at least 1";
    m = std::make_unique<TopKAccuracy>(k);
  } else if (name == "ce" || name == "cross-entropy") {
    const double eps = r.Double("eps", 1e-12);
    MX_CHECK(eps >= 0, kInvalidArgument) << r.what() << ": eps=" << eps << " is negative";
    m = std::make_unique<CrossEntropy>(eps);
  } else if (name == "mse") {
    m = std::make_unique<MSE>();
  } else {
    MX_THROW(kInvalidArgument)
        << "unknown metric '" << given
        << "' (known: acc, accuracy, top_k_accuracy, top_k_acc, ce, cross-entropy, mse)";
  }
  r.Finish();
  return m;
}

void Metric::Read(const NDArray& a, Host* out) {
  out->shape = a.shape();
  const size_t n = static_cast<size_t>(a.Size());
  out->v.resize(n);
  switch (a.dtype()) {
    case DType::kFloat64:
      a.SyncCopyToCPU(out->v.data(), n);
      return;
    case DType::kFloat32:
      f32_.resize(n);
      a.SyncCopyToCPU(f32_.data(), n);
      for (size_t i = 0; i < n; ++i) out->v[i] = f32_[i];
      return;
    default: {
      // Rare (integer labels): let the copy convert on the host.
      NDArray d(a.shape(), Context::CPU(), DType::kFloat64);
      NDArray::CopyFromTo(a, d);
      d.SyncCopyToCPU(out->v.data(), n);
    }
  }
}

void Metric::Update(const std::vector<NDArray>& labels, const std::vector<NDArray>& preds) {
  MX_CHECK(labels.size() == preds.size(), kInvalidArgument)
      << name_ << ": " << labels.size() << " label arrays for " << preds.size()
      << " prediction arrays";
  for (size_t i = 0; i < labels.size(); ++i) {
    MX_CHECK(!labels[i].is_none() && !preds[i].is_none(), kInvalidArgument)
        << name_ << ": label or prediction " << i << " is an empty array";
    Read(labels[i], &label_);
    Read(preds[i], &pred_);
    UpdateOne(label_, pred_);
  }
}

std::pair<std::string, double> Metric::Get() const {
  const double v = count_ == 0 ? std::numeric_limits<double>::quiet_NaN() : sum_ / count_;
  return {name_, v};
}

}  // namespace train
}  // namespace mx
