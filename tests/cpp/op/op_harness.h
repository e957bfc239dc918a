// The op test harness: a tiny case per op, checked against a float64 reference, float32 against
// float64, and (for differentiable ops) the registered gradient graph against central finite
// differences in float64.
//
//   MX_OP_CASES(elemwise_unary) {
//     return {OpCase("exp", {Shape{3, 4}}).Ref([](const Vals& x) { return Map1(x[0], ::exp); })};
//   }
//
// Every case registered with MX_OP_CASES runs in OpCases.All; the registry self-test
// (registry_test.cc) fails when a registered op has no case.
#ifndef MX_TESTS_CPP_OP_OP_HARNESS_H_
#define MX_TESTS_CPP_OP_OP_HARNESS_H_

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "base/shape.h"
#include "ndarray/ndarray.h"
#include "op/op.h"

namespace mx {
namespace test {

using Vals = std::vector<std::vector<double>>;  // one flat vector per input or output

struct OpCase {
  std::string op;
  std::map<std::string, std::string> params;
  std::vector<Shape> in_shapes;
  // Inputs are uniform in [lo, hi] unless `init` fills input i itself (labels, indices, ...).
  double lo = -1.0, hi = 1.0;
  std::function<void(int input, std::vector<double>* values)> init;
  // float64 reference of the outputs from the inputs; optional (float32 vs float64 is always
  // compared).
  std::function<Vals(const Vals& in)> reference;
  bool check_grad = true;
  // Inputs whose gradient is checked (default: all).
  std::vector<int> grad_inputs;
  bool is_train = true;
  double fwd_rtol = 1e-5, fwd_atol = 1e-6;    // float32 vs reference
  double grad_rtol = 1e-4, grad_atol = 1e-6;  // analytic vs numeric, in float64
  double fd_eps = 1e-6;
  // The dtypes compared; float32 first is the reference check.
  bool test_float32 = true;
  // Outputs checked against finite differences (default: all). Loss ops whose gradient is not
  // the derivative of their output (SoftmaxOutput) set check_grad = false and test their
  // backward with `grad_reference`.
  std::function<Vals(const Vals& in, const Vals& ograds)> grad_reference;

  OpCase(std::string op_name, std::vector<Shape> shapes, std::map<std::string, std::string> p = {})
      : op(std::move(op_name)), params(std::move(p)), in_shapes(std::move(shapes)) {}
  OpCase& Ref(std::function<Vals(const Vals&)> f) {
    reference = std::move(f);
    return *this;
  }
  OpCase& Range(double l, double h) {
    lo = l;
    hi = h;
    return *this;
  }
  OpCase& Init(std::function<void(int, std::vector<double>*)> f) {
    init = std::move(f);
    return *this;
  }
  OpCase& NoGrad() {
    check_grad = false;
    return *this;
  }
  OpCase& GradInputs(std::vector<int> idx) {
    grad_inputs = std::move(idx);
    return *this;
  }
  OpCase& Tol(double rtol, double atol) {
    fwd_rtol = rtol;
    fwd_atol = atol;
    return *this;
  }
  OpCase& GradTol(double rtol, double atol) {
    grad_rtol = rtol;
    grad_atol = atol;
    return *this;
  }
  OpCase& GradRef(std::function<Vals(const Vals&, const Vals&)> f) {
    grad_reference = std::move(f);
    return *this;
  }
  std::string Describe() const;
};

std::vector<OpCase>& AllCases();

struct CaseRegistrar {
  explicit CaseRegistrar(std::vector<OpCase> (*fn)()) {
    for (auto& c : fn()) AllCases().push_back(std::move(c));
  }
};

#define MX_OP_CASES(family)                                             \
  static std::vector<::mx::test::OpCase> family##_cases();              \
  static ::mx::test::CaseRegistrar family##_registrar(&family##_cases); \
  static std::vector<::mx::test::OpCase> family##_cases()

// ---- helpers for references ----
std::vector<double> Map1(const std::vector<double>& x, const std::function<double(double)>& f);
std::vector<double> Map2(const std::vector<double>& a, const std::vector<double>& b,
                         const std::function<double(double, double)>& f);

// ---- running ops ----
NDArray MakeArray(const Shape& shape, const std::vector<double>& values,
                  DType dtype = DType::kFloat64, Context ctx = Context::CPU());
std::vector<double> ToVector(const NDArray& a);
// Runs `op` imperatively and returns its outputs as float64 vectors.
std::vector<NDArray> RunOp(const std::string& op, const std::map<std::string, std::string>& params,
                           const std::vector<NDArray>& inputs, bool is_train = true);
// Evaluates the registered gradient graph of one op call: returns one array per input (empty
// NDArray for a zero gradient).
std::vector<NDArray> EvalGradient(const std::string& op,
                                  const std::map<std::string, std::string>& params,
                                  const std::vector<NDArray>& inputs,
                                  const std::vector<NDArray>& ograds, bool is_train = true);

// The inputs of a case: uniform in [lo, hi], then its init (labels, indices, ...).
Vals MakeInputs(const OpCase& c, std::mt19937_64* rng);

// Runs every check of one case; failures are reported through gtest with the case described.
void CheckCase(const OpCase& c, uint64_t seed);

}  // namespace test
}  // namespace mx

#endif  // MX_TESTS_CPP_OP_OP_HARNESS_H_
