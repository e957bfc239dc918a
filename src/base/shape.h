// Shapes: up to kMaxNDim int64_t dimensions stored inline (no heap, trivially copyable, so
// executors and the engine copy them freely on hot paths).
//
// Unknowns, for partial shape inference: ndim() == -1 means the rank itself is unknown; a dim of
// -1 means that one extent is unknown. A shape is "known" when neither occurs.
//
//   Shape s{128, 784};         // s.Size() == 100352, s.ToString() == "(128,784)"
//   Shape u = Shape::Unknown(); // u.IsKnown() == false
#ifndef MX_BASE_SHAPE_H_
#define MX_BASE_SHAPE_H_

#include <array>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

namespace mx {

class Shape {
 public:
  static constexpr int kMaxNDim = 12;

  Shape() = default;  // a scalar: ndim 0, size 1
  Shape(std::initializer_list<int64_t> dims) { Assign(dims.begin(), dims.end()); }
  // Throws mx::Error (kInvalidArgument) for more than kMaxNDim dims or a dim below -1.
  Shape(const int64_t* dims, int ndim) { Assign(dims, dims + ndim); }
  explicit Shape(const std::vector<int64_t>& dims) {
    Assign(dims.data(), dims.data() + dims.size());
  }
  // ndim dims, each equal to `value` (e.g. -1 for "rank known, extents unknown").
  static Shape Filled(int ndim, int64_t value);
  // A shape as a user gives it to shape inference (infer_shape, simple_bind, "__shape__"), with
  // MXNet's convention: a dim of 0 (or -1) is unknown, and no dims (or ndim -1) means nothing is
  // known. Arrays themselves may have 0 dims; this is only for constraints.
  static Shape FromUser(const int64_t* dims, int ndim);
  static Shape Unknown() {
    Shape s;
    s.ndim_ = -1;
    return s;
  }

  int ndim() const { return ndim_; }
  int64_t operator[](int i) const { return dims_[i]; }
  int64_t& operator[](int i) { return dims_[i]; }
  const int64_t* data() const { return dims_.data(); }
  const int64_t* begin() const { return dims_.data(); }
  const int64_t* end() const { return dims_.data() + (ndim_ > 0 ? ndim_ : 0); }

  // Rank known and every dim known (>= 0).
  bool IsKnown() const;
  // Number of elements (product of dims; 1 for a scalar). Only meaningful when IsKnown(). Throws
  // mx::Error (kInvalidArgument) naming the shape when the product does not fit in int64_t.
  int64_t Size() const;
  // Product of dims [begin, end), checked like Size().
  int64_t ProdDims(int begin, int end) const;
  std::vector<int64_t> ToVector() const { return std::vector<int64_t>(begin(), end()); }
  // "(2,3)", "()" for a scalar, "(?,3)" with unknown dims, "?" for unknown rank.
  std::string ToString() const;

  bool operator==(const Shape& o) const;
  bool operator!=(const Shape& o) const { return !(*this == o); }

 private:
  void Assign(const int64_t* first, const int64_t* last);

  int ndim_ = 0;
  std::array<int64_t, kMaxNDim> dims_{};
};

std::ostream& operator<<(std::ostream& os, const Shape& shape);

// Bytes of an array of `shape` with elements of `elem_size` bytes. Throws mx::Error
// (kInvalidArgument) naming the shape when the count of elements or of bytes overflows, so no
// caller ever sees a wrapped size.
size_t ByteSize(const Shape& shape, size_t elem_size);

}  // namespace mx

#endif  // MX_BASE_SHAPE_H_
