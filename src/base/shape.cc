#include "base/shape.h"

#include "base/error.h"

namespace mx {

void Shape::Assign(const int64_t* first, const int64_t* last) {
  const ptrdiff_t n = last - first;
  MX_CHECK(n >= 0 && n <= kMaxNDim, kInvalidArgument)
      << "a shape has at most " << kMaxNDim << " dimensions, got " << n;
  for (ptrdiff_t i = 0; i < n; ++i) {
    MX_CHECK(first[i] >= -1, kInvalidArgument) << "invalid dimension " << first[i] << " at axis "
                                               << i << " (dims are >= 0, or -1 for unknown)";
    dims_[i] = first[i];
  }
  ndim_ = static_cast<int>(n);
}

Shape Shape::Filled(int ndim, int64_t value) {
  MX_CHECK(ndim >= 0, kInvalidArgument) << "negative ndim " << ndim;
  return Shape(std::vector<int64_t>(ndim, value));
}

Shape Shape::FromUser(const int64_t* dims, int ndim) {
  MX_CHECK(ndim >= -1, kInvalidArgument) << "invalid ndim " << ndim << " (-1 or 0 for unknown)";
  if (ndim <= 0) return Unknown();
  MX_CHECK(dims != nullptr, kInvalidArgument) << "a shape of " << ndim << " dims has no dims";
  Shape s(dims, ndim);
  for (int i = 0; i < ndim; ++i) {
    if (s[i] == 0) s[i] = -1;
  }
  return s;
}

bool Shape::IsKnown() const {
  if (ndim_ < 0) return false;
  for (int i = 0; i < ndim_; ++i) {
    if (dims_[i] < 0) return false;
  }
  return true;
}

int64_t Shape::Size() const { return ProdDims(0, ndim_); }

int64_t Shape::ProdDims(int begin, int end) const {
  int64_t size = 1;
  for (int i = begin; i < end; ++i) {
    if (dims_[i] == 0) return 0;  // (2^40, 2^40, 0) holds nothing: no overflow to report
  }
  for (int i = begin; i < end; ++i) {
    MX_CHECK(!__builtin_mul_overflow(size, dims_[i], &size), kInvalidArgument)
        << "shape " << ToString() << " has too many elements: the product of its dims does not "
        << "fit in 64 bits";
  }
  return size;
}

std::string Shape::ToString() const {
  if (ndim_ < 0) return "?";
  std::string s = "(";
  for (int i = 0; i < ndim_; ++i) {
    if (i) s += ",";
    s += dims_[i] < 0 ? std::string("?") : std::to_string(dims_[i]);
  }
  return s + ")";
}

bool Shape::operator==(const Shape& o) const {
  if (ndim_ != o.ndim_) return false;
  for (int i = 0; i < ndim_; ++i) {
    if (dims_[i] != o.dims_[i]) return false;
  }
  return true;
}

std::ostream& operator<<(std::ostream& os, const Shape& shape) { return os << shape.ToString(); }

size_t ByteSize(const Shape& shape, size_t elem_size) {
  const int64_t n = shape.Size();
  size_t bytes = 0;
  MX_CHECK(n >= 0 && !__builtin_mul_overflow(static_cast<size_t>(n), elem_size, &bytes),
           kInvalidArgument)
      << "an array of shape " << shape << " (" << n << " elements of " << elem_size
      << " bytes) has more bytes than fit in 64 bits";
  return bytes;
}

}  // namespace mx
