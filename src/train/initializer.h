// Initializers: fill a model's arguments before training, chosen per argument by its name.
//
// As in MXNet, the name's ending decides what an argument gets: `...weight` gets the
// initializer's own rule (uniform, normal, Xavier, a constant), `...bias`, `...beta`,
// `...moving_mean`, `...moving_inv_var`, `...moving_avg` and `...min` get 0, `...gamma`,
// `...moving_var` and `...max` get 1; any other name is an error naming the argument, because
// guessing would silently train a different model. Random rules push the registered
// `_random_uniform` / `_random_normal` ops, so they run lazily on the engine and draw from the
// device's generator: the same mx_random_seed gives the same values.
//
//   auto init = Initializer::Create("xavier", {{"magnitude", "2.34"}});
//   init->Apply("fc1_weight", weight);  // Xavier
//   init->Apply("fc1_bias", bias);      // zeros
#ifndef MX_TRAIN_INITIALIZER_H_
#define MX_TRAIN_INITIALIZER_H_

#include <memory>
#include <string>

#include "ndarray/ndarray.h"
#include "train/train_params.h"

namespace mx {
namespace train {

class Initializer {
 public:
  virtual ~Initializer() = default;

  // Creates "uniform" (scale=0.07: U(-scale, scale)), "normal" (sigma=0.01: N(0, sigma^2)),
  // "xavier" (rnd_type=uniform|gaussian, factor_type=avg|in|out, magnitude=3), "zero"/"zeros",
  // "one"/"ones", "constant" (value). Unknown names and parameters are errors naming them.
  static std::unique_ptr<Initializer> Create(const std::string& type, const ParamMap& params);

  // Fills `array` by the rule its argument `name` selects (see the file comment).
  void Apply(const std::string& name, const NDArray& array) const;

  // The rule for weights alone (Apply picks it for names ending in "weight").
  virtual void InitWeight(const std::string& name, const NDArray& array) const = 0;
};

}  // namespace train
}  // namespace mx

#endif  // MX_TRAIN_INITIALIZER_H_
