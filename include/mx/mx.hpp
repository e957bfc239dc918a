// libmx's C++ front end: header-only C++17 over the C ABI (include/mx/c_api.h) and nothing else.
//
// Handles are move-only RAII objects, every failing call throws mx::Error carrying the library's
// message, arrays and symbols have operators, and ops are reached generically by name:
//
//   #include <mx/mx.hpp>
//
//   mx::NDArray a = mx::NDArray::FromVector({1, 2, 3, 4}, {2, 2});
//   mx::NDArray b = (a + 1) * a;                       // lazy: returns at once
//   std::vector<float> v = b.ToVector<float>();        // blocks: 2, 6, 12, 20
//
//   mx::Symbol data = mx::Symbol::Variable("data");
//   mx::Symbol fc = mx::Operator("FullyConnected").Set("num_hidden", 10)
//                       .CreateSymbol("fc1", {data});  // arguments: data, fc1_weight, fc1_bias
//   mx::Executor exec = fc.SimpleBind(mx::Context::CPU(), {{"data", {32, 784}}});
//   exec.Forward(false);
//
// The training helpers (iterators, initializers, optimizers, metrics, key-value stores, and
// FeedForward over one context or several) follow the same pattern further down.
#ifndef MX_MX_HPP_
#define MX_MX_HPP_

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "mx/c_api.h"

namespace mx {

// ---- errors ----------------------------------------------------------------------------------

// A failed libmx call: the status code and the library's message.
class Error : public std::runtime_error {
 public:
  Error(mx_status_t status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  mx_status_t status() const { return status_; }

 private:
  mx_status_t status_;
};

// Throws mx::Error if `status` is not MX_OK.
inline void Check(mx_status_t status) {
  if (status != MX_OK) throw Error(status, mx_get_last_error());
}

namespace detail {

// A shared owner of a C handle, released with `Free` (which accepts NULL) when the last copy
// goes. Copies refer to the same library object, as references do in MXNet's Python API.
template <typename T, mx_status_t (*Free)(T)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(T h) : h_(h, [](T p) { Free(p); }) {}
  T get() const { return h_.get(); }
  explicit operator bool() const { return h_ != nullptr; }

 private:
  std::shared_ptr<std::remove_pointer_t<T>> h_;
};

template <typename V>
std::string ToParam(const V& v) {
  std::ostringstream os;
  os << v;
  return os.str();
}
inline std::string ToParam(bool v) { return v ? "true" : "false"; }
inline std::string ToParam(const std::string& v) { return v; }
inline std::string ToParam(const char* v) { return v; }
inline std::string ToParam(const std::vector<int64_t>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + (v.size() == 1 ? ",)" : ")");
}

}  // namespace detail

// ---- devices and types -----------------------------------------------------------------------

struct Context {
  mx_context_t c{MX_CPU, 0};
  static Context CPU(int id = 0) { return Context{{MX_CPU, id}}; }
  static Context GPU(int id = 0) { return Context{{MX_GPU, id}}; }
  static int GpuCount() {
    int32_t n = 0;
    Check(mx_gpu_count(&n));
    return n;
  }
  bool operator==(const Context& o) const {
    return c.device_type == o.c.device_type && c.device_id == o.c.device_id;
  }
  std::string ToString() const {
    char buf[32];
    Check(mx_context_to_string(c, buf, sizeof(buf)));
    return buf;
  }
};

enum class DType : int32_t {
  kFloat32 = MX_DTYPE_FLOAT32,
  kFloat64 = MX_DTYPE_FLOAT64,
  kFloat16 = MX_DTYPE_FLOAT16,
  kUint8 = MX_DTYPE_UINT8,
  kInt32 = MX_DTYPE_INT32,
  kInt8 = MX_DTYPE_INT8,
  kInt64 = MX_DTYPE_INT64,
};

template <typename T>
constexpr DType DTypeOf();
template <>
constexpr DType DTypeOf<float>() {
  return DType::kFloat32;
}
template <>
constexpr DType DTypeOf<double>() {
  return DType::kFloat64;
}
template <>
constexpr DType DTypeOf<uint8_t>() {
  return DType::kUint8;
}
template <>
constexpr DType DTypeOf<int32_t>() {
  return DType::kInt32;
}
template <>
constexpr DType DTypeOf<int8_t>() {
  return DType::kInt8;
}
template <>
constexpr DType DTypeOf<int64_t>() {
  return DType::kInt64;
}

using Shape = std::vector<int64_t>;

// ---- profiler --------------------------------------------------------------------------------
// Records every op the engine runs; dumps a Chrome trace (.json) or a table (.txt):
//
//   mx::profiler::SetState(mx::profiler::State::kRun);
//   ... work ...
//   mx::NDArray::WaitAll();
//   mx::profiler::SetState(mx::profiler::State::kStop);
//   mx::profiler::Dump("profile.json");
namespace profiler {

enum class State : int32_t { kStop = MX_PROFILER_STOP, kRun = MX_PROFILER_RUN };
enum class Format : int32_t {
  kAuto = MX_PROFILER_FORMAT_AUTO,  // by the extension: .json trace, .txt table
  kChromeTrace = MX_PROFILER_FORMAT_CHROME_TRACE,
  kTable = MX_PROFILER_FORMAT_TABLE,
};

inline void SetState(State state) { Check(mx_profiler_set_state(static_cast<int32_t>(state))); }

// `reset`: discard what was written once the file is.
inline void Dump(const std::string& path, Format format = Format::kAuto, bool reset = false) {
  mx_profiler_dump_options_t o;
  Check(mx_profiler_dump_options_default(&o));
  o.format = static_cast<int32_t>(format);
  o.reset = reset ? 1 : 0;
  Check(mx_profiler_dump(path.c_str(), &o));
}

}  // namespace profiler

// ---- arrays ----------------------------------------------------------------------------------

class NDArray {
 public:
  NDArray() = default;
  // Takes ownership of a handle from the C ABI.
  explicit NDArray(mx_ndarray_t h) : h_(h) {}
  NDArray(const Shape& shape, Context ctx = Context::CPU(), DType dtype = DType::kFloat32) {
    mx_ndarray_t h = nullptr;
    Check(mx_ndarray_create(shape.data(), static_cast<int32_t>(shape.size()),
                            static_cast<int32_t>(dtype), ctx.c, &h));
    h_ = Handle(h);
  }
  template <typename T>
  static NDArray FromVector(const std::vector<T>& values, const Shape& shape,
                            Context ctx = Context::CPU()) {
    NDArray a(shape, ctx, DTypeOf<T>());
    a.CopyFrom(values);
    return a;
  }
  // Another handle to the same array (views and aliases share memory).
  NDArray Alias() const {
    mx_ndarray_t h = nullptr;
    Check(mx_ndarray_slice(get(), 0, shape().empty() ? 0 : shape()[0], &h));
    NDArray view(h);
    return shape().empty() ? view : view.Reshape(shape());
  }

  mx_ndarray_t get() const { return h_.get(); }
  bool is_none() const { return !h_; }
  Shape shape() const {
    int32_t ndim = 0;
    const int64_t* dims = nullptr;
    Check(mx_ndarray_get_shape(get(), &ndim, &dims));
    return Shape(dims, dims + ndim);
  }
  int64_t Size() const {
    int64_t n = 1;
    for (int64_t d : shape()) n *= d;
    return n;
  }
  DType dtype() const {
    int32_t t = 0;
    Check(mx_ndarray_get_dtype(get(), &t));
    return static_cast<DType>(t);
  }
  Context context() const {
    Context c;
    Check(mx_ndarray_get_context(get(), &c.c));
    return c;
  }

  // Returns at once: the data is staged.
  template <typename T>
  void CopyFrom(const std::vector<T>& values) {
    Check(mx_ndarray_copy_from_host(get(), values.data(), values.size() * sizeof(T)));
  }
  void CopyFrom(const void* data, size_t bytes) {
    Check(mx_ndarray_copy_from_host(get(), data, bytes));
  }
  // Blocks until the values are computed.
  template <typename T = float>
  std::vector<T> ToVector() const {
    std::vector<T> out(static_cast<size_t>(Size()));
    Check(mx_ndarray_copy_to_host(get(), out.data(), out.size() * sizeof(T)));
    return out;
  }
  void CopyTo(void* data, size_t bytes) const {
    Check(mx_ndarray_copy_to_host(get(), data, bytes));
  }
  // Pushes a copy into `other` (any device; converts types on the host).
  void CopyTo(const NDArray& other) const { Check(mx_ndarray_copy_to(get(), other.get())); }
  NDArray CopyTo(Context ctx) const {
    NDArray out(shape(), ctx, dtype());
    CopyTo(out);
    return out;
  }
  NDArray Slice(int64_t begin, int64_t end) const {
    mx_ndarray_t h = nullptr;
    Check(mx_ndarray_slice(get(), begin, end, &h));
    return NDArray(h);
  }
  NDArray At(int64_t index) const {
    mx_ndarray_t h = nullptr;
    Check(mx_ndarray_at(get(), index, &h));
    return NDArray(h);
  }
  NDArray Reshape(const Shape& s) const {
    mx_ndarray_t h = nullptr;
    Check(mx_ndarray_reshape(get(), s.data(), static_cast<int32_t>(s.size()), &h));
    return NDArray(h);
  }
  void WaitToRead() const { Check(mx_ndarray_wait_to_read(get())); }
  void WaitToWrite() const { Check(mx_ndarray_wait_to_write(get())); }
  static void WaitAll() { Check(mx_engine_wait_all()); }

  // DLPack, zero copy both ways (include <dlpack/dlpack.h> to use the struct's fields). A tensor
  // viewing this array's memory once pending work on it is done; the consumer calls its deleter
  // exactly once, and the memory stays valid until then.
  ::DLManagedTensor* ToDLPack() const {
    ::DLManagedTensor* t = nullptr;
    Check(mx_ndarray_to_dlpack(get(), &t));
    return t;
  }
  // An array viewing `tensor`'s memory, taking it over: its deleter runs once libmx is done with
  // the memory. If this throws, the tensor is still the caller's to release.
  static NDArray FromDLPack(::DLManagedTensor* tensor) {
    mx_ndarray_t h = nullptr;
    Check(mx_ndarray_from_dlpack(tensor, &h));
    return NDArray(h);
  }

  static void Save(const std::string& path, const std::vector<NDArray>& arrays) {
    std::vector<mx_ndarray_t> hs;
    for (const auto& a : arrays) hs.push_back(a.get());
    Check(mx_ndarray_save(path.c_str(), static_cast<int32_t>(hs.size()), hs.data(), nullptr));
  }
  static void Save(const std::string& path, const std::map<std::string, NDArray>& arrays) {
    std::vector<mx_ndarray_t> hs;
    std::vector<const char*> names;
    for (const auto& kv : arrays) {
      names.push_back(kv.first.c_str());
      hs.push_back(kv.second.get());
    }
    Check(mx_ndarray_save(path.c_str(), static_cast<int32_t>(hs.size()), hs.data(), names.data()));
  }
  // Loads a file; names are empty for a list.
  static std::vector<std::pair<std::string, NDArray>> Load(const std::string& path) {
    int32_t n = 0;
    mx_ndarray_t* hs = nullptr;
    const char** names = nullptr;
    Check(mx_ndarray_load(path.c_str(), &n, &hs, &names));
    std::vector<std::pair<std::string, NDArray>> out;
    for (int32_t i = 0; i < n; ++i) {
      out.emplace_back(names ? names[i] : "", NDArray(hs[i]));
    }
    return out;
  }

 private:
  using Handle = detail::Handle<mx_ndarray_t, mx_ndarray_free>;
  Handle h_;
};

class Symbol;

// ---- operators by name -----------------------------------------------------------------------

// Builds a call of a registered operator: parameters by name, then Invoke on arrays or
// CreateSymbol on symbols.
class Operator {
 public:
  explicit Operator(std::string name) : name_(std::move(name)) {}
  template <typename V>
  Operator& Set(const std::string& key, const V& value) {
    keys_.push_back(key);
    vals_.push_back(detail::ToParam(value));
    return *this;
  }
  std::vector<NDArray> Invoke(const std::vector<NDArray>& inputs) const {
    std::vector<mx_ndarray_t> in;
    for (const auto& a : inputs) in.push_back(a.get());
    std::vector<const char*> k, v;
    CStrings(&k, &v);
    int32_t n = 0;
    mx_ndarray_t* outs = nullptr;
    Check(mx_op_invoke(name_.c_str(), static_cast<int32_t>(in.size()), in.data(),
                       static_cast<int32_t>(k.size()), k.data(), v.data(), &n, &outs));
    std::vector<NDArray> result;
    for (int32_t i = 0; i < n; ++i) result.emplace_back(outs[i]);
    return result;
  }
  void InvokeInto(const std::vector<NDArray>& inputs, const std::vector<NDArray>& outputs) const {
    std::vector<mx_ndarray_t> in, out;
    for (const auto& a : inputs) in.push_back(a.get());
    for (const auto& a : outputs) out.push_back(a.get());
    std::vector<const char*> k, v;
    CStrings(&k, &v);
    Check(mx_op_invoke_into(name_.c_str(), static_cast<int32_t>(in.size()), in.data(),
                            static_cast<int32_t>(k.size()), k.data(), v.data(),
                            static_cast<int32_t>(out.size()), out.data()));
  }
  // A symbol of this op on positional inputs (missing ones become "<name>_<input>" variables);
  // an empty name is chosen by the library ("fullyconnected0").
  inline Symbol CreateSymbol(const std::string& name, const std::vector<Symbol>& inputs) const;
  // Inputs by name ("data", "weight", ...).
  inline Symbol CreateSymbolByName(const std::string& name,
                                   const std::map<std::string, Symbol>& inputs) const;

 private:
  void CStrings(std::vector<const char*>* k, std::vector<const char*>* v) const {
    for (size_t i = 0; i < keys_.size(); ++i) {
      k->push_back(keys_[i].c_str());
      v->push_back(vals_[i].c_str());
    }
  }
  std::string name_;
  std::vector<std::string> keys_, vals_;
};

inline NDArray operator+(const NDArray& a, const NDArray& b) {
  return Operator("elemwise_add").Invoke({a, b})[0];
}
inline NDArray operator-(const NDArray& a, const NDArray& b) {
  return Operator("elemwise_sub").Invoke({a, b})[0];
}
inline NDArray operator*(const NDArray& a, const NDArray& b) {
  return Operator("elemwise_mul").Invoke({a, b})[0];
}
inline NDArray operator/(const NDArray& a, const NDArray& b) {
  return Operator("elemwise_div").Invoke({a, b})[0];
}
inline NDArray operator+(const NDArray& a, double s) {
  return Operator("_plus_scalar").Set("scalar", s).Invoke({a})[0];
}
inline NDArray operator-(const NDArray& a, double s) {
  return Operator("_minus_scalar").Set("scalar", s).Invoke({a})[0];
}
inline NDArray operator*(const NDArray& a, double s) {
  return Operator("_mul_scalar").Set("scalar", s).Invoke({a})[0];
}
inline NDArray operator/(const NDArray& a, double s) {
  return Operator("_div_scalar").Set("scalar", s).Invoke({a})[0];
}
inline NDArray operator+(double s, const NDArray& a) { return a + s; }
inline NDArray operator*(double s, const NDArray& a) { return a * s; }
inline NDArray operator-(double s, const NDArray& a) {
  return Operator("_rminus_scalar").Set("scalar", s).Invoke({a})[0];
}
inline NDArray operator/(double s, const NDArray& a) {
  return Operator("_rdiv_scalar").Set("scalar", s).Invoke({a})[0];
}
inline NDArray operator-(const NDArray& a) { return Operator("negative").Invoke({a})[0]; }
inline NDArray& operator+=(NDArray& a, const NDArray& b) {
  Operator("elemwise_add").InvokeInto({a, b}, {a});
  return a;
}
inline NDArray& operator-=(NDArray& a, const NDArray& b) {
  Operator("elemwise_sub").InvokeInto({a, b}, {a});
  return a;
}
inline NDArray& operator*=(NDArray& a, const NDArray& b) {
  Operator("elemwise_mul").InvokeInto({a, b}, {a});
  return a;
}
inline NDArray& operator/=(NDArray& a, const NDArray& b) {
  Operator("elemwise_div").InvokeInto({a, b}, {a});
  return a;
}
inline NDArray& operator+=(NDArray& a, double s) {
  Operator("_plus_scalar").Set("scalar", s).InvokeInto({a}, {a});
  return a;
}
inline NDArray& operator*=(NDArray& a, double s) {
  Operator("_mul_scalar").Set("scalar", s).InvokeInto({a}, {a});
  return a;
}

// ---- symbols ---------------------------------------------------------------------------------

class Executor;

class Symbol {
 public:
  Symbol() = default;
  explicit Symbol(mx_symbol_t h) : h_(h) {}
  static Symbol Variable(const std::string& name) {
    mx_symbol_t h = nullptr;
    Check(mx_symbol_create_variable(name.c_str(), &h));
    return Symbol(h);
  }
  static Symbol Group(const std::vector<Symbol>& symbols) {
    std::vector<mx_symbol_t> hs;
    for (const auto& s : symbols) hs.push_back(s.get());
    mx_symbol_t h = nullptr;
    Check(mx_symbol_group(static_cast<int32_t>(hs.size()), hs.data(), &h));
    return Symbol(h);
  }
  static Symbol FromJSON(const std::string& json) {
    mx_symbol_t h = nullptr;
    Check(mx_symbol_from_json(json.c_str(), &h));
    return Symbol(h);
  }
  static Symbol Load(const std::string& path) {
    mx_symbol_t h = nullptr;
    Check(mx_symbol_load(path.c_str(), &h));
    return Symbol(h);
  }

  mx_symbol_t get() const { return h_.get(); }
  Symbol Copy() const {
    mx_symbol_t h = nullptr;
    Check(mx_symbol_copy(get(), &h));
    return Symbol(h);
  }
  std::string name() const {
    const char* n = nullptr;
    Check(mx_symbol_get_name(get(), &n));
    return n ? n : "";
  }
  std::vector<std::string> ListArguments() const { return List(mx_symbol_list_arguments); }
  std::vector<std::string> ListOutputs() const { return List(mx_symbol_list_outputs); }
  std::vector<std::string> ListAuxiliaryStates() const {
    return List(mx_symbol_list_auxiliary_states);
  }
  Symbol operator[](int index) const {
    mx_symbol_t h = nullptr;
    Check(mx_symbol_get_output(get(), index, &h));
    return Symbol(h);
  }
  Symbol operator[](const std::string& output_name) const {
    mx_symbol_t h = nullptr;
    Check(mx_symbol_get_output_by_name(get(), output_name.c_str(), &h));
    return Symbol(h);
  }
  Symbol GetInternals() const {
    mx_symbol_t h = nullptr;
    Check(mx_symbol_get_internals(get(), &h));
    return Symbol(h);
  }
  void SetAttr(const std::string& key, const std::string& value) {
    Check(mx_symbol_set_attr(get(), key.c_str(), value.c_str()));
  }
  std::string ToJSON() const {
    const char* json = nullptr;
    Check(mx_symbol_to_json(get(), &json));
    return json;
  }
  void Save(const std::string& path) const { Check(mx_symbol_save(get(), path.c_str())); }

  // Shapes of arguments, outputs and auxiliary states from some input shapes, which may be
  // partial (a 0 dim is unknown, as in MXNet): InferShape throws mx::Error naming what stays
  // unknown; InferShapePartial returns what it could infer, with `complete` saying whether that is
  // everything (unknown dims are -1, an unknown shape has no dims).
  //
  //   auto s = net.InferShapePartial({{"data", {0, 784}}});   // batch size unknown
  //   // s.args[1] (fc1_weight) == {128, 784}, s.outputs[0] == {-1, 10}
  struct Shapes {
    std::vector<Shape> args, outputs, aux;
    bool complete = false;
  };
  Shapes InferShape(const std::map<std::string, Shape>& known) const { return Infer(known, true); }
  Shapes InferShapePartial(const std::map<std::string, Shape>& known) const {
    return Infer(known, false);
  }

  inline Executor SimpleBind(Context ctx, const std::map<std::string, Shape>& shapes,
                             int32_t grad_req = MX_GRAD_WRITE,
                             const Executor* shared = nullptr) const;

 private:
  Shapes Infer(const std::map<std::string, Shape>& known, bool strict) const {
    std::vector<const char*> names;
    std::vector<int32_t> ndims;
    std::vector<const int64_t*> dims;
    for (const auto& kv : known) {
      names.push_back(kv.first.c_str());
      ndims.push_back(static_cast<int32_t>(kv.second.size()));
      dims.push_back(kv.second.data());
    }
    mx_shape_list_t a, o, x;
    int32_t complete = 0;
    Check(mx_symbol_infer_shape(get(), static_cast<int32_t>(names.size()), names.data(),
                                ndims.data(), dims.data(), &a, &o, &x,
                                strict ? nullptr : &complete));
    Shapes s;
    s.args = ToShapes(a);
    s.outputs = ToShapes(o);
    s.aux = ToShapes(x);
    s.complete = strict || complete != 0;
    return s;
  }
  using ListFn = mx_status_t (*)(mx_symbol_t, int32_t*, const char***);
  std::vector<std::string> List(ListFn fn) const {
    int32_t n = 0;
    const char** names = nullptr;
    Check(fn(get(), &n, &names));
    return std::vector<std::string>(names, names + n);
  }
  static std::vector<Shape> ToShapes(const mx_shape_list_t& l) {
    std::vector<Shape> out;
    for (int32_t i = 0; i < l.num; ++i) {
      out.push_back(l.ndims[i] < 0 ? Shape{} : Shape(l.dims[i], l.dims[i] + l.ndims[i]));
    }
    return out;
  }
  detail::Handle<mx_symbol_t, mx_symbol_free> h_;
};

inline Symbol Operator::CreateSymbol(const std::string& name,
                                     const std::vector<Symbol>& inputs) const {
  std::vector<const char*> k, v;
  CStrings(&k, &v);
  mx_symbol_t h = nullptr;
  Check(mx_symbol_create_op(name_.c_str(), static_cast<int32_t>(k.size()), k.data(), v.data(), &h));
  Symbol s(h);
  std::vector<mx_symbol_t> in;
  for (const auto& i : inputs) in.push_back(i.get());
  Check(mx_symbol_compose(s.get(), name.empty() ? nullptr : name.c_str(),
                          static_cast<int32_t>(in.size()), nullptr, in.data()));
  return s;
}

inline Symbol Operator::CreateSymbolByName(const std::string& name,
                                           const std::map<std::string, Symbol>& inputs) const {
  std::vector<const char*> k, v;
  CStrings(&k, &v);
  mx_symbol_t h = nullptr;
  Check(mx_symbol_create_op(name_.c_str(), static_cast<int32_t>(k.size()), k.data(), v.data(), &h));
  Symbol s(h);
  std::vector<const char*> keys;
  std::vector<mx_symbol_t> in;
  for (const auto& kv : inputs) {
    keys.push_back(kv.first.c_str());
    in.push_back(kv.second.get());
  }
  Check(mx_symbol_compose(s.get(), name.empty() ? nullptr : name.c_str(),
                          static_cast<int32_t>(in.size()), keys.data(), in.data()));
  return s;
}

inline Symbol operator+(const Symbol& a, const Symbol& b) {
  return Operator("elemwise_add").CreateSymbol("", {a, b});
}
inline Symbol operator-(const Symbol& a, const Symbol& b) {
  return Operator("elemwise_sub").CreateSymbol("", {a, b});
}
inline Symbol operator*(const Symbol& a, const Symbol& b) {
  return Operator("elemwise_mul").CreateSymbol("", {a, b});
}
inline Symbol operator/(const Symbol& a, const Symbol& b) {
  return Operator("elemwise_div").CreateSymbol("", {a, b});
}
inline Symbol operator+(const Symbol& a, double s) {
  return Operator("_plus_scalar").Set("scalar", s).CreateSymbol("", {a});
}
inline Symbol operator-(const Symbol& a, double s) {
  return Operator("_minus_scalar").Set("scalar", s).CreateSymbol("", {a});
}
inline Symbol operator*(const Symbol& a, double s) {
  return Operator("_mul_scalar").Set("scalar", s).CreateSymbol("", {a});
}
inline Symbol operator/(const Symbol& a, double s) {
  return Operator("_div_scalar").Set("scalar", s).CreateSymbol("", {a});
}

// Hand-written helpers for the layers every network uses (any op: mx::Operator).
inline Symbol FullyConnected(const std::string& name, const Symbol& data, int num_hidden) {
  return Operator("FullyConnected").Set("num_hidden", num_hidden).CreateSymbol(name, {data});
}
inline Symbol Activation(const std::string& name, const Symbol& data, const std::string& act) {
  return Operator("Activation").Set("act_type", act).CreateSymbol(name, {data});
}
inline Symbol SoftmaxOutput(const std::string& name, const Symbol& data) {
  return Operator("SoftmaxOutput").CreateSymbol(name, {data});
}
// 2-D convolution with a square `kernel`, `stride` and `pad`.
inline Symbol Convolution(const std::string& name, const Symbol& data, int kernel, int num_filter,
                          int stride = 1, int pad = 0, bool no_bias = false) {
  return Operator("Convolution")
      .Set("kernel", std::vector<int64_t>{kernel, kernel})
      .Set("stride", std::vector<int64_t>{stride, stride})
      .Set("pad", std::vector<int64_t>{pad, pad})
      .Set("num_filter", num_filter)
      .Set("no_bias", no_bias)
      .CreateSymbol(name, {data});
}
// 2-D pooling ("max", "avg", "sum") over square windows; kernel 0 pools the whole plane.
inline Symbol Pooling(const std::string& name, const Symbol& data, int kernel, int stride,
                      const std::string& pool_type = "max") {
  Operator op("Pooling");
  op.Set("pool_type", pool_type);
  if (kernel == 0) {
    op.Set("global_pool", true);
  } else {
    op.Set("kernel", std::vector<int64_t>{kernel, kernel})
        .Set("stride", std::vector<int64_t>{stride, stride});
  }
  return op.CreateSymbol(name, {data});
}
// Batch normalisation with a learned scale (fix_gamma=false, as convolutional nets use it).
inline Symbol BatchNorm(const std::string& name, const Symbol& data, double momentum = 0.9) {
  return Operator("BatchNorm")
      .Set("fix_gamma", false)
      .Set("momentum", momentum)
      .CreateSymbol(name, {data});
}
inline Symbol Dropout(const std::string& name, const Symbol& data, double p) {
  return Operator("Dropout").Set("p", p).CreateSymbol(name, {data});
}
inline Symbol Flatten(const std::string& name, const Symbol& data) {
  return Operator("Flatten").CreateSymbol(name, {data});
}

// ---- executors -------------------------------------------------------------------------------

class Executor {
 public:
  explicit Executor(mx_executor_t h) : h_(h) {}
  mx_executor_t get() const { return h_.get(); }

  void Forward(bool is_train) { Check(mx_executor_forward(get(), is_train ? 1 : 0)); }
  void Backward(const std::vector<NDArray>& head_grads = {}) {
    std::vector<mx_ndarray_t> hs;
    for (const auto& a : head_grads) hs.push_back(a.get());
    Check(mx_executor_backward(get(), static_cast<int32_t>(hs.size()), hs.data()));
  }
  std::vector<NDArray> Outputs() const { return Arrays(MX_EXEC_OUTPUTS).second; }
  std::vector<NDArray> ArgArrays() const { return Arrays(MX_EXEC_ARGS).second; }
  // A none NDArray where an argument has no gradient.
  std::vector<NDArray> GradArrays() const { return Arrays(MX_EXEC_GRADS).second; }
  std::vector<NDArray> AuxArrays() const { return Arrays(MX_EXEC_AUX).second; }
  std::map<std::string, NDArray> ArgDict() const { return Dict(MX_EXEC_ARGS); }
  std::map<std::string, NDArray> GradDict() const { return Dict(MX_EXEC_GRADS); }
  std::map<std::string, NDArray> AuxDict() const { return Dict(MX_EXEC_AUX); }
  std::pair<uint64_t, uint64_t> Memory() const {
    uint64_t planned = 0, naive = 0;
    Check(mx_executor_get_memory(get(), &planned, &naive));
    return {planned, naive};
  }

 private:
  std::pair<std::vector<std::string>, std::vector<NDArray>> Arrays(int32_t kind) const {
    int32_t n = 0;
    const char* const* names = nullptr;
    mx_ndarray_t* hs = nullptr;
    Check(mx_executor_get_arrays(get(), kind, &n, &names, &hs));
    std::pair<std::vector<std::string>, std::vector<NDArray>> out;
    for (int32_t i = 0; i < n; ++i) {
      out.first.emplace_back(names[i]);
      out.second.emplace_back(hs[i]);
    }
    return out;
  }
  std::map<std::string, NDArray> Dict(int32_t kind) const {
    auto arrays = Arrays(kind);
    std::map<std::string, NDArray> d;
    for (size_t i = 0; i < arrays.first.size(); ++i) {
      d.emplace(arrays.first[i], std::move(arrays.second[i]));
    }
    return d;
  }
  detail::Handle<mx_executor_t, mx_executor_free> h_;
};

inline Executor Symbol::SimpleBind(Context ctx, const std::map<std::string, Shape>& shapes,
                                   int32_t grad_req, const Executor* shared) const {
  std::vector<const char*> names;
  std::vector<int32_t> ndims;
  std::vector<const int64_t*> dims;
  for (const auto& kv : shapes) {
    names.push_back(kv.first.c_str());
    ndims.push_back(static_cast<int32_t>(kv.second.size()));
    dims.push_back(kv.second.data());
  }
  mx_simple_bind_options_t o;
  Check(mx_simple_bind_options_default(&o));
  o.ctx = ctx.c;
  o.num_shapes = static_cast<int32_t>(names.size());
  o.shape_names = names.data();
  o.shape_ndims = ndims.data();
  o.shapes = dims.data();
  o.grad_req = grad_req;
  o.shared_exec = shared ? shared->get() : nullptr;
  mx_executor_t h = nullptr;
  Check(mx_executor_simple_bind(get(), &o, &h));
  return Executor(h);
}

// ---- data iterators --------------------------------------------------------------------------

// A batch iterator: Next() makes the next batch current; Data()/Label() return the caller's own
// arrays of that batch, whose contents the iterator never changes afterwards: a batch may be kept
// past Next()/Reset() and past the iterator itself. Its memory is reused for later batches once
// every NDArray of it is gone (see mx_data_iter_get_data).
class DataIter {
 public:
  explicit DataIter(mx_data_iter_t h) : h_(h) {}
  // MNIST-format IDX files, gzip'ed or plain: "DIR/train-images-idx3-ubyte" reads that file or,
  // when it does not exist, the .gz beside it (see mx_data_iter_create_mnist). num_parts /
  // part_index: only that part of the file (one per distributed worker).
  static DataIter MNIST(const std::string& images, const std::string& labels, int64_t batch_size,
                        bool shuffle = true, bool flat = true, uint64_t seed = 0,
                        int32_t last_batch = MX_LAST_BATCH_PAD, int32_t num_parts = 1,
                        int32_t part_index = 0) {
    mx_data_iter_mnist_options_t o;
    std::memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.image_path = images.c_str();
    o.label_path = labels.c_str();
    o.batch_size = batch_size;
    o.shuffle = shuffle ? 1 : 0;
    o.flat = flat ? 1 : 0;
    o.seed = seed;
    o.last_batch_handle = last_batch;
    o.num_parts = num_parts;
    o.part_index = part_index;
    mx_data_iter_t h = nullptr;
    Check(mx_data_iter_create_mnist(&o, &h));
    return DataIter(h);
  }
  // Host float buffers (copied in); `label` may be empty.
  static DataIter FromHost(const std::vector<float>& data, const Shape& data_shape,
                           const std::vector<float>& label, const Shape& label_shape,
                           int64_t batch_size, bool shuffle = false, uint64_t seed = 0,
                           int32_t last_batch = MX_LAST_BATCH_PAD) {
    mx_data_iter_ndarray_options_t o;
    std::memset(&o, 0, sizeof(o));
    o.struct_size = sizeof(o);
    o.data = data.data();
    o.data_shape = data_shape.data();
    o.data_ndim = static_cast<int32_t>(data_shape.size());
    if (!label.empty()) {
      o.label = label.data();
      o.label_shape = label_shape.data();
      o.label_ndim = static_cast<int32_t>(label_shape.size());
    }
    o.batch_size = batch_size;
    o.shuffle = shuffle ? 1 : 0;
    o.seed = seed;
    o.last_batch_handle = last_batch;
    mx_data_iter_t h = nullptr;
    Check(mx_data_iter_create_ndarray(&o, &h));
    return DataIter(h);
  }

  mx_data_iter_t get() const { return h_.get(); }
  void Reset() { Check(mx_data_iter_reset(get())); }
  bool Next() {
    int32_t has = 0;
    Check(mx_data_iter_next(get(), &has));
    return has != 0;
  }
  NDArray Data() const {
    mx_ndarray_t h = nullptr;
    Check(mx_data_iter_get_data(get(), &h));
    return NDArray(h);
  }
  NDArray Label() const {
    mx_ndarray_t h = nullptr;
    Check(mx_data_iter_get_label(get(), &h));
    return NDArray(h);
  }
  int64_t Pad() const {
    int64_t pad = 0;
    Check(mx_data_iter_get_pad(get(), &pad));
    return pad;
  }
  Shape DataShape() const { return Shapes().first; }
  Shape LabelShape() const { return Shapes().second; }

 private:
  std::pair<Shape, Shape> Shapes() const {
    int32_t dn = 0, ln = 0;
    const int64_t *dd = nullptr, *ld = nullptr;
    Check(mx_data_iter_get_shapes(get(), &dn, &dd, &ln, &ld));
    return {Shape(dd, dd + dn), ld ? Shape(ld, ld + ln) : Shape{}};
  }
  detail::Handle<mx_data_iter_t, mx_data_iter_free> h_;
};

// ---- initializers, optimizers, metrics -------------------------------------------------------

namespace detail {
struct Params {
  std::vector<std::string> keys, vals;
  std::vector<const char*> k, v;
  explicit Params(const std::map<std::string, std::string>& p) {
    for (const auto& kv : p) {
      keys.push_back(kv.first);
      vals.push_back(kv.second);
    }
    for (size_t i = 0; i < keys.size(); ++i) {
      k.push_back(keys[i].c_str());
      v.push_back(vals[i].c_str());
    }
  }
  int32_t n() const { return static_cast<int32_t>(k.size()); }
};
}  // namespace detail

class Initializer {
 public:
  explicit Initializer(const std::string& name,
                       const std::map<std::string, std::string>& params = {}) {
    detail::Params p(params);
    mx_initializer_t h = nullptr;
    Check(mx_initializer_create(name.c_str(), p.n(), p.k.data(), p.v.data(), &h));
    h_ = decltype(h_)(h);
  }
  // Fills `array` by the rule its argument name selects (weights, biases, gammas, ...).
  void Apply(const std::string& arg_name, const NDArray& array) const {
    Check(mx_initializer_apply(h_.get(), arg_name.c_str(), array.get()));
  }

 private:
  detail::Handle<mx_initializer_t, mx_initializer_free> h_;
};

class Optimizer {
 public:
  explicit Optimizer(const std::string& name,
                     const std::map<std::string, std::string>& params = {}) {
    detail::Params p(params);
    mx_optimizer_t h = nullptr;
    Check(mx_optimizer_create(name.c_str(), p.n(), p.k.data(), p.v.data(), &h));
    h_ = decltype(h_)(h);
  }
  void SetArgNames(const std::vector<std::string>& names) {
    std::vector<int32_t> idx;
    std::vector<const char*> n;
    for (size_t i = 0; i < names.size(); ++i) {
      idx.push_back(static_cast<int32_t>(i));
      n.push_back(names[i].c_str());
    }
    Check(
        mx_optimizer_set_arg_names(h_.get(), static_cast<int32_t>(n.size()), idx.data(), n.data()));
  }
  // Pushes the update of argument `index` (lazy).
  void Update(int index, const NDArray& weight, const NDArray& grad) {
    Check(mx_optimizer_update(h_.get(), index, weight.get(), grad.get()));
  }
  double LearningRate() const {
    double lr = 0;
    Check(mx_optimizer_get_learning_rate(h_.get(), &lr));
    return lr;
  }
  mx_optimizer_t get() const { return h_.get(); }

 private:
  detail::Handle<mx_optimizer_t, mx_optimizer_free> h_;
};

class Metric {
 public:
  explicit Metric(const std::string& name = "acc",
                  const std::map<std::string, std::string>& params = {}) {
    detail::Params p(params);
    mx_metric_t h = nullptr;
    Check(mx_metric_create(name.c_str(), p.n(), p.k.data(), p.v.data(), &h));
    h_ = decltype(h_)(h);
  }
  void Update(const NDArray& label, const NDArray& pred) {
    mx_ndarray_t l = label.get(), p = pred.get();
    Check(mx_metric_update(h_.get(), 1, &l, &p));
  }
  std::pair<std::string, double> Get() const {
    const char* name = nullptr;
    double value = 0;
    Check(mx_metric_get(h_.get(), &name, &value));
    return {name, value};
  }
  void Reset() { Check(mx_metric_reset(h_.get())); }

 private:
  detail::Handle<mx_metric_t, mx_metric_free> h_;
};

// ---- key-value stores ------------------------------------------------------------------------

// Parameter synchronisation for data parallelism (MXNet's KVStore; mx_kvstore_* in c_api.h). Each
// key holds one array. Push sums every value given for a key in one call (the gradients of several
// devices), then runs the store's optimizer on the stored value with that sum as the gradient (or
// stores the sum when it has none); Pull copies the stored value into every output given. Both
// return at once: the work runs on the engine after the work already pushed on the arrays.
//
//   mx::KVStore kv("local");                         // or "device"; "dist_sync" needs MPI
//   kv.Init("fc1_weight", w);                        // stores a copy
//   kv.SetOptimizer(mx::Optimizer("sgd", {{"learning_rate", "0.1"}}));
//   kv.Push("fc1_weight", {grad_dev0, grad_dev1});   // summed, then one SGD step
//   kv.Pull("fc1_weight", {w_dev0, w_dev1});         // both devices get the new weight
//
// Pushing many keys in one call (a key repeated once per device) lets the store handle them
// together; FeedForward does so. Copies refer to the same store; use it from one thread at a time.
class KVStore {
 public:
  // "local" sums on the CPU, "device" where each key was initialised; the dist_* types
  // synchronise processes and are MX_ERR_UNSUPPORTED in a libmx built without MPI.
  explicit KVStore(const std::string& type) {
    mx_kvstore_t h = nullptr;
    Check(mx_kvstore_create(type.c_str(), &h));
    h_ = decltype(h_)(h);
  }
  mx_kvstore_t get() const { return h_.get(); }
  std::string type() const {
    const char* t = nullptr;
    Check(mx_kvstore_get_type(get(), &t));
    return t;
  }
  // This process's rank among the store's workers, and their number (0 and 1 in one process).
  int rank() const {
    int32_t r = 0;
    Check(mx_kvstore_get_rank(get(), &r));
    return r;
  }
  int num_workers() const {
    int32_t n = 0;
    Check(mx_kvstore_get_num_workers(get(), &n));
    return n;
  }

  // Stores a copy of each value under its key; a key initialised before is an error.
  void Init(const std::string& key, const NDArray& value) {
    Init(std::vector<std::string>{key}, std::vector<NDArray>{value});
  }
  void Init(const std::vector<std::string>& keys, const std::vector<NDArray>& values) {
    Call(mx_kvstore_init, keys, values);
  }
  // The sum of `values` updates `key` once.
  void Push(const std::string& key, const std::vector<NDArray>& values, int priority = 0) {
    Push(std::vector<std::string>(values.size(), key), values, priority);
  }
  // keys[i] gets values[i]; the values of a key that appears several times are summed.
  void Push(const std::vector<std::string>& keys, const std::vector<NDArray>& values,
            int priority = 0) {
    Call(mx_kvstore_push, keys, values, priority);
  }
  // Every output receives the value of `key`.
  void Pull(const std::string& key, const std::vector<NDArray>& outs, int priority = 0) const {
    Pull(std::vector<std::string>(outs.size(), key), outs, priority);
  }
  void Pull(const std::vector<std::string>& keys, const std::vector<NDArray>& outs,
            int priority = 0) const {
    Call(mx_kvstore_pull, keys, outs, priority);
  }
  // Braced key lists ({"a", "b"}) land here: std::string's iterator-pair constructor would make
  // them ambiguous between the two forms above.
  void Init(std::initializer_list<std::string> keys, const std::vector<NDArray>& values) {
    Init(std::vector<std::string>(keys), values);
  }
  void Push(std::initializer_list<std::string> keys, const std::vector<NDArray>& values,
            int priority = 0) {
    Push(std::vector<std::string>(keys), values, priority);
  }
  void Pull(std::initializer_list<std::string> keys, const std::vector<NDArray>& outs,
            int priority = 0) const {
    Pull(std::vector<std::string>(keys), outs, priority);
  }
  // Pushes update with `optimizer` from now on. The store shares it: `optimizer` may go away.
  // Keys that are not integers are the optimizer's argument names (lr_mult, wd_mult and the
  // no-decay rule for biases apply by name).
  void SetOptimizer(const Optimizer& optimizer) {
    Check(mx_kvstore_set_optimizer(get(), optimizer.get()));
  }

 private:
  // One C call over parallel key and array lists: it takes one count for both, so they must agree.
  template <typename Fn, typename... Extra>
  void Call(Fn fn, const std::vector<std::string>& keys, const std::vector<NDArray>& arrays,
            Extra... extra) const {
    if (keys.size() != arrays.size()) {
      throw Error(MX_ERR_INVALID_ARGUMENT, "KVStore: " + std::to_string(keys.size()) +
                                               " keys but " + std::to_string(arrays.size()) +
                                               " arrays");
    }
    std::vector<const char*> k;
    std::vector<mx_ndarray_t> a;
    for (size_t i = 0; i < keys.size(); ++i) {
      k.push_back(keys[i].c_str());
      a.push_back(arrays[i].get());
    }
    Check(fn(get(), static_cast<int32_t>(k.size()), k.data(), a.data(), extra...));
  }
  detail::Handle<mx_kvstore_t, mx_kvstore_free> h_;
};

// ---- FeedForward: fit / predict / score / save / load ------------------------------------------

// The classic MXNet model: a symbol whose first argument is the data ("data") and whose label
// argument ends in "label"; everything else is a parameter, initialized by name.
//
// Data parallelism: with several contexts, Fit binds one executor per context on its share of
// every batch and sums their gradients through a KVStore, which runs the optimizer once per step
// and hands the new weights back to every executor. It trains as one context on the whole batch
// does, up to the order of float additions:
//
//   mx::FeedForward::Options o;
//   o.contexts = {mx::Context::CPU(0), mx::Context::CPU(1)};
//   o.work_load = {3, 1};      // optional: cpu(0) takes 3/4 of each batch
//   o.kvstore = "device";      // sum where the first executor's weights live (default "local")
//   mx::FeedForward(net, o).Fit(train, &test, acc);
class FeedForward {
 public:
  struct Options {
    Context ctx = Context::CPU();  // the context, unless `contexts` names several
    int num_epoch = 10;
    std::string optimizer = "sgd";
    std::map<std::string, std::string> optimizer_params = {{"learning_rate", "0.1"}};
    std::string initializer = "xavier";
    std::map<std::string, std::string> initializer_params = {};
    uint64_t seed = 0;
    int frequent = 50;    // speedometer period in batches (0: none)
    bool verbose = true;  // epoch summaries (train metric, time, validation metric)
    // Training contexts, one executor each (empty: `ctx` alone). Score and Predict use the first.
    std::vector<Context> contexts = {};
    // Each context's share of a batch, proportional to these positive weights (empty: equal).
    std::vector<int> work_load = {};
    // The KVStore type ("local", "device", "dist_sync", ...). Fit synchronises through it with
    // several contexts or a dist_* type; one context otherwise updates its weights directly.
    std::string kvstore = "local";
  };
  // Called after every batch and every epoch.
  using BatchCallback = std::function<void(int epoch, int batch, const Metric& metric)>;
  using EpochCallback = std::function<void(int epoch, const FeedForward& model)>;

  FeedForward(Symbol symbol, Options options) : symbol_(std::move(symbol)), opt_(options) {}

  void Fit(DataIter& train, DataIter* eval, Metric& metric, const BatchCallback& on_batch = {},
           const EpochCallback& on_epoch = {}) {
    Check(mx_random_seed(opt_.seed));
    const Shape data_shape = train.DataShape(), label_shape = train.LabelShape();
    const int64_t batch = data_shape.at(0);
    const std::vector<Context> ctxs = Contexts();
    const std::vector<std::pair<int64_t, int64_t>> slices = Split(batch, ctxs);
    // Created even when one context does without it, so a bad type is an error either way.
    KVStore kv(opt_.kvstore);
    const bool use_kv = ctxs.size() > 1 || opt_.kvstore.rfind("dist", 0) == 0;
    const size_t ndev = ctxs.size();

    FindInputs();
    std::vector<Executor> execs;
    std::vector<std::vector<NDArray>> args(ndev), grads(ndev), aux(ndev);
    for (size_t k = 0; k < ndev; ++k) {
      const int64_t n = slices[k].second - slices[k].first;
      execs.push_back(
          Bind(ctxs[k], WithBatch(data_shape, n), WithBatch(label_shape, n), MX_GRAD_WRITE));
      args[k] = execs[k].ArgArrays();
      grads[k] = execs[k].GradArrays();
      aux[k] = execs[k].AuxArrays();
    }
    const std::vector<std::string> names = symbol_.ListArguments();
    InitParams(names, args[0], symbol_.ListAuxiliaryStates(), aux[0]);

    // Every worker of a distributed store sees `batch` samples a step, and the store sums all
    // of their gradients: the mean over the global batch needs both factors.
    const int workers = use_kv ? kv.num_workers() : 1;
    auto params = opt_.optimizer_params;
    params["rescale_grad"] = detail::ToParam(1.0 / (static_cast<double>(batch) * workers));
    Optimizer optimizer(opt_.optimizer, params);
    // The store's lists: each parameter once per context, so one Push sums every context's
    // gradient of every key and one Pull hands the new weights to every executor.
    std::vector<std::string> keys;
    std::vector<NDArray> dev_grads, dev_weights;
    if (use_kv) {
      std::vector<std::string> param_names;
      std::vector<NDArray> first;
      for (size_t i = 0; i < names.size(); ++i) {
        if (grads[0][i].is_none()) continue;
        // From the first executor's copy: a "device" store keeps each key where it comes from.
        param_names.push_back(names[i]);
        first.push_back(args[0][i]);
        for (size_t k = 0; k < ndev; ++k) {
          keys.push_back(names[i]);
          dev_grads.push_back(grads[k][i]);
          dev_weights.push_back(args[k][i]);
        }
      }
      kv.Init(param_names, first);
      kv.SetOptimizer(optimizer);
      // Every executor starts from the store's value (a distributed store's is one worker's).
      kv.Pull(keys, dev_weights);
      for (size_t k = 1; k < ndev; ++k) {
        for (size_t j = 0; j < aux[k].size(); ++j) aux[0][j].CopyTo(aux[k][j]);
      }
    } else {
      optimizer.SetArgNames(names);
    }

    train_seconds_ = 0;
    for (int epoch = 0; epoch < opt_.num_epoch; ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      auto tick = start;
      metric.Reset();
      train.Reset();
      int nbatch = 0;
      while (train.Next()) {
        const NDArray data = train.Data(), label = train.Label();
        for (size_t k = 0; k < ndev; ++k) {
          if (ndev == 1) {
            data.CopyTo(args[k][data_idx_]);
            label.CopyTo(args[k][label_idx_]);
          } else {
            data.Slice(slices[k].first, slices[k].second).CopyTo(args[k][data_idx_]);
            label.Slice(slices[k].first, slices[k].second).CopyTo(args[k][label_idx_]);
          }
        }
        for (Executor& exec : execs) {
          exec.Forward(true);
          exec.Backward();
        }
        if (use_kv) {
          kv.Push(keys, dev_grads);
          kv.Pull(keys, dev_weights);
        } else {
          for (size_t i = 0; i < names.size(); ++i) {
            if (!grads[0][i].is_none()) {
              optimizer.Update(static_cast<int>(i), args[0][i], grads[0][i]);
            }
          }
        }
        for (size_t k = 0; k < ndev; ++k) metric.Update(args[k][label_idx_], execs[k].Outputs()[0]);
        ++nbatch;
        if (on_batch) on_batch(epoch, nbatch, metric);
        if (opt_.frequent > 0 && nbatch % opt_.frequent == 0) {
          const auto now = std::chrono::steady_clock::now();
          const double secs = std::chrono::duration<double>(now - tick).count();
          tick = now;
          const auto m = metric.Get();
          std::printf("Epoch[%d] Batch[%d] Speed: %.0f samples/s %s=%.4f\n", epoch, nbatch,
                      opt_.frequent * batch / secs, m.first.c_str(), m.second);
        }
      }
      NDArray::WaitAll();
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      train_seconds_ += secs;
      const auto m = metric.Get();
      if (opt_.verbose) {
        std::printf("Epoch[%d] Train-%s=%.4f Time cost=%.2f s (%.0f samples/s)\n", epoch,
                    m.first.c_str(), m.second, secs, nbatch * batch / secs);
      }
      Capture(execs);
      if (eval != nullptr) {
        const double score = Score(*eval, metric);
        if (opt_.verbose) {
          std::printf("Epoch[%d] Validation-%s=%.4f\n", epoch, metric.Get().first.c_str(), score);
        }
      }
      if (on_epoch) on_epoch(epoch, *this);
      std::fflush(stdout);
    }
  }

  // The metric over one pass of `data` (padding excluded), on the first context.
  double Score(DataIter& data, Metric& metric) {
    Executor exec = Bind(data, MX_GRAD_NULL);
    LoadInto(exec);
    std::vector<NDArray> args = exec.ArgArrays();
    metric.Reset();
    data.Reset();
    while (data.Next()) {
      data.Data().CopyTo(args[data_idx_]);
      exec.Forward(false);
      const int64_t keep = data.DataShape().at(0) - data.Pad();
      metric.Update(data.Label().Slice(0, keep), exec.Outputs()[0].Slice(0, keep));
    }
    return metric.Get().second;
  }

  // The first output for every sample of one pass of `data` (padding excluded), row-major; on
  // the first context.
  std::vector<float> Predict(DataIter& data) {
    Executor exec = Bind(data, MX_GRAD_NULL);
    LoadInto(exec);
    std::vector<NDArray> args = exec.ArgArrays();
    std::vector<float> out;
    data.Reset();
    while (data.Next()) {
      data.Data().CopyTo(args[data_idx_]);
      exec.Forward(false);
      const int64_t keep = data.DataShape().at(0) - data.Pad();
      std::vector<float> rows = exec.Outputs()[0].Slice(0, keep).ToVector<float>();
      out.insert(out.end(), rows.begin(), rows.end());
    }
    return out;
  }

  // prefix-symbol.json and prefix-%04d.params (arg:<name>, aux:<name>).
  void Save(const std::string& prefix, int epoch) const {
    symbol_.Save(prefix + "-symbol.json");
    std::map<std::string, NDArray> all;
    for (const auto& kv : arg_params_) all.emplace("arg:" + kv.first, kv.second.Alias());
    for (const auto& kv : aux_params_) all.emplace("aux:" + kv.first, kv.second.Alias());
    char suffix[32];
    std::snprintf(suffix, sizeof(suffix), "-%04d.params", epoch);
    NDArray::Save(prefix + suffix, all);
  }
  static FeedForward Load(const std::string& prefix, int epoch, Options options) {
    FeedForward model(Symbol::Load(prefix + "-symbol.json"), options);
    char suffix[32];
    std::snprintf(suffix, sizeof(suffix), "-%04d.params", epoch);
    for (auto& kv : NDArray::Load(prefix + suffix)) {
      const std::string& key = kv.first;
      if (key.rfind("arg:", 0) == 0) model.arg_params_.emplace(key.substr(4), std::move(kv.second));
      if (key.rfind("aux:", 0) == 0) model.aux_params_.emplace(key.substr(4), std::move(kv.second));
    }
    return model;
  }
  const std::map<std::string, NDArray>& arg_params() const { return arg_params_; }
  // Seconds the last Fit spent in its training passes (the sum of the epochs' "Time cost"):
  // binding, initialisation and evaluation excluded.
  double train_seconds() const { return train_seconds_; }
  const std::map<std::string, NDArray>& aux_params() const { return aux_params_; }
  const Symbol& symbol() const { return symbol_; }

 private:
  std::vector<Context> Contexts() const {
    return opt_.contexts.empty() ? std::vector<Context>{opt_.ctx} : opt_.contexts;
  }
  // [begin, end) of each context's share of a batch of `batch`, proportional to the work loads,
  // with the bounds rounded as the Python binding's _split rounds them (to nearest, ties to
  // even), so the same settings split a batch the same way in both front ends.
  std::vector<std::pair<int64_t, int64_t>> Split(int64_t batch,
                                                 const std::vector<Context>& ctxs) const {
    const std::vector<int> load =
        opt_.work_load.empty() ? std::vector<int>(ctxs.size(), 1) : opt_.work_load;
    auto what = [&] {
      std::string s = "a batch of " + std::to_string(batch) + " over " +
                      std::to_string(ctxs.size()) + " context" + (ctxs.size() == 1 ? "" : "s") +
                      " (";
      for (size_t k = 0; k < ctxs.size(); ++k) s += (k ? ", " : "") + ctxs[k].ToString();
      s += ") with work loads [";
      for (size_t k = 0; k < load.size(); ++k) s += (k ? "," : "") + std::to_string(load[k]);
      return s + "]";
    };
    if (load.size() != ctxs.size()) {
      throw Error(MX_ERR_INVALID_ARGUMENT,
                  "FeedForward: " + what() + ": one work load per context is needed");
    }
    double total = 0;
    for (int w : load) {
      if (w <= 0) {
        throw Error(MX_ERR_INVALID_ARGUMENT,
                    "FeedForward: " + what() + ": work loads must be positive");
      }
      total += w;
    }
    std::vector<std::pair<int64_t, int64_t>> slices;
    double acc = 0;
    int64_t begin = 0;
    for (int w : load) {
      acc += w;
      const auto end =
          static_cast<int64_t>(std::nearbyint(static_cast<double>(batch) * acc / total));
      if (end <= begin) {
        throw Error(
            MX_ERR_INVALID_ARGUMENT,
            "FeedForward: " + what() + " cannot be split: every context needs at least one sample");
      }
      slices.emplace_back(begin, end);
      begin = end;
    }
    return slices;
  }
  // `shape` with its first (batch) dimension set to `n`; an empty shape (no label) stays empty.
  static Shape WithBatch(Shape shape, int64_t n) {
    if (!shape.empty()) shape[0] = n;
    return shape;
  }
  // Finds the data and label arguments by name.
  void FindInputs() {
    const std::vector<std::string> names = symbol_.ListArguments();
    data_idx_ = label_idx_ = -1;
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == "data") data_idx_ = static_cast<int>(i);
      const std::string& n = names[i];
      if (label_idx_ < 0 && n.size() >= 5 && n.compare(n.size() - 5, 5, "label") == 0) {
        label_idx_ = static_cast<int>(i);
      }
    }
    if (data_idx_ < 0 || label_idx_ < 0) {
      throw Error(MX_ERR_INVALID_ARGUMENT, "FeedForward needs arguments named 'data' and '*label'");
    }
  }
  // An executor on the first context for `data`'s batches (scoring, prediction).
  Executor Bind(DataIter& data, int32_t grad_req) {
    FindInputs();
    return Bind(Contexts()[0], data.DataShape(), data.LabelShape(), grad_req);
  }
  // Inputs get no gradient; FindInputs has run.
  Executor Bind(Context ctx, const Shape& data_shape, const Shape& label_shape, int32_t grad_req) {
    const std::vector<std::string> names = symbol_.ListArguments();
    std::map<std::string, Shape> shapes{{"data", data_shape}, {names[label_idx_], label_shape}};
    std::vector<const char*> cn;
    std::vector<int32_t> nd;
    std::vector<const int64_t*> dims;
    for (const auto& kv : shapes) {
      cn.push_back(kv.first.c_str());
      nd.push_back(static_cast<int32_t>(kv.second.size()));
      dims.push_back(kv.second.data());
    }
    const char* no_grad[2] = {"data", names[label_idx_].c_str()};
    int32_t null_reqs[2] = {MX_GRAD_NULL, MX_GRAD_NULL};
    mx_simple_bind_options_t o;
    Check(mx_simple_bind_options_default(&o));
    o.ctx = ctx.c;
    o.num_shapes = static_cast<int32_t>(cn.size());
    o.shape_names = cn.data();
    o.shape_ndims = nd.data();
    o.shapes = dims.data();
    o.grad_req = grad_req;
    o.num_grad_reqs = 2;
    o.grad_req_names = no_grad;
    o.grad_reqs = null_reqs;
    mx_executor_t h = nullptr;
    Check(mx_executor_simple_bind(symbol_.get(), &o, &h));
    return Executor(h);
  }
  void InitParams(const std::vector<std::string>& names, const std::vector<NDArray>& args,
                  const std::vector<std::string>& aux_names, const std::vector<NDArray>& aux) {
    Initializer init(opt_.initializer, opt_.initializer_params);
    for (size_t i = 0; i < names.size(); ++i) {
      if (static_cast<int>(i) == data_idx_ || static_cast<int>(i) == label_idx_) continue;
      auto it = arg_params_.find(names[i]);
      if (it != arg_params_.end()) {
        it->second.CopyTo(args[i]);
      } else {
        init.Apply(names[i], args[i]);
      }
    }
    for (size_t i = 0; i < aux_names.size(); ++i) {
      auto it = aux_params_.find(aux_names[i]);
      if (it != aux_params_.end()) {
        it->second.CopyTo(aux[i]);
      } else {
        init.Apply(aux_names[i], aux[i]);
      }
    }
  }
  // Keeps copies of the trained parameters (checkpoints, prediction executors): the arguments
  // of the first executor (the store keeps them equal) and the auxiliary states averaged over the
  // executors (each one's batch-norm statistics saw only its share of the batches).
  void Capture(const std::vector<Executor>& execs) {
    const std::vector<std::string> names = symbol_.ListArguments();
    const std::vector<NDArray> args = execs[0].ArgArrays();
    for (size_t i = 0; i < names.size(); ++i) {
      if (static_cast<int>(i) == data_idx_ || static_cast<int>(i) == label_idx_) continue;
      arg_params_[names[i]] = args[i].CopyTo(Context::CPU());
    }
    const std::vector<std::string> aux_names = symbol_.ListAuxiliaryStates();
    std::vector<std::vector<NDArray>> aux;
    for (const Executor& exec : execs) aux.push_back(exec.AuxArrays());
    for (size_t i = 0; i < aux_names.size(); ++i) {
      NDArray total = aux[0][i].CopyTo(Context::CPU());
      for (size_t k = 1; k < execs.size(); ++k) total += aux[k][i].CopyTo(Context::CPU());
      aux_params_[aux_names[i]] =
          execs.size() > 1 ? total / static_cast<double>(execs.size()) : total;
    }
  }
  void LoadInto(const Executor& exec) {
    const std::vector<std::string> names = symbol_.ListArguments();
    const std::vector<NDArray> args = exec.ArgArrays();
    for (size_t i = 0; i < names.size(); ++i) {
      auto it = arg_params_.find(names[i]);
      if (it != arg_params_.end()) it->second.CopyTo(args[i]);
    }
    const std::vector<std::string> aux_names = symbol_.ListAuxiliaryStates();
    const std::vector<NDArray> aux = exec.AuxArrays();
    for (size_t i = 0; i < aux_names.size(); ++i) {
      auto it = aux_params_.find(aux_names[i]);
      if (it != aux_params_.end()) it->second.CopyTo(aux[i]);
    }
  }

  Symbol symbol_;
  Options opt_;
  std::map<std::string, NDArray> arg_params_, aux_params_;
  double train_seconds_ = 0;
  int data_idx_ = -1, label_idx_ = -1;
};

// ---- prediction: one model, many threads ------------------------------------------------------

// A trained model loaded for serving (see the Prediction section of c_api.h). Copies share it;
// it never changes, so any number of threads may create Predictors from it at once.
//
//   mx::Model model = mx::Model::Load("lenet-symbol.json", "lenet-0010.params");
//   // on each thread:
//   mx::Predictor p(model, {{"data", {1, 1, 28, 28}}});
//   p.SetInput("data", pixels);
//   p.Forward();
//   std::vector<float> scores = p.Output(0);
class Model {
 public:
  static Model Load(const std::string& symbol_path, const std::string& param_path,
                    Context ctx = Context::CPU()) {
    mx_model_t h = nullptr;
    Check(mx_model_load(symbol_path.c_str(), param_path.c_str(), ctx.c, &h));
    return Model(h);
  }
  static Model FromMemory(const std::string& symbol_json, const std::string& param_bytes,
                          Context ctx = Context::CPU()) {
    mx_model_t h = nullptr;
    Check(mx_model_create(symbol_json.c_str(), param_bytes.data(), param_bytes.size(), ctx.c, &h));
    return Model(h);
  }
  mx_model_t get() const { return h_.get(); }

 private:
  explicit Model(mx_model_t h) : h_(h) {}
  detail::Handle<mx_model_t, mx_model_free> h_;
};

// One thread's inference executor over a Model: its own inputs and outputs, the model's weights.
// Move-only; use it from one thread at a time.
class Predictor {
 public:
  Predictor(const Model& model, const std::map<std::string, Shape>& inputs) {
    Shapes s(inputs);
    mx_predictor_t h = nullptr;
    Check(mx_predictor_create(model.get(), s.num(), s.names.data(), s.ndims.data(), s.dims.data(),
                              &h));
    h_.reset(h);
  }
  // New input shapes (a batch size), the same weights.
  void Reshape(const std::map<std::string, Shape>& inputs) {
    Shapes s(inputs);
    Check(mx_predictor_reshape(h_.get(), s.num(), s.names.data(), s.ndims.data(), s.dims.data()));
  }
  void SetInput(const std::string& name, const std::vector<float>& values) {
    Check(mx_predictor_set_input(h_.get(), name.c_str(), values.data(), values.size()));
  }
  void Forward() { Check(mx_predictor_forward(h_.get())); }
  size_t NumOutputs() const {
    int32_t n = 0;
    Check(mx_predictor_get_num_outputs(h_.get(), &n));
    return static_cast<size_t>(n);
  }
  Shape OutputShape(size_t i) const {
    int32_t nd = 0;
    const int64_t* dims = nullptr;
    Check(mx_predictor_get_output_shape(h_.get(), static_cast<int32_t>(i), &nd, &dims));
    return Shape(dims, dims + nd);
  }
  // Waits for the forward pass.
  std::vector<float> Output(size_t i) const {
    const Shape s = OutputShape(i);
    size_t n = 1;
    for (int64_t d : s) n *= static_cast<size_t>(d);
    std::vector<float> out(n);
    Check(mx_predictor_get_output(h_.get(), static_cast<int32_t>(i), out.data(), n));
    return out;
  }

 private:
  struct Shapes {
    std::vector<const char*> names;
    std::vector<int32_t> ndims;
    std::vector<const int64_t*> dims;
    explicit Shapes(const std::map<std::string, Shape>& m) {
      for (const auto& kv : m) {
        names.push_back(kv.first.c_str());
        ndims.push_back(static_cast<int32_t>(kv.second.size()));
        dims.push_back(kv.second.data());
      }
    }
    int32_t num() const { return static_cast<int32_t>(names.size()); }
  };
  struct Free {
    void operator()(mx_predictor_t p) const { mx_predictor_free(p); }
  };
  std::unique_ptr<mx_predictor, Free> h_;
};

}  // namespace mx

#endif  // MX_MX_HPP_
