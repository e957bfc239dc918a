// Serving a trained model: a Model is the symbol and its weights, loaded once and never changed;
// a Predictor is one bound inference executor over a Model, with its own input, output and
// scratch arrays. Any number of Predictors, on any threads, share one Model's weights (no copy):
// the weights are only ever read, and every read goes through the engine like any other.
//
//   auto model = Model::Load(json, params_bytes, Context::CPU());     // once
//   // on each serving thread:
//   Predictor p(model, {{"data", Shape{1, 1, 28, 28}}});
//   p.SetInput("data", pixels, 784);
//   p.Forward();
//   p.Output(0).SyncCopyToCPU(scores, 10);
//   p.Reshape({{"data", Shape{32, 1, 28, 28}}});   // a new batch size, same weights
//
// A Predictor is used by one thread at a time; a Model by any number.
#ifndef MX_PREDICT_PREDICTOR_H_
#define MX_PREDICT_PREDICTOR_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "executor/executor.h"

namespace mx {

class Model {
 public:
  // `params` are the bytes of a parameter file (docs/design/ndarray_format.md): named arrays,
  // "arg:<name>" / "aux:<name>" as checkpoints write them, or bare argument names. Every argument
  // of the symbol that is not an input at prediction time, and every auxiliary state, must be
  // there with a shape the symbol accepts (checked when a Predictor binds). `source` names the
  // parameters in error messages (a path, or "<memory>").
  static std::shared_ptr<const Model> Load(const std::string& symbol_json,
                                           const std::string& params, Context ctx,
                                           const std::string& source = "<memory>");

  const Symbol& symbol() const { return symbol_; }
  Context ctx() const { return ctx_; }
  // The weights by argument / auxiliary state name, on ctx().
  const std::map<std::string, NDArray>& args() const { return args_; }
  const std::map<std::string, NDArray>& aux() const { return aux_; }

 private:
  Model() = default;
  Symbol symbol_;
  Context ctx_;
  std::map<std::string, NDArray> args_, aux_;
};

class Predictor {
 public:
  // Binds `model` for inference with these input shapes (arguments the parameters do not hold,
  // such as "data"). Labels of loss outputs (SoftmaxOutput's "softmax_label") need no shape and
  // no value: inference does not read them.
  Predictor(std::shared_ptr<const Model> model, const std::map<std::string, Shape>& inputs);

  // Binds again for new input shapes (a new batch size): the weights stay shared, the inputs'
  // values and the outputs are new.
  void Reshape(const std::map<std::string, Shape>& inputs);

  // Copies `count` floats into input `name` (count must be its size).
  void SetInput(const std::string& name, const float* data, size_t count);
  // Pushes the forward pass; reading an output waits for it.
  void Forward();

  size_t num_outputs() const { return exec_->outputs().size(); }
  const NDArray& Output(size_t i) const;
  const std::vector<std::string>& output_names() const { return exec_->output_names(); }
  const std::map<std::string, NDArray>& inputs() const { return inputs_; }

 private:
  std::shared_ptr<const Model> model_;
  std::map<std::string, NDArray> inputs_;
  std::unique_ptr<Executor> exec_;
};

}  // namespace mx

#endif  // MX_PREDICT_PREDICTOR_H_
