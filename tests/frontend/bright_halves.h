// Test data shared by the front-end tests: 8x8 one-channel images, class 1 when the left half is
// brighter than the right half. Pixels are noise * U(0, 1), plus `signal` on the bright half.
// Fixed by the seed, so every run sees the same samples.
#ifndef MX_TESTS_FRONTEND_BRIGHT_HALVES_H_
#define MX_TESTS_FRONTEND_BRIGHT_HALVES_H_

#include <cstdint>
#include <random>
#include <vector>

namespace frontend_test {

inline void BrightHalves(int n, uint64_t seed, float noise, float signal, std::vector<float>* x,
                         std::vector<float>* y) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  x->assign(static_cast<size_t>(n) * 64, 0);
  y->assign(n, 0);
  for (int i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng() % 2);
    for (int p = 0; p < 64; ++p) {
      const bool bright = (p % 8 < 4) == (label == 1);
      (*x)[i * 64 + p] = u(rng) * noise + (bright ? signal : 0.0f);
    }
    (*y)[i] = static_cast<float>(label);
  }
}

}  // namespace frontend_test

#endif  // MX_TESTS_FRONTEND_BRIGHT_HALVES_H_
