#include "train/initializer.h"

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

// Pushes `op` with `params` writing every element of `array`; shape and dtype are the array's.
void Draw(const char* op, ParamMap params, const NDArray& array) {
  params["shape"] = array.shape().ToString();
  params["dtype"] = DTypeName(array.dtype());
  std::vector<NDArray> out{array};
  Invoke(MakeAttrs(OpRegistry::Get()->Get(op), params), {}, &out, false, array.ctx());
}

class Constant : public Initializer {
 public:
  explicit Constant(double value) : value_(value) {}
  void InitWeight(const std::string&, const NDArray& array) const override { array.Fill(value_); }

 private:
  double value_;
};

class Uniform : public Initializer {
 public:
  explicit Uniform(double scale) : scale_(scale) {}
  void InitWeight(const std::string&, const NDArray& array) const override {
    Draw("_random_uniform", {{"low", ParamString(-scale_)}, {"high", ParamString(scale_)}}, array);
  }

 private:
  double scale_;
};

class Normal : public Initializer {
 public:
  explicit Normal(double sigma) : sigma_(sigma) {}
  void InitWeight(const std::string&, const NDArray& array) const override {
    Draw("_random_normal", {{"loc", "0"}, {"scale", ParamString(sigma_)}}, array);
  }

 private:
  double sigma_;
};

// Glorot & Bengio: the scale keeps activations' variance roughly constant across layers. A
// weight is (out, in, kernel...): the kernel's size multiplies both fans.
class Xavier : public Initializer {
 public:
  Xavier(bool gaussian, std::string factor_type, double magnitude)
      : gaussian_(gaussian), factor_type_(std::move(factor_type)), magnitude_(magnitude) {}

  void InitWeight(const std::string& name, const NDArray& array) const override {
    const Shape& s = array.shape();
    MX_CHECK(s.ndim() >= 2, kInvalidArgument)
        << "xavier initializer: argument '" << name << "' has shape " << s
        << "; it needs at least 2 dims (out, in, ...)";
    double receptive = 1;
    for (int i = 2; i < s.ndim(); ++i) receptive *= static_cast<double>(s[i]);
    const double fan_in = static_cast<double>(s[1]) * receptive;
    const double fan_out = static_cast<double>(s[0]) * receptive;
    const double factor = factor_type_ == "avg"  ? (fan_in + fan_out) / 2
                          : factor_type_ == "in" ? fan_in
                                                 : fan_out;
    MX_CHECK(factor > 0, kInvalidArgument)
        << "xavier initializer: argument '" << name << "' of shape " << s << " has a zero fan";
    const double scale = std::sqrt(magnitude_ / factor);
    if (gaussian_) {
      Draw("_random_normal", {{"loc", "0"}, {"scale", ParamString(scale)}}, array);
    } else {
      Draw("_random_uniform", {{"low", ParamString(-scale)}, {"high", ParamString(scale)}}, array);
    }
  }

 private:
  bool gaussian_;
  std::string factor_type_;
  double magnitude_;
};

}  // namespace

std::unique_ptr<Initializer> Initializer::Create(const std::string& given, const ParamMap& params) {
  const std::string type = Lower(given);
  ParamReader r("initializer '" + type + "'", params);
  std::unique_ptr<Initializer> init;
  if (type == "uniform") {
    const double scale = r.Double("scale", 0.07);
    MX_CHECK(scale >= 0, kInvalidArgument) << r.what() << ": scale=" << scale << " is negative";
    init = std::make_unique<Uniform>(scale);
  } else if (type == "normal") {
    const double sigma = r.Double("sigma", 0.01);
    MX_CHECK(sigma >= 0, kInvalidArgument) << r.what() << ": sigma=" << sigma << " is negative";
    init = std::make_unique<Normal>(sigma);
  } else if (type == "xavier") {
    const std::string rnd = r.String("rnd_type", "uniform");
    const std::string factor = r.String("factor_type", "avg");
    const double magnitude = r.Double("magnitude", 3);
    MX_CHECK(rnd == "uniform" || rnd == "gaussian", kInvalidArgument)
        << r.what() << ": rnd_type='" << rnd << "' is not one of uniform, gaussian";
    MX_CHECK(factor == "avg" || factor == "in" || factor == "out", kInvalidArgument)
        << r.what() << ": factor_type='" << factor << "' is not one of avg, in, out";
    MX_CHECK(magnitude >= 0, kInvalidArgument)
        << r.what() << ": magnitude=" << magnitude << " is negative";
    init = std::make_unique<Xavier>(rnd == "gaussian", factor, magnitude);
  } else if (type == "zero" || type == "zeros") {
    init = std::make_unique<Constant>(0.0);
  } else if (type == "one" || type == "ones") {
    init = std::make_unique<Constant>(1.0);
  } else if (type == "constant") {
    MX_CHECK(r.Has("value"), kInvalidArgument) << r.what() << ": parameter 'value' is required";
    init = std::make_unique<Constant>(r.Double("value", 0));
  } else {
    MX_THROW(kInvalidArgument) << "unknown initializer '" << given
                               << "' (known: uniform, normal, xavier, zero, one, constant)";
  }
  r.Finish();
  return init;
}

void Initializer::Apply(const std::string& name, const NDArray& array) const {
  MX_CHECK(!array.is_none(), kInvalidArgument)
      << "initializer: the array for argument '" << name << "' is empty";
  // MXNet's endings, in its order, so a model initializes as it would there (including
  // moving_inv_var starting at 0, as MXNet has it).
  if (EndsWith(name, "bias") || EndsWith(name, "beta")) {
    array.Fill(0);
  } else if (EndsWith(name, "gamma")) {
    array.Fill(1);
  } else if (EndsWith(name, "weight")) {
    InitWeight(name, array);
  } else if (EndsWith(name, "moving_mean") || EndsWith(name, "moving_inv_var") ||
             EndsWith(name, "moving_avg") || EndsWith(name, "min")) {
    array.Fill(0);
  } else if (EndsWith(name, "moving_var") || EndsWith(name, "max")) {
    array.Fill(1);
  } else {
    MX_THROW(kInvalidArgument)
        << "initializer: no rule for argument '" << name
        << "': its name ends in none of weight, bias, gamma, beta, moving_mean, moving_var, "
           "moving_inv_var, moving_avg, min, max (data and labels are not initialized)";
  }
}

}  // namespace train
}  // namespace mx
