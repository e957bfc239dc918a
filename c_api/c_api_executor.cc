// C ABI: shape/type inference on symbols, and executors.
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "c_api/c_api_common.h"
#include "c_api/c_api_handles.h"
#include "executor/executor.h"

using mx::NDArray;
using mx::capi::CheckArg;
using mx::capi::CheckOut;
using mx::capi::Guard;

namespace mx {
namespace capi {

// A monitor installed through the C ABI. Monitor calls are engine operations that may still be
// queued when the caller replaces the monitor or frees the executor; they share this state and
// skip the call once it is retired, so the caller's function and user_data are never used after
// mx_executor_set_monitor or mx_executor_free returns (a call already running finishes first).
// The mutex is recursive so that a callback may itself change or remove its monitor.
struct MonitorState {
  mx_monitor_fn fn = nullptr;
  void* user_data = nullptr;
  std::recursive_mutex mu;
  bool live = true;

  void Call(const std::string& name, const NDArray& value) {
    std::lock_guard<std::recursive_mutex> lock(mu);
    if (!live) return;
    mx_ndarray borrowed(value);  // lives for the call only, as documented
    fn(name.c_str(), &borrowed, user_data);
  }
  void Retire() {
    std::lock_guard<std::recursive_mutex> lock(mu);
    live = false;
  }
};

}  // namespace capi
}  // namespace mx

struct mx_executor {
  static constexpr uint32_t kMagic = 0x45584543;  // "EXEC"
  uint32_t magic = kMagic;
  std::unique_ptr<mx::Executor> exec;
  std::shared_ptr<mx::capi::MonitorState> monitor;
  explicit mx_executor(std::unique_ptr<mx::Executor> e) : exec(std::move(e)) {}
  ~mx_executor() {
    if (monitor) monitor->Retire();
    magic = 0;
  }
};

namespace mx {
namespace capi {
namespace {

Executor& ExecOf(mx_executor_t h, const char* arg) {
  MX_CHECK(h != nullptr, kInvalidArgument) << "argument '" << arg << "' must not be NULL";
  MX_CHECK(h->magic == mx_executor::kMagic, kInvalidArgument)
      << "argument '" << arg << "' is not a live mx_executor_t (freed, or another kind of handle)";
  return *h->exec;
}

const Executor* SharedOf(mx_executor_t h) {
  return h == nullptr ? nullptr : &ExecOf(h, "shared_exec");
}

void CheckStructSize(size_t given, size_t needed, const char* what) {
  MX_CHECK(given >= needed, kInvalidArgument)
      << what << "->struct_size is " << given << ", expected " << needed
      << ": initialise it with its _default function";
}

GradReq ToGradReq(int32_t r, const std::string& arg) {
  MX_CHECK(r >= MX_GRAD_NULL && r <= MX_GRAD_ADD, kInvalidArgument)
      << "grad_req for '" << arg << "' is " << r
      << ": expected MX_GRAD_NULL (0), MX_GRAD_WRITE (1) or MX_GRAD_ADD (2)";
  return static_cast<GradReq>(r);
}

// Shapes given by name, checked.
std::map<std::string, Shape> NamedShapes(int32_t n, const char* const* names, const int32_t* ndims,
                                         const int64_t* const* dims) {
  MX_CHECK(n >= 0, kInvalidArgument) << "negative number of shapes: " << n;
  MX_CHECK(n == 0 || (names && ndims && dims), kInvalidArgument)
      << "the shape names, ranks and dims must not be NULL when " << n << " shapes are given";
  std::map<std::string, Shape> out;
  for (int32_t i = 0; i < n; ++i) {
    MX_CHECK(names[i] != nullptr, kInvalidArgument) << "shape name " << i << " is NULL";
    MX_CHECK(ndims[i] >= -1 && ndims[i] <= Shape::kMaxNDim && (ndims[i] <= 0 || dims[i]),
             kInvalidArgument)
        << "the shape of '" << names[i] << "' has an invalid rank " << ndims[i];
    MX_CHECK(out.count(names[i]) == 0, kInvalidArgument)
        << "the shape of '" << names[i] << "' is given twice";
    // Constraints for inference: 0 (or -1) dims and empty shapes are unknown, as in MXNet.
    try {
      out[names[i]] = Shape::FromUser(dims[i], ndims[i]);
    } catch (const Error& e) {
      MX_THROW(kInvalidArgument) << "the shape of '" << names[i] << "': " << e.what();
    }
  }
  return out;
}

// Per-thread results of the inference calls.
struct ShapeResult {
  std::vector<Shape> shapes;
  std::vector<int32_t> ndims;
  std::vector<const int64_t*> dims;
  void Fill(std::vector<Shape> s, mx_shape_list_t* out) {
    shapes = std::move(s);
    ndims.clear();
    dims.clear();
    for (const Shape& sh : shapes) {
      ndims.push_back(sh.ndim());
      dims.push_back(sh.data());
    }
    out->num = static_cast<int32_t>(shapes.size());
    out->ndims = ndims.data();
    out->dims = dims.data();
  }
};
thread_local ShapeResult tls_shape_results[3];
thread_local std::vector<int32_t> tls_type_results[3];

struct ArraysResult {
  std::vector<mx_ndarray_t> handles;
  std::vector<const char*> names;
  std::vector<std::string> owned_names;
};
thread_local ArraysResult tls_arrays;
thread_local std::string tls_plan;

// The graph of `sym` with the given input constraints, inferred. Returns the entries of the
// arguments, outputs and aux states.
struct Inferred {
  Graph g;
  std::vector<uint32_t> args, outputs, aux;
};

Inferred Infer(const Symbol& sym, const std::map<std::string, Shape>& shapes,
               const std::map<std::string, int>& dtypes) {
  Inferred r;
  r.g = Graph::FromOutputs(sym.outputs);
  const IndexedGraph& idx = r.g.indexed();
  std::map<std::string, uint32_t> var_eid;
  for (uint32_t nid : idx.input_nodes()) var_eid[idx[nid].node->attrs.name] = idx.entry_id(nid, 0);
  for (const auto& kv : shapes) {
    MX_CHECK(var_eid.count(kv.first), kInvalidArgument)
        << "infer_shape: '" << kv.first << "' is not an input of the symbol";
    r.g.shapes[var_eid[kv.first]] = kv.second;
  }
  for (const auto& kv : dtypes) {
    MX_CHECK(var_eid.count(kv.first), kInvalidArgument)
        << "infer_type: '" << kv.first << "' is not an input of the symbol";
    try {
      CheckedDType(kv.second);
    } catch (const Error& e) {
      MX_THROW(kInvalidArgument) << "infer_type: the type of '" << kv.first << "': " << e.what();
    }
    r.g.dtypes[var_eid[kv.first]] = kv.second;
  }
  for (const NodePtr& n : sym.ListInputNodes(Symbol::InputKind::kArguments)) {
    r.args.push_back(var_eid.at(n->attrs.name));
  }
  for (const NodePtr& n : sym.ListInputNodes(Symbol::InputKind::kAuxStates)) {
    r.aux.push_back(var_eid.at(n->attrs.name));
  }
  for (const auto& e : idx.outputs()) r.outputs.push_back(idx.entry_id(e));
  return r;
}

}  // namespace
}  // namespace capi
}  // namespace mx

using mx::capi::ExecOf;

extern "C" {

MX_API mx_status_t mx_symbol_infer_shape(mx_symbol_t symbol, int32_t num_known,
                                         const char* const* names, const int32_t* ndims,
                                         const int64_t* const* dims, mx_shape_list_t* out_args,
                                         mx_shape_list_t* out_outputs, mx_shape_list_t* out_aux,
                                         int32_t* out_complete) {
  return Guard([&] {
    const mx::Symbol& sym = mx::capi::SymbolOf(symbol, "symbol");
    CheckOut(out_args, "out_args");
    CheckOut(out_outputs, "out_outputs");
    CheckOut(out_aux, "out_aux");
    auto r = mx::capi::Infer(sym, mx::capi::NamedShapes(num_known, names, ndims, dims), {});
    mx::InferShape(&r.g);
    bool complete = true;
    std::vector<mx::Shape> lists[3];
    const std::vector<uint32_t>* eids[3] = {&r.args, &r.outputs, &r.aux};
    for (int k = 0; k < 3; ++k) {
      for (uint32_t eid : *eids[k]) {
        lists[k].push_back(r.g.shapes[eid]);
        complete = complete && r.g.shapes[eid].IsKnown();
      }
    }
    // Without out_complete the caller wants every shape: what stays unknown is the error.
    MX_CHECK(complete || out_complete != nullptr, kInvalidArgument)
        << "infer_shape: cannot infer every shape: " << mx::DescribeUnknownShapes(r.g);
    mx::capi::tls_shape_results[0].Fill(lists[0], out_args);
    mx::capi::tls_shape_results[1].Fill(lists[1], out_outputs);
    mx::capi::tls_shape_results[2].Fill(lists[2], out_aux);
    if (out_complete != nullptr) *out_complete = complete ? 1 : 0;
  });
}

MX_API mx_status_t mx_symbol_infer_type(mx_symbol_t symbol, int32_t num_known,
                                        const char* const* names, const int32_t* dtypes,
                                        mx_dtype_list_t* out_args, mx_dtype_list_t* out_outputs,
                                        mx_dtype_list_t* out_aux, int32_t* out_complete) {
  return Guard([&] {
    const mx::Symbol& sym = mx::capi::SymbolOf(symbol, "symbol");
    CheckOut(out_args, "out_args");
    CheckOut(out_outputs, "out_outputs");
    CheckOut(out_aux, "out_aux");
    MX_CHECK(num_known >= 0 && (num_known == 0 || (names && dtypes)), kInvalidArgument)
        << "infer_type: invalid known types (count " << num_known << ")";
    std::map<std::string, int> known;
    for (int32_t i = 0; i < num_known; ++i) {
      MX_CHECK(names[i] != nullptr, kInvalidArgument) << "type name " << i << " is NULL";
      MX_CHECK(known.count(names[i]) == 0, kInvalidArgument)
          << "the type of '" << names[i] << "' is given twice";
      if (dtypes[i] != -1) known[names[i]] = dtypes[i];  // -1: unknown, as in the results
    }
    auto r = mx::capi::Infer(sym, {}, known);
    mx::InferType(&r.g);
    bool complete = true;
    const std::vector<uint32_t>* eids[3] = {&r.args, &r.outputs, &r.aux};
    for (int k = 0; k < 3; ++k) {
      for (uint32_t eid : *eids[k]) complete = complete && r.g.dtypes[eid] >= 0;
    }
    // Without out_complete the caller wants every type: what stays unknown is the error.
    MX_CHECK(complete || out_complete != nullptr, kInvalidArgument)
        << "infer_type: cannot infer every type: " << mx::DescribeUnknownTypes(r.g);
    mx_dtype_list_t* outs[3] = {out_args, out_outputs, out_aux};
    for (int k = 0; k < 3; ++k) {
      auto& list = mx::capi::tls_type_results[k];
      list.clear();
      for (uint32_t eid : *eids[k]) list.push_back(r.g.dtypes[eid]);
      outs[k]->num = static_cast<int32_t>(list.size());
      outs[k]->dtypes = list.data();
    }
    if (out_complete != nullptr) *out_complete = complete ? 1 : 0;
  });
}

MX_API mx_status_t mx_bind_options_default(mx_bind_options_t* opts) {
  return Guard([&] {
    CheckOut(opts, "opts");
    std::memset(opts, 0, sizeof(*opts));
    opts->struct_size = sizeof(*opts);
    opts->ctx = mx_context_t{MX_CPU, 0};
  });
}

MX_API mx_status_t mx_executor_bind(mx_symbol_t symbol, const mx_bind_options_t* opts,
                                    mx_executor_t* out_exec) {
  return Guard([&] {
    const mx::Symbol& sym = mx::capi::SymbolOf(symbol, "symbol");
    CheckArg(opts, "opts");
    CheckOut(out_exec, "out_exec");
    mx::capi::CheckStructSize(opts->struct_size, sizeof(mx_bind_options_t), "opts");
    const std::vector<NDArray> args = mx::capi::ArraysOf(opts->args, opts->num_args, "args");
    const std::vector<std::string> arg_names = sym.ListArguments();
    std::vector<NDArray> grads;
    std::vector<mx::GradReq> reqs;
    if (opts->arg_grads != nullptr) {
      for (int32_t i = 0; i < opts->num_args; ++i) {
        grads.push_back(opts->arg_grads[i] == nullptr
                            ? NDArray()
                            : mx::capi::ArrayOf(opts->arg_grads[i], "arg_grads[i]"));
      }
    }
    if (opts->grad_reqs != nullptr) {
      for (int32_t i = 0; i < opts->num_args; ++i) {
        reqs.push_back(mx::capi::ToGradReq(
            opts->grad_reqs[i], i < static_cast<int32_t>(arg_names.size()) ? arg_names[i] : ""));
      }
    }
    const std::vector<NDArray> aux = mx::capi::ArraysOf(opts->aux, opts->num_aux, "aux");
    auto exec = mx::Executor::Bind(sym, mx::capi::ToContext(opts->ctx), args, grads, reqs, aux,
                                   mx::capi::SharedOf(opts->shared_exec));
    *out_exec = new mx_executor(std::move(exec));
  });
}

MX_API mx_status_t mx_simple_bind_options_default(mx_simple_bind_options_t* opts) {
  return Guard([&] {
    CheckOut(opts, "opts");
    std::memset(opts, 0, sizeof(*opts));
    opts->struct_size = sizeof(*opts);
    opts->ctx = mx_context_t{MX_CPU, 0};
    opts->grad_req = MX_GRAD_WRITE;
  });
}

MX_API mx_status_t mx_executor_simple_bind(mx_symbol_t symbol, const mx_simple_bind_options_t* opts,
                                           mx_executor_t* out_exec) {
  return Guard([&] {
    const mx::Symbol& sym = mx::capi::SymbolOf(symbol, "symbol");
    CheckArg(opts, "opts");
    CheckOut(out_exec, "out_exec");
    mx::capi::CheckStructSize(opts->struct_size, sizeof(mx_simple_bind_options_t), "opts");
    const auto shapes =
        mx::capi::NamedShapes(opts->num_shapes, opts->shape_names, opts->shape_ndims, opts->shapes);
    std::map<std::string, int> dtypes;
    MX_CHECK(
        opts->num_dtypes >= 0 && (opts->num_dtypes == 0 || (opts->dtype_names && opts->dtypes)),
        kInvalidArgument)
        << "simple_bind: invalid dtypes (count " << opts->num_dtypes << ")";
    for (int32_t i = 0; i < opts->num_dtypes; ++i) {
      MX_CHECK(opts->dtype_names[i] != nullptr, kInvalidArgument)
          << "dtype name " << i << " is NULL";
      dtypes[opts->dtype_names[i]] = opts->dtypes[i];
    }
    std::map<std::string, mx::GradReq> reqs;
    MX_CHECK(opts->num_grad_reqs >= 0 &&
                 (opts->num_grad_reqs == 0 || (opts->grad_req_names && opts->grad_reqs)),
             kInvalidArgument)
        << "simple_bind: invalid grad_reqs (count " << opts->num_grad_reqs << ")";
    for (int32_t i = 0; i < opts->num_grad_reqs; ++i) {
      MX_CHECK(opts->grad_req_names[i] != nullptr, kInvalidArgument)
          << "grad_req name " << i << " is NULL";
      reqs[opts->grad_req_names[i]] =
          mx::capi::ToGradReq(opts->grad_reqs[i], opts->grad_req_names[i]);
    }
    auto exec = mx::Executor::SimpleBind(sym, mx::capi::ToContext(opts->ctx), shapes, dtypes,
                                         mx::capi::ToGradReq(opts->grad_req, "every argument"),
                                         reqs, mx::capi::SharedOf(opts->shared_exec));
    *out_exec = new mx_executor(std::move(exec));
  });
}

MX_API mx_status_t mx_executor_forward(mx_executor_t exec, int32_t is_train) {
  return Guard([&] { ExecOf(exec, "exec").Forward(is_train != 0); });
}

MX_API mx_status_t mx_executor_backward(mx_executor_t exec, int32_t num_head_grads,
                                        const mx_ndarray_t* head_grads) {
  return Guard([&] {
    mx::Executor& e = ExecOf(exec, "exec");
    e.Backward(mx::capi::ArraysOf(head_grads, num_head_grads, "head_grads"));
  });
}

MX_API mx_status_t mx_executor_get_arrays(mx_executor_t exec, int32_t kind, int32_t* out_num,
                                          const char* const** out_names,
                                          mx_ndarray_t** out_arrays) {
  return Guard([&] {
    mx::Executor& e = ExecOf(exec, "exec");
    CheckOut(out_num, "out_num");
    CheckOut(out_names, "out_names");
    CheckOut(out_arrays, "out_arrays");
    const std::vector<NDArray>* arrays = nullptr;
    const std::vector<std::string>* names = nullptr;
    switch (kind) {
      case MX_EXEC_ARGS:
        arrays = &e.arg_arrays();
        names = &e.arg_names();
        break;
      case MX_EXEC_GRADS:
        arrays = &e.grad_arrays();
        names = &e.arg_names();
        break;
      case MX_EXEC_AUX:
        arrays = &e.aux_arrays();
        names = &e.aux_names();
        break;
      case MX_EXEC_OUTPUTS:
        arrays = &e.outputs();
        names = &e.output_names();
        break;
      default:
        MX_THROW(kInvalidArgument)
            << "unknown array kind " << kind << ": expected MX_EXEC_ARGS, _GRADS, _AUX or _OUTPUTS";
    }
    auto& r = mx::capi::tls_arrays;
    r.handles.clear();
    r.names.clear();
    r.owned_names = *names;
    for (size_t i = 0; i < arrays->size(); ++i) {
      const NDArray& a = (*arrays)[i];
      r.handles.push_back(a.is_none() ? nullptr : mx::capi::NewHandle(a));
      r.names.push_back(r.owned_names[i].c_str());
    }
    *out_num = static_cast<int32_t>(r.handles.size());
    *out_names = r.names.data();
    *out_arrays = r.handles.data();
  });
}

MX_API mx_status_t mx_executor_get_memory(mx_executor_t exec, uint64_t* out_planned_bytes,
                                          uint64_t* out_naive_bytes) {
  return Guard([&] {
    mx::Executor& e = ExecOf(exec, "exec");
    CheckOut(out_planned_bytes, "out_planned_bytes");
    CheckOut(out_naive_bytes, "out_naive_bytes");
    *out_planned_bytes = e.planned_bytes();
    *out_naive_bytes = e.naive_bytes();
  });
}

MX_API mx_status_t mx_executor_get_plan(mx_executor_t exec, const char** out_text) {
  return Guard([&] {
    mx::Executor& e = ExecOf(exec, "exec");
    CheckOut(out_text, "out_text");
    mx::capi::tls_plan = e.DebugPlan();
    *out_text = mx::capi::tls_plan.c_str();
  });
}

MX_API mx_status_t mx_executor_set_monitor(mx_executor_t exec, mx_monitor_fn fn, void* user_data) {
  return Guard([&] {
    mx::Executor& e = ExecOf(exec, "exec");
    if (exec->monitor) exec->monitor->Retire();
    exec->monitor.reset();
    if (fn == nullptr) {
      e.SetMonitor(nullptr);
      return;
    }
    auto state = std::make_shared<mx::capi::MonitorState>();
    state->fn = fn;
    state->user_data = user_data;
    e.SetMonitor(
        [state](const std::string& name, const NDArray& value) { state->Call(name, value); });
    exec->monitor = std::move(state);
  });
}

MX_API mx_status_t mx_executor_free(mx_executor_t exec) {
  return Guard([&] {
    if (exec == nullptr) return;
    ExecOf(exec, "exec");
    delete exec;
  });
}

}  // extern "C"
