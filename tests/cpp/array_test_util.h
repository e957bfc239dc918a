// Helpers shared by the C++ tests that read and write whole float32 arrays: copy an array to a
// vector, fill one with seeded uniform values, compare two results element by element.
#ifndef MX_TESTS_CPP_ARRAY_TEST_UTIL_H_
#define MX_TESTS_CPP_ARRAY_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "ndarray/ndarray.h"

namespace mx {
namespace test {

// The array's float32 values (waits for pending writes).
inline std::vector<float> Read(const NDArray& a) {
  std::vector<float> v(static_cast<size_t>(a.Size()));
  a.SyncCopyToCPU(v.data(), v.size());
  return v;
}

// Fills the array with values uniform in [-1, 1) from `seed`: the same seed, the same values.
inline void Fill(const NDArray& a, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1, 1);
  std::vector<float> v(static_cast<size_t>(a.Size()));
  for (float& x : v) x = dist(rng);
  a.SyncCopyFromCPU(v.data(), v.size());
}

// `got` equals `want` to 1e-4 absolute plus 1e-4 relative; reports the first 5 elements that
// differ, naming `what` and the two sides (e.g. "blocked" and "plain").
inline void ExpectNear(const std::vector<float>& got, const std::vector<float>& want,
                       const std::string& what, const char* got_name = "got",
                       const char* want_name = "want") {
  ASSERT_EQ(got.size(), want.size()) << what;
  int bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double tol = 1e-4 + 1e-4 * std::fabs(want[i]);
    if (!(std::fabs(got[i] - want[i]) <= tol) && bad++ < 5) {
      ADD_FAILURE() << what << " element " << i << ": " << got_name << " " << got[i] << ", "
                    << want_name << " " << want[i];
    }
  }
}

}  // namespace test
}  // namespace mx

#endif  // MX_TESTS_CPP_ARRAY_TEST_UTIL_H_
