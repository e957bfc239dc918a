#include "train/train_params.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "base/error.h"

namespace mx {
namespace train {
namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const std::string* ParamReader::Find(const std::string& key) {
  known_.insert(key);
  auto it = params_.find(key);
  return it == params_.end() ? nullptr : &it->second;
}

double ParamReader::Double(const std::string& key, double default_value) {
  const std::string* v = Find(key);
  if (v == nullptr) return default_value;
  const std::string s = Trim(*v);
  char* end = nullptr;
  const double d = std::strtod(s.c_str(), &end);
  MX_CHECK(!s.empty() && end == s.c_str() + s.size() && std::isfinite(d), kInvalidArgument)
      << what_ << ": parameter " << key << "='" << *v << "' is not a finite number";
  return d;
}

int64_t ParamReader::Int(const std::string& key, int64_t default_value) {
  const std::string* v = Find(key);
  if (v == nullptr) return default_value;
  const std::string s = Trim(*v);
  char* end = nullptr;
  errno = 0;
  const long long i = std::strtoll(s.c_str(), &end, 10);
  MX_CHECK(!s.empty() && end == s.c_str() + s.size() && errno == 0, kInvalidArgument)
      << what_ << ": parameter " << key << "='" << *v << "' is not an integer";
  return i;
}

std::string ParamReader::String(const std::string& key, const std::string& default_value) {
  const std::string* v = Find(key);
  return v == nullptr ? default_value : *v;
}

std::vector<int64_t> ParamReader::IntList(const std::string& key) {
  const std::string* v = Find(key);
  std::vector<int64_t> out;
  if (v == nullptr) return out;
  std::string s = Trim(*v);
  if (s.size() >= 2 &&
      ((s.front() == '[' && s.back() == ']') || (s.front() == '(' && s.back() == ')'))) {
    s = s.substr(1, s.size() - 2);
  }
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = Trim(item);
    if (item.empty() && ss.eof()) break;  // a trailing comma, as in "(10,)"
    char* end = nullptr;
    errno = 0;
    const long long i = std::strtoll(item.c_str(), &end, 10);
    MX_CHECK(!item.empty() && end == item.c_str() + item.size() && errno == 0, kInvalidArgument)
        << what_ << ": parameter " << key << "='" << *v << "' is not a list of integers";
    out.push_back(i);
  }
  return out;
}

void ParamReader::Finish() const {
  std::string unknown;
  for (const auto& kv : params_) {
    if (known_.count(kv.first)) continue;
    unknown += (unknown.empty() ? "'" : ", '") + kv.first + "'";
  }
  if (unknown.empty()) return;
  std::string accepted;
  for (const std::string& k : known_) accepted += (accepted.empty() ? "" : ", ") + k;
  MX_THROW(kInvalidArgument) << what_ << ": unknown parameter " << unknown
                             << " (accepted: " << (accepted.empty() ? "none" : accepted) << ")";
}

}  // namespace train
}  // namespace mx
