#include "op/conv_util.h"

#include <algorithm>
#include <cstring>

#include "base/error.h"

namespace mx {
namespace {

// Fills out[0..ndim) from a tuple that is empty (the default) or has one value per spatial dim.
void Spatial(const std::string& op, const char* name, const Tuple& t, int ndim, int64_t def,
             int64_t min, int64_t* out) {
  if (t.empty()) {
    out[0] = out[1] = def;
    return;
  }
  MX_CHECK(static_cast<int>(t.size()) == ndim, kInvalidArgument)
      << "operator '" << op << "': " << name << " " << t << " must have " << ndim << " value"
      << (ndim == 1 ? "" : "s") << ", like kernel";
  for (int a = 0; a < ndim; ++a) {
    MX_CHECK(t[a] >= min, kInvalidArgument)
        << "operator '" << op << "': " << name << " " << t << " must be >= " << min;
  }
  // 1-D windows live in the W slot; H is a window of 1.
  if (ndim == 1) {
    out[0] = def == 0 ? 0 : 1;
    out[1] = t[0];
  } else {
    out[0] = t[0];
    out[1] = t[1];
  }
}

// The (y, x) ranges of output positions whose tap (ky, kx) lands inside the input, so the inner
// loops need no bounds test: ox in [lo, hi) reads ix = ox * s - p + k * d in [0, w).
void ValidRange(int64_t k, int64_t s, int64_t p, int64_t d, int64_t in, int64_t out, int64_t* lo,
                int64_t* hi) {
  const int64_t off = k * d - p;  // ix = ox * s + off
  // smallest ox with ox * s + off >= 0, and first ox with ox * s + off >= in
  *lo = off >= 0 ? 0 : (-off + s - 1) / s;
  *hi = in - off <= 0 ? 0 : (in - off + s - 1) / s;
  *lo = std::min(*lo, out);
  *hi = std::max(*lo, std::min(*hi, out));
}

}  // namespace

Window Window::FromParams(const std::string& op, const Tuple& kernel, const Tuple& stride,
                          const Tuple& dilate, const Tuple& pad) {
  MX_CHECK(kernel.size() == 1 || kernel.size() == 2, kInvalidArgument)
      << "operator '" << op << "': kernel " << kernel
      << " must have 1 (NCW data) or 2 (NCHW data) values";
  Window w;
  w.ndim = static_cast<int>(kernel.size());
  Spatial(op, "kernel", kernel, w.ndim, 1, 1, w.kernel);
  Spatial(op, "stride", stride, w.ndim, 1, 1, w.stride);
  Spatial(op, "dilate", dilate, w.ndim, 1, 1, w.dilate);
  Spatial(op, "pad", pad, w.ndim, 0, 0, w.pad);
  return w;
}

int64_t Window::ConvOut(int a, int64_t in, const std::string& op) const {
  if (in < 0) return -1;
  const int64_t padded = in + 2 * pad[a];
  MX_CHECK(padded >= Span(a), kInvalidArgument)
      << "operator '" << op << "': the window (extent " << Span(a) << " with dilation) is larger "
      << "than the padded input (" << in << " + 2*" << pad[a] << ") along spatial axis "
      << (ndim == 1 ? 0 : a);
  return (padded - Span(a)) / stride[a] + 1;
}

template <typename T>
void Im2Col(const T* x, int64_t c, int64_t h, int64_t w, const Window& win, int64_t oh, int64_t ow,
            T* col, int64_t ld) {
  const int64_t kh = win.kernel[0], kw = win.kernel[1];
  const int64_t sh = win.stride[0], sw = win.stride[1];
  for (int64_t ci = 0; ci < c; ++ci) {
    const T* xc = x + ci * h * w;
    for (int64_t ky = 0; ky < kh; ++ky) {
      int64_t ylo, yhi;
      ValidRange(ky, sh, win.pad[0], win.dilate[0], h, oh, &ylo, &yhi);
      for (int64_t kx = 0; kx < kw; ++kx) {
        int64_t xlo, xhi;
        ValidRange(kx, sw, win.pad[1], win.dilate[1], w, ow, &xlo, &xhi);
        T* row = col + ((ci * kh + ky) * kw + kx) * ld;
        const int64_t xoff = kx * win.dilate[1] - win.pad[1];
        for (int64_t oy = 0; oy < oh; ++oy) {
          T* dst = row + oy * ow;
          if (oy < ylo || oy >= yhi) {
            std::fill(dst, dst + ow, T(0));
            continue;
          }
          const T* src = xc + (oy * sh + ky * win.dilate[0] - win.pad[0]) * w;
          std::fill(dst, dst + xlo, T(0));
          if (sw == 1) {
            std::memcpy(dst + xlo, src + xlo + xoff, sizeof(T) * (xhi - xlo));
          } else {
            for (int64_t ox = xlo; ox < xhi; ++ox) dst[ox] = src[ox * sw + xoff];
          }
          std::fill(dst + xhi, dst + ow, T(0));
        }
      }
    }
  }
}

template <typename T>
void Col2Im(const T* col, int64_t ld, int64_t c, int64_t h, int64_t w, const Window& win,
            int64_t oh, int64_t ow, T* dx) {
  const int64_t kh = win.kernel[0], kw = win.kernel[1];
  const int64_t sh = win.stride[0], sw = win.stride[1];
  for (int64_t ci = 0; ci < c; ++ci) {
    T* xc = dx + ci * h * w;
    for (int64_t ky = 0; ky < kh; ++ky) {
      int64_t ylo, yhi;
      ValidRange(ky, sh, win.pad[0], win.dilate[0], h, oh, &ylo, &yhi);
      for (int64_t kx = 0; kx < kw; ++kx) {
        int64_t xlo, xhi;
        ValidRange(kx, sw, win.pad[1], win.dilate[1], w, ow, &xlo, &xhi);
        const T* row = col + ((ci * kh + ky) * kw + kx) * ld;
        const int64_t xoff = kx * win.dilate[1] - win.pad[1];
        for (int64_t oy = ylo; oy < yhi; ++oy) {
          const T* src = row + oy * ow;
          T* dst = xc + (oy * sh + ky * win.dilate[0] - win.pad[0]) * w;
          for (int64_t ox = xlo; ox < xhi; ++ox) dst[ox * sw + xoff] += src[ox];
        }
      }
    }
  }
}

template void Im2Col<float>(const float*, int64_t, int64_t, int64_t, const Window&, int64_t,
                            int64_t, float*, int64_t);
template void Im2Col<double>(const double*, int64_t, int64_t, int64_t, const Window&, int64_t,
                             int64_t, double*, int64_t);
template void Col2Im<float>(const float*, int64_t, int64_t, int64_t, int64_t, const Window&,
                            int64_t, int64_t, float*);
template void Col2Im<double>(const double*, int64_t, int64_t, int64_t, int64_t, const Window&,
                             int64_t, int64_t, double*);

}  // namespace mx
