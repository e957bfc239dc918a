/* A minimal test harness for the C tests: EXPECT-style checks that count and report, and a
 * closing "N passed, N failed" line. */
#ifndef MX_TESTS_C_MINI_TEST_H_
#define MX_TESTS_C_MINI_TEST_H_

#include <stdio.h>

static int mt_passed = 0;
static int mt_failed = 0;

#define MT_CHECK(cond)                                                         \
  do {                                                                         \
    if (cond) {                                                                \
      ++mt_passed;                                                             \
    } else {                                                                   \
      ++mt_failed;                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

static int mt_finish(void) {
  printf("%d passed, %d failed\n", mt_passed, mt_failed);
  return mt_failed == 0 ? 0 : 1;
}

#endif /* MX_TESTS_C_MINI_TEST_H_ */
