// C ABI: initializers, optimizers and metrics (src/train/).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "c_api/c_api_common.h"
#include "c_api/c_api_handles.h"
#include "c_api/c_api_train_handles.h"

using mx::capi::CheckArg;
using mx::capi::CheckOut;
using mx::capi::Guard;

namespace mx {
namespace capi {
namespace {

train::ParamMap ParamsOf(int32_t n, const char* const* keys, const char* const* vals) {
  MX_CHECK(n >= 0, kInvalidArgument) << "argument 'num_params' is negative: " << n;
  MX_CHECK(n == 0 || (keys != nullptr && vals != nullptr), kInvalidArgument)
      << "arguments 'keys' and 'vals' must not be NULL when num_params is " << n;
  train::ParamMap params;
  for (int32_t i = 0; i < n; ++i) {
    MX_CHECK(keys[i] != nullptr && vals[i] != nullptr, kInvalidArgument)
        << "parameter " << i << " has a NULL key or value";
    MX_CHECK(params.emplace(keys[i], vals[i]).second, kInvalidArgument)
        << "parameter '" << keys[i] << "' is given twice";
  }
  return params;
}

// Checks a (count, list) pair of the C ABI; `arg` names the list.
void CheckList(int32_t n, const void* list, const char* arg) {
  MX_CHECK(n >= 0, kInvalidArgument) << "argument 'num' is negative: " << n;
  MX_CHECK(n == 0 || list != nullptr, kInvalidArgument)
      << "argument '" << arg << "' must not be NULL when num is " << n;
}

std::map<std::string, double> MultsOf(int32_t n, const char* const* names, const double* values) {
  CheckList(n, names, "names");
  CheckList(n, values, "values");
  std::map<std::string, double> mults;
  for (int32_t i = 0; i < n; ++i) {
    MX_CHECK(names[i] != nullptr, kInvalidArgument) << "names[" << i << "] is NULL";
    mults[names[i]] = values[i];
  }
  return mults;
}

}  // namespace
}  // namespace capi
}  // namespace mx

extern "C" {

MX_API mx_status_t mx_initializer_create(const char* name, int32_t num_params,
                                         const char* const* keys, const char* const* vals,
                                         mx_initializer_t* out_init) {
  return Guard([&] {
    CheckArg(name, "name");
    CheckOut(out_init, "out_init");
    auto h = std::make_unique<mx_initializer>();
    h->impl = mx::train::Initializer::Create(name, mx::capi::ParamsOf(num_params, keys, vals));
    *out_init = h.release();
  });
}

MX_API mx_status_t mx_initializer_apply(mx_initializer_t init, const char* arg_name,
                                        mx_ndarray_t array) {
  return Guard([&] {
    mx_initializer* h = mx::capi::Live(init, "init", "mx_initializer_t");
    CheckArg(arg_name, "arg_name");
    h->impl->Apply(arg_name, mx::capi::ArrayOf(array, "array"));
  });
}

MX_API mx_status_t mx_initializer_free(mx_initializer_t init) {
  return Guard([&] {
    if (init == nullptr) return;
    delete mx::capi::Live(init, "init", "mx_initializer_t");
  });
}

MX_API mx_status_t mx_optimizer_create(const char* name, int32_t num_params,
                                       const char* const* keys, const char* const* vals,
                                       mx_optimizer_t* out_opt) {
  return Guard([&] {
    CheckArg(name, "name");
    CheckOut(out_opt, "out_opt");
    auto h = std::make_unique<mx_optimizer>();
    h->impl = mx::train::Optimizer::Create(name, mx::capi::ParamsOf(num_params, keys, vals));
    *out_opt = h.release();
  });
}

MX_API mx_status_t mx_optimizer_set_arg_names(mx_optimizer_t opt, int32_t num,
                                              const int32_t* indices, const char* const* names) {
  return Guard([&] {
    mx_optimizer* h = mx::capi::Live(opt, "opt", "mx_optimizer_t");
    mx::capi::CheckList(num, indices, "indices");
    mx::capi::CheckList(num, names, "names");
    std::map<int, std::string> m;
    for (int32_t i = 0; i < num; ++i) {
      MX_CHECK(names[i] != nullptr, kInvalidArgument) << "names[" << i << "] is NULL";
      m[indices[i]] = names[i];
    }
    h->impl->SetArgNames(m);
  });
}

MX_API mx_status_t mx_optimizer_set_lr_mult(mx_optimizer_t opt, int32_t num,
                                            const char* const* names, const double* values) {
  return Guard([&] {
    mx_optimizer* h = mx::capi::Live(opt, "opt", "mx_optimizer_t");
    h->impl->SetLrMult(mx::capi::MultsOf(num, names, values));
  });
}

MX_API mx_status_t mx_optimizer_set_wd_mult(mx_optimizer_t opt, int32_t num,
                                            const char* const* names, const double* values) {
  return Guard([&] {
    mx_optimizer* h = mx::capi::Live(opt, "opt", "mx_optimizer_t");
    h->impl->SetWdMult(mx::capi::MultsOf(num, names, values));
  });
}

MX_API mx_status_t mx_optimizer_update(mx_optimizer_t opt, int32_t index, mx_ndarray_t weight,
                                       mx_ndarray_t grad) {
  return Guard([&] {
    mx_optimizer* h = mx::capi::Live(opt, "opt", "mx_optimizer_t");
    h->impl->Update(index, mx::capi::ArrayOf(weight, "weight"), mx::capi::ArrayOf(grad, "grad"));
  });
}

MX_API mx_status_t mx_optimizer_set_learning_rate(mx_optimizer_t opt, double lr) {
  return Guard([&] { mx::capi::Live(opt, "opt", "mx_optimizer_t")->impl->SetLearningRate(lr); });
}

MX_API mx_status_t mx_optimizer_get_learning_rate(mx_optimizer_t opt, double* out_lr) {
  return Guard([&] {
    mx_optimizer* h = mx::capi::Live(opt, "opt", "mx_optimizer_t");
    CheckOut(out_lr, "out_lr");
    *out_lr = h->impl->LearningRate();
  });
}

MX_API mx_status_t mx_optimizer_free(mx_optimizer_t opt) {
  return Guard([&] {
    if (opt == nullptr) return;
    delete mx::capi::Live(opt, "opt", "mx_optimizer_t");
  });
}

MX_API mx_status_t mx_metric_create(const char* name, int32_t num_params, const char* const* keys,
                                    const char* const* vals, mx_metric_t* out_metric) {
  return Guard([&] {
    CheckArg(name, "name");
    CheckOut(out_metric, "out_metric");
    auto h = std::make_unique<mx_metric>();
    h->impl = mx::train::Metric::Create(name, mx::capi::ParamsOf(num_params, keys, vals));
    *out_metric = h.release();
  });
}

MX_API mx_status_t mx_metric_update(mx_metric_t metric, int32_t num, const mx_ndarray_t* labels,
                                    const mx_ndarray_t* preds) {
  return Guard([&] {
    mx_metric* h = mx::capi::Live(metric, "metric", "mx_metric_t");
    h->impl->Update(mx::capi::ArraysOf(labels, num, "labels"),
                    mx::capi::ArraysOf(preds, num, "preds"));
  });
}

MX_API mx_status_t mx_metric_get(mx_metric_t metric, const char** out_name, double* out_value) {
  return Guard([&] {
    mx_metric* h = mx::capi::Live(metric, "metric", "mx_metric_t");
    CheckOut(out_name, "out_name");
    CheckOut(out_value, "out_value");
    *out_value = h->impl->Get().second;
    *out_name = h->impl->name().c_str();  // the metric's own string: lives as long as the handle
  });
}

MX_API mx_status_t mx_metric_reset(mx_metric_t metric) {
  return Guard([&] { mx::capi::Live(metric, "metric", "mx_metric_t")->impl->Reset(); });
}

MX_API mx_status_t mx_metric_free(mx_metric_t metric) {
  return Guard([&] {
    if (metric == nullptr) return;
    delete mx::capi::Live(metric, "metric", "mx_metric_t");
  });
}

}  // extern "C"
