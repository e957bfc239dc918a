// C ABI: operator listing, information and imperative invocation.
#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "base/scratch.h"
#include "c_api/c_api_common.h"
#include "c_api/c_api_handles.h"
#include "op/invoke.h"
#include "resource/resource.h"

using mx::NDArray;
using mx::capi::CheckArg;
using mx::capi::CheckOut;
using mx::capi::Guard;

namespace mx {
namespace capi {
namespace {

// Static op information in C form, built once per op on first request.
struct OpInfoCache {
  std::string name, doc, variadic;
  std::vector<std::string> param_names, param_types, param_defaults, param_docs, inputs;
  std::vector<const char*> p_names, p_types, p_defaults, p_docs, p_inputs;
  int32_t num_inputs = -1, num_outputs = -1;
};

std::string DefaultOf(const std::string& type) {
  const auto pos = type.find("default=");
  if (pos == std::string::npos) return "";
  std::string d = type.substr(pos + 8);
  if (d.size() >= 2 && d.front() == '\'' && d.back() == '\'') d = d.substr(1, d.size() - 2);
  return d;
}

// Attributes with every required parameter filled with a plausible value, so that input and
// output names of parameter-dependent ops can be listed for documentation.
bool DefaultAttrs(const Op* op, NodeAttrs* attrs) {
  std::map<std::string, std::string> dict;
  for (const ParamDoc& p : op->params) {
    if (p.type.find("required") == std::string::npos) continue;
    std::string value = "1";
    const auto brace = p.type.find('{');
    if (brace != std::string::npos) {  // an enum: "{'relu', 'sigmoid'}, required"
      const auto q1 = p.type.find('\'', brace);
      const auto q2 = p.type.find('\'', q1 + 1);
      if (q1 != std::string::npos && q2 != std::string::npos)
        value = p.type.substr(q1 + 1, q2 - q1 - 1);
    } else if (p.type.find("tuple") != std::string::npos) {
      value = "(1,)";
    }
    dict[p.name] = value;
  }
  try {
    *attrs = MakeAttrs(op, dict, op->name);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

const OpInfoCache& InfoFor(const Op* op) {
  static std::mutex mu;
  static auto* cache = new std::unordered_map<const Op*, std::unique_ptr<OpInfoCache>>();
  std::lock_guard<std::mutex> lock(mu);
  auto& slot = (*cache)[op];
  if (slot) return *slot;
  auto info = std::make_unique<OpInfoCache>();
  info->name = op->name;
  info->doc = op->doc;
  for (const ParamDoc& p : op->params) {
    info->param_names.push_back(p.name);
    info->param_types.push_back(p.type);
    info->param_defaults.push_back(DefaultOf(p.type));
    info->param_docs.push_back(p.description);
    if (p.name == "num_args") info->variadic = p.name;
  }
  NodeAttrs attrs;
  if (DefaultAttrs(op, &attrs)) {
    try {
      info->inputs = op->InputNames(attrs);
      info->num_inputs = static_cast<int32_t>(info->inputs.size());
      info->num_outputs = op->NumVisibleOutputs(attrs);
    } catch (const std::exception&) {
      info->num_inputs = info->num_outputs = -1;
    }
  }
  for (auto& s : info->param_names) info->p_names.push_back(s.c_str());
  for (auto& s : info->param_types) info->p_types.push_back(s.c_str());
  for (auto& s : info->param_defaults) info->p_defaults.push_back(s.c_str());
  for (auto& s : info->param_docs) info->p_docs.push_back(s.c_str());
  for (auto& s : info->inputs) info->p_inputs.push_back(s.c_str());
  slot = std::move(info);
  return *slot;
}

std::map<std::string, std::string> ParamsOf(int32_t n, const char* const* keys,
                                            const char* const* vals) {
  MX_CHECK(n >= 0, kInvalidArgument) << "argument 'num_params' is negative: " << n;
  MX_CHECK(n == 0 || (keys != nullptr && vals != nullptr), kInvalidArgument)
      << "arguments 'keys' and 'vals' must not be NULL when num_params is " << n;
  std::map<std::string, std::string> params;
  for (int32_t i = 0; i < n; ++i) {
    MX_CHECK(keys[i] != nullptr && vals[i] != nullptr, kInvalidArgument)
        << "parameter " << i << " has a NULL key or value";
    MX_CHECK(params.emplace(keys[i], vals[i]).second, kInvalidArgument)
        << "parameter '" << keys[i] << "' is given twice";
  }
  return params;
}

// Parses "cpu(0)", "gpu(1)", "cpu_pinned(0)".
Context ParseContext(const std::string& s) {
  for (auto [prefix, type] :
       {std::pair<const char*, DeviceType>{"cpu_pinned(", DeviceType::kCPUPinned},
        {"cpu(", DeviceType::kCPU},
        {"gpu(", DeviceType::kGPU}}) {
    const size_t n = std::strlen(prefix);
    if (s.compare(0, n, prefix) == 0 && s.size() > n && s.back() == ')') {
      try {
        size_t used = 0;
        const int id = std::stoi(s.substr(n, s.size() - n - 1), &used);
        if (used == s.size() - n - 1) {
          Context c{type, id};
          c.Validate();
          return c;
        }
      } catch (const std::logic_error&) {
      }
    }
  }
  MX_THROW(kInvalidArgument) << "invalid ctx '" << s
                             << "': expected cpu(N), gpu(N) or cpu_pinned(N)";
}

thread_local bool tls_is_train = false;
thread_local std::vector<mx_ndarray_t> tls_outputs;

// Note [Attribute cache]: a program calls the same few ops with the same parameters over and over
// (a + b, x * 2). Looking the op up by name, building the parameter map and parsing it cost more
// than a small op itself, so each thread keeps the attribute sets it used last, keyed by the op
// name and the key/value strings exactly as given (direct-mapped by their hash). A hit skips all
// of it; the entries are immutable and shared with the ops pushed with them. Only calls that
// passed every check are stored, so a bad call fails the same way every time.
struct CachedAttrs {
  std::string name;
  std::vector<std::string> kv;  // keys and values, alternating, as given
  std::shared_ptr<const PreparedAttrs> prepared;
  Context ctx;
};
constexpr size_t kAttrCacheSlots = 64;
thread_local std::array<CachedAttrs, kAttrCacheSlots> tls_attr_cache;

// FNV-1a over the name and the strings, each with its terminating NUL (so "ab","c" != "a","bc").
// Checks the pointers on the way, as ParamsOf does.
size_t HashCall(const char* name, int32_t n, const char* const* keys, const char* const* vals) {
  MX_CHECK(n >= 0, kInvalidArgument) << "argument 'num_params' is negative: " << n;
  MX_CHECK(n == 0 || (keys != nullptr && vals != nullptr), kInvalidArgument)
      << "arguments 'keys' and 'vals' must not be NULL when num_params is " << n;
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&h](const char* str) {
    const char* p = str;
    do {
      h = (h ^ static_cast<unsigned char>(*p)) * 1099511628211ULL;
    } while (*p++ != '\0');
  };
  mix(name);
  for (int32_t i = 0; i < n; ++i) {
    MX_CHECK(keys[i] != nullptr && vals[i] != nullptr, kInvalidArgument)
        << "parameter " << i << " has a NULL key or value";
    mix(keys[i]);
    mix(vals[i]);
  }
  return static_cast<size_t>(h);
}

bool Matches(const CachedAttrs& c, const char* name, int32_t n, const char* const* keys,
             const char* const* vals) {
  if (c.prepared == nullptr || c.kv.size() != 2 * static_cast<size_t>(n) || c.name != name) {
    return false;
  }
  for (int32_t i = 0; i < n; ++i) {
    if (c.kv[2 * i] != keys[i] || c.kv[2 * i + 1] != vals[i]) return false;
  }
  return true;
}

const CachedAttrs& AttrsFor(const char* name, int32_t n, const char* const* keys,
                            const char* const* vals) {
  CheckArg(name, "name");
  CachedAttrs& slot = tls_attr_cache[HashCall(name, n, keys, vals) % kAttrCacheSlots];
  if (Matches(slot, name, n, keys, vals)) return slot;
  const Op* op = OpRegistry::Get()->Get(name);
  const std::map<std::string, std::string> params = ParamsOf(n, keys, vals);
  Context ctx = Context::CPU();
  auto it = params.find("ctx");
  if (it != params.end()) ctx = ParseContext(it->second);
  auto prepared = PreparedAttrs::Make(MakeAttrs(op, params, op->name));
  slot.prepared.reset();  // a throw below leaves the slot empty, never half-filled
  slot.name = name;
  slot.kv.clear();
  for (int32_t i = 0; i < n; ++i) {
    slot.kv.emplace_back(keys[i]);
    slot.kv.emplace_back(vals[i]);
  }
  slot.ctx = ctx;
  slot.prepared = std::move(prepared);
  return slot;
}

// The arrays of one call (ScratchLease: the thread's next call reuses the lists).
struct CallArrays {
  std::vector<NDArray> in, out;
  void Clear() {  // drops the references, keeps the capacity
    in.clear();
    out.clear();
  }
};

// Runs op `name`; `outs` holds the given outputs (empty: all allocated) and the results after.
void InvokeImpl(const char* name, int32_t num_inputs, const mx_ndarray_t* inputs,
                int32_t num_params, const char* const* keys, const char* const* vals,
                std::vector<NDArray>* in, std::vector<NDArray>* outs) {
  const CachedAttrs& cached = AttrsFor(name, num_params, keys, vals);
  const std::shared_ptr<const PreparedAttrs> prepared = cached.prepared;
  const Context ctx = cached.ctx;
  CheckArrays(inputs, num_inputs, "inputs");
  in->clear();
  for (int32_t i = 0; i < num_inputs; ++i) in->push_back(inputs[i]->array);
  // Callers see the visible outputs only; Invoke allocates and drops the hidden ones.
  if (outs->empty()) outs->resize(prepared->num_visible_outputs);
  Invoke(prepared, in->data(), num_inputs, outs, tls_is_train, ctx);
}

}  // namespace
}  // namespace capi
}  // namespace mx

extern "C" {

MX_API mx_status_t mx_op_list(int32_t* out_num, const char* const** out_names) {
  return Guard([&] {
    CheckOut(out_num, "out_num");
    CheckOut(out_names, "out_names");
    static const std::vector<const char*>* names = [] {
      auto* v = new std::vector<const char*>();
      for (const mx::Op* op : mx::OpRegistry::Get()->List()) v->push_back(op->name.c_str());
      return v;
    }();
    *out_num = static_cast<int32_t>(names->size());
    *out_names = names->data();
  });
}

MX_API mx_status_t mx_op_get_info(const char* name, mx_op_info_t* out_info) {
  return Guard([&] {
    CheckArg(name, "name");
    CheckOut(out_info, "out_info");
    MX_CHECK(out_info->struct_size >= sizeof(size_t) + 2 * sizeof(const char*), kInvalidArgument)
        << "out_info->struct_size is " << out_info->struct_size
        << ": set it to sizeof(mx_op_info_t)";
    const mx::Op* op = mx::OpRegistry::Get()->Get(name);
    const auto& c = mx::capi::InfoFor(op);
    mx_op_info_t info;
    info.struct_size = out_info->struct_size;
    info.name = c.name.c_str();
    info.doc = c.doc.c_str();
    info.num_params = static_cast<int32_t>(c.p_names.size());
    info.param_names = c.p_names.data();
    info.param_types = c.p_types.data();
    info.param_defaults = c.p_defaults.data();
    info.param_docs = c.p_docs.data();
    info.num_inputs = c.num_inputs;
    info.input_names = c.p_inputs.data();
    info.variadic_param = c.variadic.c_str();
    info.num_outputs = c.num_outputs;
    info.hidden = op->hidden ? 1 : 0;
    info.gpu = op->gpu ? 1 : 0;
    std::memcpy(out_info, &info, std::min(sizeof(info), out_info->struct_size));
  });
}

MX_API mx_status_t mx_op_invoke(const char* name, int32_t num_inputs, const mx_ndarray_t* inputs,
                                int32_t num_params, const char* const* keys,
                                const char* const* vals, int32_t* out_num,
                                mx_ndarray_t** out_outputs) {
  return Guard([&] {
    CheckOut(out_num, "out_num");
    CheckOut(out_outputs, "out_outputs");
    mx::ScratchLease<mx::capi::CallArrays> arrays;
    mx::capi::InvokeImpl(name, num_inputs, inputs, num_params, keys, vals, &arrays->in,
                         &arrays->out);
    auto& handles = mx::capi::tls_outputs;
    handles.clear();
    for (auto& o : arrays->out) handles.push_back(mx::capi::NewHandle(o));
    *out_num = static_cast<int32_t>(handles.size());
    *out_outputs = handles.data();
  });
}

MX_API mx_status_t mx_op_invoke_into(const char* name, int32_t num_inputs,
                                     const mx_ndarray_t* inputs, int32_t num_params,
                                     const char* const* keys, const char* const* vals,
                                     int32_t num_outputs, const mx_ndarray_t* outputs) {
  return Guard([&] {
    mx::capi::CheckArrays(outputs, num_outputs, "outputs");
    MX_CHECK(num_outputs > 0, kInvalidArgument)
        << "mx_op_invoke_into needs at least one output (use mx_op_invoke to allocate them)";
    mx::ScratchLease<mx::capi::CallArrays> arrays;
    for (int32_t i = 0; i < num_outputs; ++i) arrays->out.push_back(outputs[i]->array);
    mx::capi::InvokeImpl(name, num_inputs, inputs, num_params, keys, vals, &arrays->in,
                         &arrays->out);
  });
}

MX_API mx_status_t mx_set_training(int32_t is_train, int32_t* out_prev) {
  return Guard([&] {
    if (out_prev != nullptr) *out_prev = mx::capi::tls_is_train ? 1 : 0;
    mx::capi::tls_is_train = is_train != 0;
  });
}

MX_API mx_status_t mx_random_seed(uint64_t seed) {
  return Guard([&] { mx::ResourceManager::Get()->SeedRandom(seed); });
}

}  // extern "C"
