// String key/value parameters for the training objects (initializers, optimizers, metrics).
//
// They are created by name with string parameters so that every binding reaches them through the
// C ABI the same way it reaches operators. A ParamReader hands out typed values and, at Finish(),
// rejects any key nobody asked for, so a typo ("learning_rte") is an error naming the key and
// the accepted ones instead of a silently ignored setting.
//
//   ParamReader r("optimizer 'sgd'", params);
//   const double lr = r.Double("learning_rate", 0.01);
//   r.Finish();  // throws if `params` held a key other than learning_rate
#ifndef MX_TRAIN_TRAIN_PARAMS_H_
#define MX_TRAIN_TRAIN_PARAMS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace mx {
namespace train {

using ParamMap = std::map<std::string, std::string>;

// `s` in lower case: names of optimizers, initializers and metrics are matched case-insensitively,
// as MXNet's registries do ("SGD", "Adam").
std::string Lower(std::string s);

class ParamReader {
 public:
  // `what` names the object in messages, e.g. "optimizer 'sgd'".
  ParamReader(std::string what, const ParamMap& params) : what_(std::move(what)), params_(params) {}

  bool Has(const std::string& key) const { return params_.count(key) != 0; }
  double Double(const std::string& key, double default_value);
  int64_t Int(const std::string& key, int64_t default_value);
  std::string String(const std::string& key, const std::string& default_value);
  // A list of integers: "[10, 20]", "(10,20)" or "10,20".
  std::vector<int64_t> IntList(const std::string& key);
  // Throws naming every key that no accessor asked for, and the accepted keys.
  void Finish() const;

  const std::string& what() const { return what_; }

 private:
  const std::string* Find(const std::string& key);

  std::string what_;
  const ParamMap& params_;
  std::set<std::string> known_;
};

}  // namespace train
}  // namespace mx

#endif  // MX_TRAIN_TRAIN_PARAMS_H_
