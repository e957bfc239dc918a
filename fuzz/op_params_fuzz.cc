// Fuzzes operator parameters: the strings every binding passes to mx_symbol_create_op and
// mx_op_invoke, parsed by each op's typed parameter struct (dmlc-core fields and our Tuple).
//
// An input is text, one item per line:
//
//   Convolution          the op: a registered name, or else the op its first two bytes pick
//   kernel=(3,3)         parameters, key=value, as a binding passes them
//   num_filter=2
//   @in=(1,1,5,5)        shapes of the op's first inputs, in order (the rest are inferred)
//   @fill=1              input values: 0 small integers, 1 mixed signs, 2 extremes (inf, NaN)
//   @train=1             training mode (dropout, batch norm)
//
// The op is created, composed, saved to JSON and loaded back, its shapes and types inferred from
// the given input shapes; when everything is known and small, it runs imperatively on arrays of
// those shapes and its outputs are read back.
//
// Expected: a bad parameter is MX_ERR_INVALID_ARGUMENT (MX_ERR_NOT_FOUND for an unknown op) with a
// message; a symbol that was created saves and loads; symbolic and imperative shape inference
// agree; running the op either works or fails with a user-facing error, never a crash.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "mx/c_api.h"
#include "op/op.h"

namespace {

using mx_fuzz::Fail;
using mx_fuzz::MustSucceed;
using mx_fuzz::StatusOk;

constexpr size_t kMaxInput = 4096;
constexpr int kMaxInputs = 16;
// Arrays are allocated and computed only when every one is this small, so an input cannot make
// the op run for long or ask for more memory than libFuzzer's limit (a huge shape is not a bug).
constexpr int64_t kMaxElements = 1 << 14;

// The errors a user may see from bad parameters or mismatched inputs.
const std::initializer_list<mx_status_t> kUserErrors = {MX_ERR_INVALID_ARGUMENT, MX_ERR_NOT_FOUND,
                                                        MX_ERR_UNSUPPORTED};

struct Case {
  std::string op;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::vector<int64_t>> shapes;
  int fill = 0;
  int train = 0;
};

std::vector<int64_t> ParseShape(const std::string& s) {
  std::vector<int64_t> dims;
  const char* p = s.c_str();
  while (*p != '\0' && dims.size() < 16) {
    char* end = nullptr;
    const long long v = std::strtoll(p, &end, 10);
    if (end == p) {
      ++p;
      continue;
    }
    dims.push_back(v);
    p = end;
  }
  return dims;
}

Case Parse(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> lines;
  for (size_t at = 0; at <= text.size();) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  Case c;
  c.op = lines[0].c_str();
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const size_t eq = line.find('=');
    if (line.compare(0, 4, "@in=") == 0) {
      c.shapes.push_back(ParseShape(line.substr(4)));
    } else if (line.compare(0, 6, "@fill=") == 0) {
      c.fill = std::atoi(line.c_str() + 6) % 3;
    } else if (line.compare(0, 7, "@train=") == 0) {
      c.train = std::atoi(line.c_str() + 7) != 0;
    } else if (eq != std::string::npos) {
      // The C ABI takes C strings: what follows a NUL byte is not part of the key or value.
      const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
      c.params.emplace_back(key.c_str(), value.c_str());
    }
  }
  return c;
}

// Elements of a shape, or -1 when any is unknown or the product is over kMaxElements.
int64_t SmallSize(int32_t ndim, const int64_t* dims) {
  if (ndim < 0) return -1;
  int64_t n = 1;
  for (int32_t k = 0; k < ndim; ++k) {
    if (dims[k] < 0 || dims[k] > kMaxElements) return -1;
    n *= dims[k];
    if (n > kMaxElements) return -1;
  }
  return n;
}

// Host bytes for `n` elements of `dtype` following the case's value pattern.
std::vector<uint8_t> Values(int32_t dtype, int64_t n, int fill) {
  static const double kFloats[3][6] = {
      {0, 1, 2, 3, 1, 0}, {0.5, -1, 2, -3.25, 0, 7}, {1e30, -1e30, NAN, INFINITY, -0.0, 1e-30}};
  static const int64_t kInts[3][6] = {{0, 1, 2, 3, 1, 0},
                                      {1, -1, 2, -3, 0, 7},
                                      {std::numeric_limits<int32_t>::max(), -1, 255, -128,
                                       std::numeric_limits<int64_t>::min(), 1 << 20}};
  static const uint16_t kHalves[3][6] = {{0x0000, 0x3c00, 0x4000, 0x4200, 0x3c00, 0x0000},
                                         {0x3800, 0xbc00, 0x4000, 0xc280, 0x0000, 0x4700},
                                         {0x7bff, 0xfbff, 0x7e00, 0x7c00, 0x8000, 0x0001}};
  size_t elem = 0;
  MustSucceed(mx_dtype_size(dtype, &elem), "mx_dtype_size");
  std::vector<uint8_t> out(static_cast<size_t>(n) * elem);
  for (int64_t i = 0; i < n; ++i) {
    uint8_t* dst = out.data() + i * elem;
    const double f = kFloats[fill][i % 6];
    const int64_t k = kInts[fill][i % 6];
    switch (dtype) {
      case MX_DTYPE_FLOAT32: {
        const float v = static_cast<float>(f);
        std::memcpy(dst, &v, 4);
        break;
      }
      case MX_DTYPE_FLOAT64:
        std::memcpy(dst, &f, 8);
        break;
      case MX_DTYPE_FLOAT16:
        std::memcpy(dst, &kHalves[fill][i % 6], 2);
        break;
      default:
        // Two's complement truncation to the element's width: well defined for every type.
        std::memcpy(dst, &k, elem);
    }
  }
  return out;
}

struct Handles {
  std::vector<mx_ndarray_t> arrays;
  std::vector<mx_symbol_t> symbols;
  ~Handles() {
    for (mx_ndarray_t a : arrays) mx_ndarray_free(a);
    for (mx_symbol_t s : symbols) mx_symbol_free(s);
  }
};

void SaveAndLoad(mx_symbol_t s) {
  const char* json = nullptr;
  MustSucceed(mx_symbol_to_json(s, &json), "mx_symbol_to_json of a composed op");
  const std::string text = json;
  mx_symbol_t back = nullptr;
  if (mx_symbol_from_json(text.c_str(), &back) != MX_OK)
    Fail(std::string("parameters accepted by mx_symbol_create_op do not load from JSON: ") +
         mx_get_last_error() + "\n" + text);
  mx_symbol_free(back);
}

// Looks up `name` in a list of names; -1 if absent.
int Find(const char* const* names, int32_t n, const std::string& name) {
  for (int32_t i = 0; i < n; ++i) {
    if (name == names[i]) return i;
  }
  return -1;
}

void Run(const Case& c) {
  int32_t num_ops = 0;
  const char* const* ops = nullptr;
  MustSucceed(mx_op_list(&num_ops, &ops), "mx_op_list");
  std::string name = c.op;
  if (Find(ops, num_ops, name) < 0) {
    // Two bytes pick it, so every op stays reachable when there are more than 256.
    uint32_t pick = 0;
    for (size_t i = 0; i < 2 && i < name.size(); ++i)
      pick |= uint32_t{static_cast<uint8_t>(name[i])} << (8 * i);
    name = ops[pick % static_cast<uint32_t>(num_ops)];
  }
  mx_fuzz::Note("op", name);
  mx_op_info_t info;
  info.struct_size = sizeof(info);
  MustSucceed(mx_op_get_info(name.c_str(), &info), "mx_op_get_info");

  std::vector<const char*> keys, vals;
  for (const auto& kv : c.params) {
    keys.push_back(kv.first.c_str());
    vals.push_back(kv.second.c_str());
  }
  const int32_t num_params = static_cast<int32_t>(keys.size());
  Handles h;
  mx_symbol_t sym = nullptr;
  if (!StatusOk(mx_symbol_create_op(name.c_str(), num_params, keys.data(), vals.data(), &sym),
                "mx_symbol_create_op", kUserErrors))
    return;
  h.symbols.push_back(sym);

  // The op's inputs in order, as compose names their variables ("op_data", "op_weight").
  std::vector<std::string> inputs;
  try {
    const mx::Op* op = mx::OpRegistry::Get()->Find(name);
    std::map<std::string, std::string> dict(c.params.begin(), c.params.end());
    for (const std::string& in : op->InputNames(mx::MakeAttrs(op, dict))) inputs.push_back(in);
  } catch (const std::exception& e) {
    Fail(std::string("parameters that mx_symbol_create_op accepted fail again: ") + e.what());
  }
  if (static_cast<int>(inputs.size()) > kMaxInputs) return;
  if (!StatusOk(mx_symbol_compose(sym, "op", 0, nullptr, nullptr), "mx_symbol_compose",
                kUserErrors))
    return;
  SaveAndLoad(sym);

  std::vector<std::string> known_names;
  std::vector<const char*> known_ptrs;
  std::vector<int32_t> known_ndims;
  std::vector<const int64_t*> known_dims;
  for (size_t i = 0; i < c.shapes.size() && i < inputs.size(); ++i) {
    known_names.push_back("op_" + inputs[i]);
    known_ndims.push_back(static_cast<int32_t>(c.shapes[i].size()));
    known_dims.push_back(c.shapes[i].data());
  }
  for (const std::string& n : known_names) known_ptrs.push_back(n.c_str());
  mx_shape_list_t args{}, outs{}, aux{};
  int32_t complete = 0;
  if (!StatusOk(mx_symbol_infer_shape(sym, static_cast<int32_t>(known_ptrs.size()),
                                      known_ptrs.data(), known_ndims.data(), known_dims.data(),
                                      &args, &outs, &aux, &complete),
                "mx_symbol_infer_shape", kUserErrors) ||
      !complete)
    return;
  int32_t num_args = 0, num_aux = 0, num_outs = 0;
  const char **arg_names = nullptr, **aux_names = nullptr, **out_names = nullptr;
  MustSucceed(mx_symbol_list_arguments(sym, &num_args, &arg_names), "mx_symbol_list_arguments");
  MustSucceed(mx_symbol_list_auxiliary_states(sym, &num_aux, &aux_names),
              "mx_symbol_list_auxiliary_states");
  MustSucceed(mx_symbol_list_outputs(sym, &num_outs, &out_names), "mx_symbol_list_outputs");
  if (args.num != num_args || aux.num != num_aux || outs.num != num_outs)
    Fail("mx_symbol_infer_shape: the counts differ from the lists");
  for (int32_t i = 0; i < outs.num; ++i) {
    if (SmallSize(outs.ndims[i], outs.dims[i]) < 0) return;
  }
  mx_dtype_list_t targs{}, touts{}, taux{};
  if (!StatusOk(mx_symbol_infer_type(sym, 0, nullptr, nullptr, &targs, &touts, &taux, &complete),
                "mx_symbol_infer_type", kUserErrors))
    return;

  // One array per op input, with the inferred shape and type.
  for (const std::string& in : inputs) {
    const std::string var = "op_" + in;
    int32_t ndim = -1, dtype = -1;
    const int64_t* dims = nullptr;
    if (const int a = Find(arg_names, num_args, var); a >= 0) {
      ndim = args.ndims[a];
      dims = args.dims[a];
      dtype = targs.dtypes[a];
    } else if (const int x = Find(aux_names, num_aux, var); x >= 0) {
      ndim = aux.ndims[x];
      dims = aux.dims[x];
      dtype = taux.dtypes[x];
    } else {
      Fail("input '" + var + "' is neither an argument nor an auxiliary state");
    }
    const int64_t n = SmallSize(ndim, dims);
    if (n < 0) return;
    if (dtype < 0) dtype = MX_DTYPE_FLOAT32;
    mx_ndarray_t a = nullptr;
    MustSucceed(mx_ndarray_create(dims, ndim, dtype, mx_context_t{MX_CPU, 0}, &a),
                "mx_ndarray_create");
    h.arrays.push_back(a);
    const std::vector<uint8_t> host = Values(dtype, n, c.fill);
    MustSucceed(mx_ndarray_copy_from_host(a, host.data(), host.size()),
                "mx_ndarray_copy_from_host");
  }

  MustSucceed(mx_set_training(c.train, nullptr), "mx_set_training");
  MustSucceed(mx_random_seed(7), "mx_random_seed");
  int32_t num_results = 0;
  mx_ndarray_t* results = nullptr;
  if (!StatusOk(mx_op_invoke(name.c_str(), static_cast<int32_t>(h.arrays.size()), h.arrays.data(),
                             num_params, keys.data(), vals.data(), &num_results, &results),
                "mx_op_invoke", kUserErrors))
    return;
  const std::vector<mx_ndarray_t> owned(results, results + num_results);
  h.arrays.insert(h.arrays.end(), owned.begin(), owned.end());
  if (num_results != outs.num) Fail("mx_op_invoke and mx_symbol_list_outputs differ in number");
  for (int32_t i = 0; i < num_results; ++i) {
    int32_t ndim = -1;
    const int64_t* dims = nullptr;
    MustSucceed(mx_ndarray_get_shape(owned[i], &ndim, &dims), "mx_ndarray_get_shape");
    if (ndim != outs.ndims[i] || !std::equal(dims, dims + ndim, outs.dims[i]))
      Fail("output " + std::to_string(i) + ": imperative and symbolic shapes differ");
    int32_t dtype = -1;
    MustSucceed(mx_ndarray_get_dtype(owned[i], &dtype), "mx_ndarray_get_dtype");
    size_t elem = 0;
    MustSucceed(mx_dtype_size(dtype, &elem), "mx_dtype_size");
    std::vector<uint8_t> host(static_cast<size_t>(SmallSize(ndim, dims)) * elem);
    if (!StatusOk(mx_ndarray_copy_to_host(owned[i], host.data(), host.size()),
                  "reading an output of mx_op_invoke", kUserErrors))
      return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mx_fuzz::UseNaiveEngine();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInput) return 0;
  const std::string text(reinterpret_cast<const char*>(data), size);
  Run(Parse(data, size));
  return 0;
}
