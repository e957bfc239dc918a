#include "op/op_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace mx {

bool MergeShape(Shape* dst, const Shape& src) {
  if (src.ndim() < 0) return true;
  if (dst->ndim() < 0) {
    *dst = src;
    return true;
  }
  if (dst->ndim() != src.ndim()) return false;
  for (int i = 0; i < src.ndim(); ++i) {
    if (src[i] < 0) continue;
    if ((*dst)[i] < 0) {
      (*dst)[i] = src[i];
    } else if ((*dst)[i] != src[i]) {
      return false;
    }
  }
  return true;
}

void AssignShape(std::vector<Shape>* shapes, size_t i, const Shape& value,
                 const std::string& what) {
  Shape merged = (*shapes)[i];
  MX_CHECK(MergeShape(&merged, value), kInvalidArgument)
      << what << " has shape " << (*shapes)[i] << ", expected " << value;
  (*shapes)[i] = merged;
}

// Both run on every imperative call: names and messages are built only on failure.
bool ElemwiseShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  Shape common = Shape::Unknown();
  for (size_t i = 0; i < in->size(); ++i) {
    MX_CHECK(MergeShape(&common, (*in)[i]), kInvalidArgument)
        << "elementwise shapes differ: input '" << attrs.op->InputNames(attrs).at(i)
        << "' has shape " << (*in)[i] << ", expected " << common;
  }
  for (size_t i = 0; i < out->size(); ++i) {
    MX_CHECK(MergeShape(&common, (*out)[i]), kInvalidArgument)
        << "elementwise shapes differ: output " << i << " has shape " << (*out)[i] << ", expected "
        << common;
  }
  for (auto& s : *in) s = common;
  for (auto& s : *out) s = common;
  return common.IsKnown();
}

bool ElemwiseType(const NodeAttrs& attrs, std::vector<int>* in, std::vector<int>* out) {
  int common = -1;
  auto merge = [&](int t, const char* kind, size_t i) {
    if (t < 0) return;
    MX_CHECK(common < 0 || common == t, kInvalidArgument)
        << "elementwise types differ: " << kind << " " << i << " is "
        << DTypeName(static_cast<DType>(t)) << ", expected "
        << DTypeName(static_cast<DType>(common));
    common = t;
  };
  for (size_t i = 0; i < in->size(); ++i) merge((*in)[i], "input", i);
  for (size_t i = 0; i < out->size(); ++i) merge((*out)[i], "output", i);
  for (auto& t : *in) t = common;
  for (auto& t : *out) t = common;
  return common >= 0;
}

int64_t ProductWork(const std::vector<Shape>& in, const std::vector<Shape>& out, int64_t batch) {
  const double p = static_cast<double>(in[0].Size()) * static_cast<double>(in[1].Size()) *
                   static_cast<double>(out[0].Size()) /
                   static_cast<double>(std::max<int64_t>(1, batch));
  return static_cast<int64_t>(std::sqrt(p));
}

int64_t FilterWork(const Shape& each, const std::vector<Shape>& in) {
  const Shape& w = in[1];
  const int64_t filters = w.ndim() > 0 ? std::max<int64_t>(1, w[0]) : 1;
  return each.Size() * (w.Size() / filters);
}

std::vector<std::string> NumberedNames(const std::string& prefix, int n) {
  MX_CHECK(n >= 0 && n <= kMaxOpArity, kInvalidArgument)
      << n << " inputs, more than the limit of " << kMaxOpArity;
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back(prefix + std::to_string(i));
  return names;
}

NodeEntry MakeGradEntry(const std::string& op_name, const NodePtr& fwd, const std::string& suffix,
                        std::vector<NodeEntry> inputs,
                        const std::map<std::string, std::string>& params, uint32_t index) {
  return NodeEntry{MakeNode(op_name, fwd->attrs.name + "_" + suffix, std::move(inputs), params),
                   index};
}

std::vector<NodeEntry> MakeGradNode(const std::string& op_name, const NodePtr& fwd,
                                    std::vector<NodeEntry> inputs,
                                    const std::map<std::string, std::string>& params) {
  NodePtr n = MakeNode(op_name, fwd->attrs.name + "_backward", std::move(inputs), params);
  std::vector<NodeEntry> out;
  for (int i = 0; i < n->num_outputs(); ++i) out.push_back(NodeEntry{n, uint32_t(i)});
  return out;
}

std::string ParamString(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

}  // namespace mx
