// The prediction API (mx_model_*, mx_predictor_*): handles over src/predict.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/file.h"
#include "c_api/c_api_common.h"
#include "c_api/c_api_handles.h"
#include "predict/predictor.h"

struct mx_model {
  static constexpr uint32_t kMagic = 0x4D4F444C;  // "MODL"
  uint32_t magic = kMagic;
  std::shared_ptr<const mx::Model> model;
  explicit mx_model(std::shared_ptr<const mx::Model> m) : model(std::move(m)) {}
  ~mx_model() { magic = 0; }
};

struct mx_predictor {
  static constexpr uint32_t kMagic = 0x50524544;  // "PRED"
  uint32_t magic = kMagic;
  std::unique_ptr<mx::Predictor> pred;
  std::vector<std::vector<int64_t>> output_dims;  // handed out by get_output_shape
  explicit mx_predictor(std::unique_ptr<mx::Predictor> p) : pred(std::move(p)) { Refresh(); }
  ~mx_predictor() { magic = 0; }
  void Refresh() {
    output_dims.clear();
    for (size_t i = 0; i < pred->num_outputs(); ++i) {
      const mx::Shape& s = pred->Output(i).shape();
      output_dims.emplace_back(s.begin(), s.end());
    }
  }
};

namespace mx {
namespace capi {
namespace {

const std::shared_ptr<const Model>& ModelOf(mx_model_t h) {
  MX_CHECK(h != nullptr, kInvalidArgument) << "argument 'model' must not be NULL";
  MX_CHECK(h->magic == mx_model::kMagic, kInvalidArgument)
      << "argument 'model' is not a live mx_model_t (freed, or another kind of handle)";
  return h->model;
}

mx_predictor* PredictorOf(mx_predictor_t h) {
  MX_CHECK(h != nullptr, kInvalidArgument) << "argument 'pred' must not be NULL";
  MX_CHECK(h->magic == mx_predictor::kMagic, kInvalidArgument)
      << "argument 'pred' is not a live mx_predictor_t (freed, or another kind of handle)";
  return h;
}

std::map<std::string, Shape> InputShapes(int32_t n, const char* const* names, const int32_t* ndims,
                                         const int64_t* const* shapes) {
  MX_CHECK(n >= 0, kInvalidArgument) << "negative number of inputs: " << n;
  MX_CHECK(n == 0 || (names && ndims && shapes), kInvalidArgument)
      << "input_names, ndims and shapes must not be NULL for " << n << " inputs";
  std::map<std::string, Shape> out;
  for (int32_t i = 0; i < n; ++i) {
    MX_CHECK(names[i] != nullptr, kInvalidArgument) << "input name " << i << " is NULL";
    MX_CHECK(ndims[i] >= 0 && ndims[i] <= Shape::kMaxNDim && (ndims[i] == 0 || shapes[i]),
             kInvalidArgument)
        << "input '" << names[i] << "' has an invalid rank " << ndims[i];
    MX_CHECK(out.count(names[i]) == 0, kInvalidArgument)
        << "input '" << names[i] << "' is given twice";
    try {
      out[names[i]] = Shape(shapes[i], ndims[i]);
    } catch (const Error& e) {
      MX_THROW(kInvalidArgument) << "input '" << names[i] << "': " << e.what();
    }
  }
  return out;
}

}  // namespace
}  // namespace capi
}  // namespace mx

using mx::capi::CheckArg;
using mx::capi::CheckOut;
using mx::capi::Guard;

extern "C" {

MX_API mx_status_t mx_model_create(const char* symbol_json, const void* param_bytes,
                                   size_t param_size, mx_context_t ctx, mx_model_t* out_model) {
  return Guard([&] {
    CheckArg(symbol_json, "symbol_json");
    MX_CHECK(param_bytes != nullptr || param_size == 0, kInvalidArgument)
        << "argument 'param_bytes' must not be NULL when param_size is " << param_size;
    CheckOut(out_model, "out_model");
    const std::string params(static_cast<const char*>(param_bytes), param_size);
    *out_model = new mx_model(mx::Model::Load(symbol_json, params, mx::capi::ToContext(ctx)));
  });
}

MX_API mx_status_t mx_model_load(const char* symbol_path, const char* param_path, mx_context_t ctx,
                                 mx_model_t* out_model) {
  return Guard([&] {
    CheckArg(symbol_path, "symbol_path");
    CheckArg(param_path, "param_path");
    CheckOut(out_model, "out_model");
    const std::string json = mx::ReadRegularFile(symbol_path);
    const std::string params = mx::ReadRegularFile(param_path);
    std::shared_ptr<const mx::Model> model;
    try {
      model = mx::Model::Load(json, params, mx::capi::ToContext(ctx), param_path);
    } catch (const mx::Error& e) {
      throw mx::Error(e.code(), "model '" + std::string(symbol_path) + "': " + e.what());
    }
    *out_model = new mx_model(std::move(model));
  });
}

MX_API mx_status_t mx_model_free(mx_model_t model) {
  return Guard([&] {
    if (model == nullptr) return;
    mx::capi::ModelOf(model);
    delete model;
  });
}

MX_API mx_status_t mx_predictor_create(mx_model_t model, int32_t num_inputs,
                                       const char* const* input_names, const int32_t* ndims,
                                       const int64_t* const* shapes, mx_predictor_t* out_pred) {
  return Guard([&] {
    const auto& m = mx::capi::ModelOf(model);
    CheckOut(out_pred, "out_pred");
    auto inputs = mx::capi::InputShapes(num_inputs, input_names, ndims, shapes);
    *out_pred = new mx_predictor(std::make_unique<mx::Predictor>(m, inputs));
  });
}

MX_API mx_status_t mx_predictor_reshape(mx_predictor_t pred, int32_t num_inputs,
                                        const char* const* input_names, const int32_t* ndims,
                                        const int64_t* const* shapes) {
  return Guard([&] {
    mx_predictor* p = mx::capi::PredictorOf(pred);
    auto inputs = mx::capi::InputShapes(num_inputs, input_names, ndims, shapes);
    p->pred->Reshape(inputs);
    p->Refresh();
  });
}

MX_API mx_status_t mx_predictor_set_input(mx_predictor_t pred, const char* name, const float* data,
                                          size_t count) {
  return Guard([&] {
    mx_predictor* p = mx::capi::PredictorOf(pred);
    CheckArg(name, "name");
    CheckArg(data, "data");
    p->pred->SetInput(name, data, count);
  });
}

MX_API mx_status_t mx_predictor_forward(mx_predictor_t pred) {
  return Guard([&] { mx::capi::PredictorOf(pred)->pred->Forward(); });
}

MX_API mx_status_t mx_predictor_get_num_outputs(mx_predictor_t pred, int32_t* out_num) {
  return Guard([&] {
    mx_predictor* p = mx::capi::PredictorOf(pred);
    CheckOut(out_num, "out_num");
    *out_num = static_cast<int32_t>(p->pred->num_outputs());
  });
}

MX_API mx_status_t mx_predictor_get_output_shape(mx_predictor_t pred, int32_t index,
                                                 int32_t* out_ndim, const int64_t** out_dims) {
  return Guard([&] {
    mx_predictor* p = mx::capi::PredictorOf(pred);
    CheckOut(out_ndim, "out_ndim");
    CheckOut(out_dims, "out_dims");
    MX_CHECK(index >= 0 && static_cast<size_t>(index) < p->output_dims.size(), kInvalidArgument)
        << "output " << index << " of a predictor with " << p->output_dims.size() << " outputs";
    *out_ndim = static_cast<int32_t>(p->output_dims[index].size());
    *out_dims = p->output_dims[index].data();
  });
}

MX_API mx_status_t mx_predictor_get_output(mx_predictor_t pred, int32_t index, float* data,
                                           size_t count) {
  return Guard([&] {
    mx_predictor* p = mx::capi::PredictorOf(pred);
    CheckArg(data, "data");
    MX_CHECK(index >= 0 && static_cast<size_t>(index) < p->pred->num_outputs(), kInvalidArgument)
        << "output " << index << " of a predictor with " << p->pred->num_outputs() << " outputs";
    const mx::NDArray& out = p->pred->Output(index);
    MX_CHECK(out.dtype() == mx::DType::kFloat32, kInvalidArgument)
        << "output " << index << " is " << mx::DTypeName(out.dtype()) << ", not float32";
    MX_CHECK(count == static_cast<size_t>(out.shape().Size()), kInvalidArgument)
        << "output " << index << " has shape " << out.shape() << " (" << out.shape().Size()
        << " values), got room for " << count;
    out.SyncCopyToCPU(data, count);
  });
}

MX_API mx_status_t mx_predictor_free(mx_predictor_t pred) {
  return Guard([&] {
    if (pred == nullptr) return;
    mx::capi::PredictorOf(pred);
    delete pred;
  });
}

}  // extern "C"
