// Shared by the convolution-class ops (Convolution, Deconvolution, Pooling): the window geometry
// and the im2col / col2im transforms that turn a convolution into one GEMM.
//
// Every op here takes 1-D (N, C, W) or 2-D (N, C, H, W) data. A 1-D problem is handled as a 2-D
// one with H = 1 and a window of height 1, so each kernel is written once.
//
//   Window w = Window::FromParams("Convolution", kernel, stride, dilate, pad);   // checks values
//   int64_t oh = w.ConvOut(0, h), ow = w.ConvOut(1, width);                    // output extents
//   Im2Col(x, c, h, width, w, col, ld);          // col: (c*kh*kw) rows, oh*ow columns
#ifndef MX_OP_CONV_UTIL_H_
#define MX_OP_CONV_UTIL_H_

#include <cstdint>
#include <string>

#include "base/shape.h"
#include "op/param_types.h"

namespace mx {

// A sliding window over the (H, W) plane: extent, stride, dilation and zero padding per axis.
struct Window {
  int ndim = 2;  // spatial dims of the data: 1 or 2
  int64_t kernel[2] = {1, 1};
  int64_t stride[2] = {1, 1};
  int64_t dilate[2] = {1, 1};
  int64_t pad[2] = {0, 0};

  // From an op's tuple parameters; stride/dilate default to 1 and pad to 0 when empty. Errors
  // name `op` and the offending parameter.
  static Window FromParams(const std::string& op, const Tuple& kernel, const Tuple& stride,
                           const Tuple& dilate, const Tuple& pad);
  // The window's extent along axis a (0: H, 1: W) with dilation.
  int64_t Span(int a) const { return dilate[a] * (kernel[a] - 1) + 1; }
  // Output extent of a convolution over `in` along axis a; -1 when `in` is unknown. Throws when
  // the padded input is smaller than the window.
  int64_t ConvOut(int a, int64_t in, const std::string& op) const;
  int64_t KernelSize() const { return kernel[0] * kernel[1]; }
};

// Views an (N, C, [H,] W) shape as N, C, H, W (H = 1 for 1-D data).
struct Plane {
  int64_t n, c, h, w;
  static Plane Of(const Shape& s) {
    return s.ndim() == 3 ? Plane{s[0], s[1], 1, s[2]} : Plane{s[0], s[1], s[2], s[3]};
  }
  int64_t Area() const { return h * w; }
};

// Unfolds one image x (c, h, w) into col: row (ci, ky, kx), column (oy, ox) holds the input under
// that kernel tap at that output position (0 in the padding). `ld` is col's row stride, so
// several images can be unfolded side by side into one wider matrix.
template <typename T>
void Im2Col(const T* x, int64_t c, int64_t h, int64_t w, const Window& win, int64_t oh, int64_t ow,
            T* col, int64_t ld);

// The adjoint of Im2Col: adds every column entry back onto the input position it came from
// (dx must be initialised by the caller: zeros, or the gradient to accumulate onto).
template <typename T>
void Col2Im(const T* col, int64_t ld, int64_t c, int64_t h, int64_t w, const Window& win,
            int64_t oh, int64_t ow, T* dx);

}  // namespace mx

#endif  // MX_OP_CONV_UTIL_H_
