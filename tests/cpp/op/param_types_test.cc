#include "op/param_types.h"

#include <gtest/gtest.h>

#include <sstream>

namespace mx {
namespace {

Tuple Parse(const std::string& s, bool* ok) {
  std::istringstream is(s);
  Tuple t;
  is >> t;
  *ok = !is.fail();
  return t;
}

TEST(Tuple, ParsesTheUsualSpellings) {
  bool ok = false;
  EXPECT_EQ(Parse("(2,3)", &ok), (Tuple{2, 3}));
  EXPECT_TRUE(ok);
  EXPECT_EQ(Parse("[2, -1, 0]", &ok), (Tuple{2, -1, 0}));
  EXPECT_TRUE(ok);
  EXPECT_EQ(Parse("(4,)", &ok), (Tuple{4}));
  EXPECT_TRUE(ok);
  EXPECT_EQ(Parse("()", &ok), Tuple{});
  EXPECT_TRUE(ok);
  EXPECT_EQ(Parse("7", &ok), (Tuple{7}));
  EXPECT_TRUE(ok);
}

TEST(Tuple, RejectsGarbage) {
  bool ok = true;
  Parse("(2;3)", &ok);
  EXPECT_FALSE(ok);
  Parse("(a)", &ok);
  EXPECT_FALSE(ok);
  Parse("(2,3", &ok);
  EXPECT_FALSE(ok);
}

TEST(Tuple, PrintsWhatItParses) {
  for (const Tuple& t : {Tuple{}, Tuple{5}, Tuple{1, -2, 3}}) {
    std::ostringstream os;
    os << t;
    bool ok = false;
    EXPECT_EQ(Parse(os.str(), &ok), t) << os.str();
    EXPECT_TRUE(ok);
  }
}

}  // namespace
}  // namespace mx
