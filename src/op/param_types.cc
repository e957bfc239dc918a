#include "op/param_types.h"

#include <cctype>

namespace mx {

std::istream& operator>>(std::istream& is, Tuple& t) {
  t.v.clear();
  is >> std::ws;
  const int open = is.peek();
  if (open != '(' && open != '[') {
    // A bare integer means a one-element tuple.
    int64_t x;
    if (is >> x) t.v.push_back(x);
    return is;
  }
  const char close = open == '(' ? ')' : ']';
  is.get();
  while (true) {
    is >> std::ws;
    if (is.peek() == close) {
      is.get();
      return is;
    }
    int64_t x;
    if (!(is >> x)) return is;  // failbit set by the failed read
    t.v.push_back(x);
    is >> std::ws;
    const int c = is.get();
    if (c == close) return is;
    if (c != ',') {
      is.setstate(std::ios::failbit);
      return is;
    }
  }
}

std::ostream& operator<<(std::ostream& os, const Tuple& t) {
  os << '(';
  for (size_t i = 0; i < t.v.size(); ++i) os << (i ? "," : "") << t.v[i];
  if (t.v.size() == 1) os << ',';
  return os << ')';
}

}  // namespace mx
