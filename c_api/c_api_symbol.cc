// C ABI: symbols (create, compose, structure, listing, attributes, JSON and files).
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/file.h"
#include "c_api/c_api_common.h"
#include "c_api/c_api_handles.h"

using mx::Symbol;
using mx::capi::CheckArg;
using mx::capi::CheckOut;
using mx::capi::Guard;
using mx::capi::NewHandle;
using mx::capi::SymbolOf;

namespace mx {
namespace capi {
namespace {

// Strings handed out until the thread's next call to the same function: one slot per function,
// so a list from mx_symbol_list_arguments survives a call to mx_symbol_list_outputs.
struct StringList {
  std::vector<std::string> strings;
  std::vector<const char*> ptrs;

  const char** Set(std::vector<std::string> s) {
    strings = std::move(s);
    ptrs.clear();
    for (const std::string& x : strings) ptrs.push_back(x.c_str());
    ptrs.push_back(nullptr);  // never a NULL data() for an empty list
    return ptrs.data();
  }
};

thread_local StringList tls_arguments, tls_outputs, tls_aux, tls_attr_keys, tls_attr_values;
thread_local std::string tls_name, tls_attr, tls_json;

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

std::vector<Symbol> SymbolsOf(const mx_symbol_t* handles, int32_t n, const char* arg) {
  MX_CHECK(n >= 0, kInvalidArgument) << "argument '" << arg << "': negative count " << n;
  MX_CHECK(n == 0 || handles != nullptr, kInvalidArgument)
      << "argument '" << arg << "' must not be NULL when its count is " << n;
  std::vector<Symbol> out;
  out.reserve(n);
  for (int32_t i = 0; i < n; ++i) {
    const std::string name = std::string(arg) + "[" + std::to_string(i) + "]";
    out.push_back(SymbolOf(handles[i], name.c_str()));
  }
  return out;
}

void ListNames(mx_symbol_t h, std::vector<std::string> (Symbol::*list)() const, StringList* slot,
               int32_t* out_num, const char*** out_names) {
  const Symbol& s = SymbolOf(h, "symbol");
  CheckOut(out_num, "out_num");
  CheckOut(out_names, "out_names");
  std::vector<std::string> names = (s.*list)();
  *out_num = static_cast<int32_t>(names.size());
  *out_names = slot->Set(std::move(names));
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace
}  // namespace capi
}  // namespace mx

extern "C" {

MX_API mx_status_t mx_symbol_create_variable(const char* name, mx_symbol_t* out_symbol) {
  return Guard([&] {
    CheckArg(name, "name");
    CheckOut(out_symbol, "out_symbol");
    *out_symbol = NewHandle(Symbol::Variable(name));
  });
}

MX_API mx_status_t mx_symbol_create_op(const char* op_name, int32_t num_params,
                                       const char* const* keys, const char* const* vals,
                                       mx_symbol_t* out_symbol) {
  return Guard([&] {
    CheckArg(op_name, "op_name");
    CheckOut(out_symbol, "out_symbol");
    const auto params = mx::capi::ParamsOf(num_params, keys, vals);
    *out_symbol = NewHandle(Symbol::CreateOp(op_name, params));
  });
}

MX_API mx_status_t mx_symbol_compose(mx_symbol_t symbol, const char* name, int32_t num_args,
                                     const char* const* keys, const mx_symbol_t* args) {
  return Guard([&] {
    Symbol& s = SymbolOf(symbol, "symbol");
    std::vector<Symbol> inputs = mx::capi::SymbolsOf(args, num_args, "args");
    std::vector<Symbol> positional;
    std::map<std::string, Symbol> named;
    if (keys == nullptr) {
      positional = std::move(inputs);
    } else {
      for (int32_t i = 0; i < num_args; ++i) {
        MX_CHECK(keys[i] != nullptr, kInvalidArgument) << "keys[" << i << "] is NULL";
        MX_CHECK(named.emplace(keys[i], inputs[i]).second, kInvalidArgument)
            << "compose: input '" << keys[i] << "' is given twice";
      }
    }
    // Compose on a copy of the handle's output list: a failure leaves the symbol unchanged.
    // (An atomic op's node is changed in place, but only after every check has passed.)
    Symbol result = s;
    result.Compose(positional, named, name == nullptr ? std::string() : std::string(name));
    s = std::move(result);
  });
}

MX_API mx_status_t mx_symbol_copy(mx_symbol_t symbol, mx_symbol_t* out_symbol) {
  return Guard([&] {
    const Symbol& s = SymbolOf(symbol, "symbol");
    CheckOut(out_symbol, "out_symbol");
    *out_symbol = NewHandle(s.Copy());
  });
}

MX_API mx_status_t mx_symbol_group(int32_t num, const mx_symbol_t* symbols,
                                   mx_symbol_t* out_symbol) {
  return Guard([&] {
    const std::vector<Symbol> parts = mx::capi::SymbolsOf(symbols, num, "symbols");
    CheckOut(out_symbol, "out_symbol");
    *out_symbol = NewHandle(Symbol::Group(parts));
  });
}

MX_API mx_status_t mx_symbol_get_internals(mx_symbol_t symbol, mx_symbol_t* out_symbol) {
  return Guard([&] {
    const Symbol& s = SymbolOf(symbol, "symbol");
    CheckOut(out_symbol, "out_symbol");
    *out_symbol = NewHandle(s.GetInternals());
  });
}

MX_API mx_status_t mx_symbol_get_children(mx_symbol_t symbol, mx_symbol_t* out_symbol) {
  return Guard([&] {
    const Symbol& s = SymbolOf(symbol, "symbol");
    CheckOut(out_symbol, "out_symbol");
    *out_symbol = NewHandle(s.GetChildren());
  });
}

MX_API mx_status_t mx_symbol_get_output(mx_symbol_t symbol, int32_t index,
                                        mx_symbol_t* out_symbol) {
  return Guard([&] {
    const Symbol& s = SymbolOf(symbol, "symbol");
    CheckOut(out_symbol, "out_symbol");
    MX_CHECK(index >= 0, kInvalidArgument)
        << "output index " << index << " is out of range: the symbol has " << s.NumOutputs()
        << " outputs";
    *out_symbol = NewHandle(s[static_cast<size_t>(index)]);
  });
}

MX_API mx_status_t mx_symbol_get_output_by_name(mx_symbol_t symbol, const char* name,
                                                mx_symbol_t* out_symbol) {
  return Guard([&] {
    const Symbol& s = SymbolOf(symbol, "symbol");
    CheckArg(name, "name");
    CheckOut(out_symbol, "out_symbol");
    const std::vector<std::string> names = s.ListOutputs();
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] != name) continue;
      *out_symbol = NewHandle(s[i]);
      return;
    }
    MX_THROW(kNotFound) << "the symbol has no output named '" << name
                        << "'; its outputs are: " << mx::capi::Join(names);
  });
}

MX_API mx_status_t mx_symbol_get_num_outputs(mx_symbol_t symbol, int32_t* out_num) {
  return Guard([&] {
    const Symbol& s = SymbolOf(symbol, "symbol");
    CheckOut(out_num, "out_num");
    *out_num = static_cast<int32_t>(s.NumOutputs());
  });
}

MX_API mx_status_t mx_symbol_get_name(mx_symbol_t symbol, const char** out_name) {
  return Guard([&] {
    const Symbol& s = SymbolOf(symbol, "symbol");
    CheckOut(out_name, "out_name");
    mx::capi::tls_name = s.name();
    *out_name = mx::capi::tls_name.c_str();
  });
}

MX_API mx_status_t mx_symbol_list_arguments(mx_symbol_t symbol, int32_t* out_num,
                                            const char*** out_names) {
  return Guard([&] {
    mx::capi::ListNames(symbol, &Symbol::ListArguments, &mx::capi::tls_arguments, out_num,
                        out_names);
  });
}

MX_API mx_status_t mx_symbol_list_outputs(mx_symbol_t symbol, int32_t* out_num,
                                          const char*** out_names) {
  return Guard([&] {
    mx::capi::ListNames(symbol, &Symbol::ListOutputs, &mx::capi::tls_outputs, out_num, out_names);
  });
}

MX_API mx_status_t mx_symbol_list_auxiliary_states(mx_symbol_t symbol, int32_t* out_num,
                                                   const char*** out_names) {
  return Guard([&] {
    mx::capi::ListNames(symbol, &Symbol::ListAuxiliaryStates, &mx::capi::tls_aux, out_num,
                        out_names);
  });
}

MX_API mx_status_t mx_symbol_set_attr(mx_symbol_t symbol, const char* key, const char* value) {
  return Guard([&] {
    Symbol& s = SymbolOf(symbol, "symbol");
    CheckArg(key, "key");
    CheckArg(value, "value");
    MX_CHECK(key[0] != '\0', kInvalidArgument) << "argument 'key' must not be empty";
    s.SetAttr(key, value);
  });
}

MX_API mx_status_t mx_symbol_get_attr(mx_symbol_t symbol, const char* key, const char** out_value,
                                      int32_t* out_found) {
  return Guard([&] {
    const Symbol& s = SymbolOf(symbol, "symbol");
    CheckArg(key, "key");
    CheckOut(out_value, "out_value");
    CheckOut(out_found, "out_found");
    std::string value;
    const bool found = s.GetAttr(key, &value);
    mx::capi::tls_attr = std::move(value);
    *out_value = found ? mx::capi::tls_attr.c_str() : nullptr;
    *out_found = found ? 1 : 0;
  });
}

MX_API mx_status_t mx_symbol_list_attrs(mx_symbol_t symbol, int32_t recursive, int32_t* out_num,
                                        const char*** out_keys, const char*** out_values) {
  return Guard([&] {
    const Symbol& s = SymbolOf(symbol, "symbol");
    CheckOut(out_num, "out_num");
    CheckOut(out_keys, "out_keys");
    CheckOut(out_values, "out_values");
    std::vector<std::string> keys, values;
    if (recursive != 0) {
      for (const auto& [node, attrs] : s.ListAttrs()) {
        for (const auto& kv : attrs) {
          keys.push_back(node + "$" + kv.first);
          values.push_back(kv.second);
        }
      }
    } else if (s.NumOutputs() == 1) {
      const mx::Node& n = *s.outputs[0].node;
      std::map<std::string, std::string> all = n.user_attrs;
      all.insert(n.attrs.dict.begin(), n.attrs.dict.end());
      for (const auto& kv : all) {
        keys.push_back(kv.first);
        values.push_back(kv.second);
      }
    }
    *out_num = static_cast<int32_t>(keys.size());
    *out_keys = mx::capi::tls_attr_keys.Set(std::move(keys));
    *out_values = mx::capi::tls_attr_values.Set(std::move(values));
  });
}

MX_API mx_status_t mx_symbol_to_json(mx_symbol_t symbol, const char** out_json) {
  return Guard([&] {
    const Symbol& s = SymbolOf(symbol, "symbol");
    CheckOut(out_json, "out_json");
    mx::capi::tls_json = s.ToJSON();
    *out_json = mx::capi::tls_json.c_str();
  });
}

MX_API mx_status_t mx_symbol_from_json(const char* json, mx_symbol_t* out_symbol) {
  return Guard([&] {
    CheckArg(json, "json");
    CheckOut(out_symbol, "out_symbol");
    *out_symbol = NewHandle(Symbol::FromJSON(json));
  });
}

MX_API mx_status_t mx_symbol_save(mx_symbol_t symbol, const char* path) {
  return Guard([&] {
    const Symbol& s = SymbolOf(symbol, "symbol");
    CheckArg(path, "path");
    const std::string json = s.ToJSON();
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    MX_CHECK(f.is_open(), kIO) << "cannot open '" << path
                               << "' for writing: " << std::strerror(errno);
    f.write(json.data(), static_cast<std::streamsize>(json.size()));
    f.close();
    MX_CHECK(!f.fail(), kIO) << "cannot write '" << path << "': " << std::strerror(errno);
  });
}

MX_API mx_status_t mx_symbol_load(const char* path, mx_symbol_t* out_symbol) {
  return Guard([&] {
    CheckArg(path, "path");
    CheckOut(out_symbol, "out_symbol");
    // Regular files only, read to their size: a device or FIFO path must not hang the caller.
    const std::string text = mx::ReadRegularFile(path);
    try {
      *out_symbol = NewHandle(Symbol::FromJSON(text));
    } catch (const mx::Error& e) {
      MX_THROW(kIO) << "'" << path << "' is not a valid symbol file: " << e.what();
    }
  });
}

MX_API mx_status_t mx_symbol_free(mx_symbol_t symbol) {
  return Guard([&] {
    if (symbol == nullptr) return;
    SymbolOf(symbol, "symbol");  // a dead or foreign handle is an error, not a double free
    delete symbol;
  });
}

}  // extern "C"
