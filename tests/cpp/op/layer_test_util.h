// Helpers for the layer op tests (LeakyReLU, LRN, UpSampling, Crop, Pad, SwapAxis,
// L2Normalization, InstanceNorm): error checks and row-major index arithmetic for references.
#ifndef MX_TESTS_CPP_OP_LAYER_TEST_UTIL_H_
#define MX_TESTS_CPP_OP_LAYER_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "op/op_util.h"
#include "op_harness.h"

namespace mx {
namespace test {
namespace layer {

inline NDArray Filled(const Shape& s, double v = 1.0, DType dtype = DType::kFloat32) {
  return MakeArray(s, std::vector<double>(s.Size(), v), dtype);
}

// Runs the op and waits for its outputs; returns the error message, or "" when it succeeded.
inline std::string ErrorOf(const std::string& op, const std::map<std::string, std::string>& params,
                           const std::vector<NDArray>& inputs) {
  try {
    auto out = RunOp(op, params, inputs);
    for (auto& o : out) o.WaitToRead();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// The op fails with a message that contains every one of `parts`.
inline void ExpectError(const std::string& op, const std::map<std::string, std::string>& params,
                        const std::vector<NDArray>& inputs, const std::vector<std::string>& parts) {
  const std::string msg = ErrorOf(op, params, inputs);
  EXPECT_FALSE(msg.empty()) << op << ": expected an error";
  for (const auto& p : parts) {
    EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' in: " << msg;
  }
}

// The op succeeds (used after errors: a failed call leaves the library usable).
inline void ExpectWorks(const std::string& op, const std::map<std::string, std::string>& params,
                        const std::vector<NDArray>& inputs) {
  EXPECT_EQ(ErrorOf(op, params, inputs), "") << op << " should work";
}

// Row-major offset of (i0, i1, ...) in `dims`.
inline int64_t At(const std::vector<int64_t>& dims, const std::vector<int64_t>& idx) {
  int64_t off = 0;
  for (size_t a = 0; a < dims.size(); ++a) off = off * dims[a] + idx[a];
  return off;
}

// Calls f(idx) for every index of `dims` in row-major order.
template <typename F>
void ForEachIndex(const std::vector<int64_t>& dims, F f) {
  std::vector<int64_t> idx(dims.size(), 0);
  int64_t total = 1;
  for (int64_t d : dims) total *= d;
  for (int64_t n = 0; n < total; ++n) {
    f(idx);
    for (int a = static_cast<int>(dims.size()) - 1; a >= 0; --a) {
      if (++idx[a] < dims[a]) break;
      idx[a] = 0;
    }
  }
}

}  // namespace layer
}  // namespace test
}  // namespace mx

#endif  // MX_TESTS_CPP_OP_LAYER_TEST_UTIL_H_
