// Matrix products (dot, batch_dot) through blas::Gemm (the CPU's BLAS, or cuBLAS on a GPU), and
// transpose. RegisterMatrixOps also registers the rest of the family (shape_ops.cc, indexing.cc;
// see op/matrix_ops.h).
//
// dot follows MXNet: an N-D lhs contracts its last axis (its first with transpose_a) with the
// first axis of rhs (its last with transpose_b); the other axes of both make the output, so every
// call is one GEMM on 2-D views of the operands. Its gradient is the hidden _backward_dot (two
// GEMMs on the same views) because a dot node of N-D arrays cannot express "contract every axis
// but one"; batch_dot's gradient is made of batch_dot nodes with transposes.

#include <algorithm>
#include <climits>
#include <sstream>

#include "op/all_ops.h"
#include "op/blas.h"
#include "op/matrix_ops.h"
#include "op/param_types.h"

namespace mx {
namespace matrix {

void CheckBlasDim(int64_t v) {
  MX_CHECK(v <= INT_MAX, kUnsupported) << "matrix dimension " << v << " exceeds BLAS's int range";
}

}  // namespace matrix

namespace {

// Row-major C(m x n) = op(A) op(B) (+ C when accumulate) on the op's device; the leading
// dimensions follow from the stored shapes (A is k x m when transposed, else m x k).
// On the CPU, float goes through CBLAS alone (blas::GemmCblas says why).
template <typename T>
void Gemm(const OpContext& ctx, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
          const T* a, const T* b, T* c, bool accumulate) {
  const int64_t lda = trans_a ? m : k, ldb = trans_b ? k : n;
  const T beta = accumulate ? T(1) : T(0);
  if constexpr (std::is_same<T, float>::value) {
    if (!ctx.run.ctx.is_gpu()) {
      blas::GemmCblas(trans_a, trans_b, m, n, k, T(1), a, lda, b, ldb, beta, c, n);
      return;
    }
  }
  blas::Gemm(ctx.run, trans_a, trans_b, m, n, k, T(1), a, lda, b, ldb, beta, c, n);
}

struct DotParam : public dmlc::Parameter<DotParam> {
  bool transpose_a;
  bool transpose_b;
  DMLC_DECLARE_PARAMETER(DotParam) {
    DMLC_DECLARE_FIELD(transpose_a)
        .set_default(false)
        .describe("Contract the first axis of lhs instead of its last (for 2-D: use lhs^T).");
    DMLC_DECLARE_FIELD(transpose_b)
        .set_default(false)
        .describe("Contract the last axis of rhs instead of its first (for 2-D: use rhs^T).");
  }
};

struct TransposeParam : public dmlc::Parameter<TransposeParam> {
  Tuple axes;
  DMLC_DECLARE_PARAMETER(TransposeParam) {
    DMLC_DECLARE_FIELD(axes).set_default(Tuple()).describe(
        "The permutation: output axis i is input axis axes[i] (negative counts from the end). "
        "Empty reverses the axes.");
  }
};

DMLC_REGISTER_PARAMETER(DotParam);
DMLC_REGISTER_PARAMETER(TransposeParam);

std::string Bool(bool b) { return b ? "1" : "0"; }

// ---- dot ----

// The GEMM that computes one dot call, and its output shape.
struct DotDims {
  int64_t m = 1, n = 1, k = 0;
  Shape out;
};

DotDims GetDotDims(const Shape& l, const Shape& r, bool ta, bool tb) {
  MX_CHECK(l.ndim() >= 1, kInvalidArgument) << "input 'lhs' must have at least 1 axis, got " << l;
  MX_CHECK(r.ndim() >= 1, kInvalidArgument) << "input 'rhs' must have at least 1 axis, got " << r;
  DotDims d;
  const int l_axis = ta ? 0 : l.ndim() - 1;
  const int r_axis = tb ? r.ndim() - 1 : 0;
  MX_CHECK(l[l_axis] == r[r_axis], kInvalidArgument)
      << "shapes do not align: lhs " << l << " contracts axis " << l_axis << " (" << l[l_axis]
      << " elements, transpose_a=" << ta << ") but rhs " << r << " contracts axis " << r_axis
      << " (" << r[r_axis] << " elements, transpose_b=" << tb << ")";
  d.k = l[l_axis];
  const int ndim = std::max(l.ndim() + r.ndim() - 2, 1);
  MX_CHECK(ndim <= Shape::kMaxNDim, kInvalidArgument)
      << "the output of lhs " << l << " and rhs " << r << " would have " << ndim
      << " axes (at most " << Shape::kMaxNDim << ")";
  // On the stack: this runs on every imperative dot, whose budget is a few hundred ns.
  int64_t out[Shape::kMaxNDim];
  int n = 0;
  for (int i = 0; i < l.ndim(); ++i) {
    if (i == l_axis) continue;
    out[n++] = l[i];
    d.m *= l[i];
  }
  for (int i = 0; i < r.ndim(); ++i) {
    if (i == r_axis) continue;
    out[n++] = r[i];
    d.n *= r[i];
  }
  // Two vectors give their inner product as a one-element vector, as in MXNet.
  if (n == 0) out[n++] = 1;
  d.out = Shape(out, n);
  return d;
}

bool DotShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const auto& p = attrs.get<DotParam>();
  if (!(*in)[0].IsKnown() || !(*in)[1].IsKnown()) return false;
  AssignShape(out, 0, GetDotDims((*in)[0], (*in)[1], p.transpose_a, p.transpose_b).out, "output");
  return true;
}

void DotCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  const auto& p = attrs.get<DotParam>();
  const DotDims d = GetDotDims(in[0].shape, in[1].shape, p.transpose_a, p.transpose_b);
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    Gemm<T>(ctx, p.transpose_a, p.transpose_b, d.m, d.n, d.k, in[0].data<T>(), in[1].data<T>(),
            out[0].data<T>(), req[0] == OpReq::kAdd);
  });
}

// Inputs (ograd, lhs, rhs); outputs (lhs_grad, rhs_grad). With C = op_a(A) op_b(B):
//   d op_a(A) = dC op_b(B)^T  and  d op_b(B) = op_a(A)^T dC,
// written below for the stored (possibly transposed) A and B.
void DotBackwardCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                        const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const auto& p = attrs.get<DotParam>();
  const bool ta = p.transpose_a, tb = p.transpose_b;
  const DotDims d = GetDotDims(in[1].shape, in[2].shape, ta, tb);
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    const T* dc = in[0].data<T>();
    const T* a = in[1].data<T>();
    const T* b = in[2].data<T>();
    if (req[0] != OpReq::kNull) {
      const bool acc = req[0] == OpReq::kAdd;
      if (!ta) {
        Gemm<T>(ctx, false, !tb, d.m, d.k, d.n, dc, b, out[0].data<T>(), acc);  // dC op_b(B)^T
      } else {
        Gemm<T>(ctx, tb, true, d.k, d.m, d.n, b, dc, out[0].data<T>(), acc);  // op_b(B) dC^T
      }
    }
    if (req[1] != OpReq::kNull) {
      const bool acc = req[1] == OpReq::kAdd;
      if (!tb) {
        Gemm<T>(ctx, !ta, false, d.k, d.n, d.m, a, dc, out[1].data<T>(), acc);  // op_a(A)^T dC
      } else {
        Gemm<T>(ctx, true, ta, d.n, d.k, d.m, dc, a, out[1].data<T>(), acc);  // dC^T op_a(A)
      }
    }
  });
}

bool DotBackwardShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  AssignShape(out, 0, (*in)[1], "output 'lhs_grad'");
  AssignShape(out, 1, (*in)[2], "output 'rhs_grad'");
  return (*in)[1].IsKnown() && (*in)[2].IsKnown();
}

// ---- batch_dot ----

bool BatchDotShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const auto& p = attrs.get<DotParam>();
  const Shape& l = (*in)[0];
  const Shape& r = (*in)[1];
  if (!l.IsKnown() || !r.IsKnown()) return false;
  MX_CHECK(l.ndim() == 3, kInvalidArgument)
      << "input 'lhs' must be 3-D (batch, rows, columns), got " << l;
  MX_CHECK(r.ndim() == 3, kInvalidArgument)
      << "input 'rhs' must be 3-D (batch, rows, columns), got " << r;
  MX_CHECK(l[0] == r[0], kInvalidArgument)
      << "batch sizes differ: lhs " << l << " has " << l[0] << ", rhs " << r << " has " << r[0];
  const int64_t lk = p.transpose_a ? l[1] : l[2], rk = p.transpose_b ? r[2] : r[1];
  MX_CHECK(lk == rk, kInvalidArgument)
      << "shapes do not align: lhs " << l << " (transpose_a=" << p.transpose_a << ") contracts "
      << lk << " elements but rhs " << r << " (transpose_b=" << p.transpose_b << ") " << rk;
  AssignShape(out, 0, Shape{l[0], p.transpose_a ? l[2] : l[1], p.transpose_b ? r[1] : r[2]},
              "output");
  return true;
}

void BatchDotCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                     const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  if (req[0] == OpReq::kNull) return;
  const auto& p = attrs.get<DotParam>();
  const Shape& l = in[0].shape;
  const int64_t batch = l[0];
  const int64_t m = out[0].shape[1], n = out[0].shape[2];
  const int64_t k = p.transpose_a ? l[1] : l[2];
  const bool acc = req[0] == OpReq::kAdd;
  // Checked here: Gemm must not throw inside the parallel loop.
  matrix::CheckBlasDim(m), matrix::CheckBlasDim(n), matrix::CheckBlasDim(k);
  MX_REAL_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    const T* a = in[0].data<T>();
    const T* b = in[1].data<T>();
    T* c = out[0].data<T>();
    if (ctx.run.ctx.is_gpu()) {
      blas::GemmStridedBatchedGpu(ctx.run, p.transpose_a, p.transpose_b, m, n, k, T(1), a,
                                  p.transpose_a ? m : k, m * k, b, p.transpose_b ? k : n, k * n,
                                  acc ? T(1) : T(0), c, n, m * n, batch);
      return;
    }
    auto one = [&](int64_t i) {
      Gemm<T>(ctx, p.transpose_a, p.transpose_b, m, n, k, a + i * m * k, b + i * k * n,
              c + i * m * n, acc);
    };
    // Small matrices: one BLAS call each gains nothing from BLAS's threads; split the batch.
    MX_OMP_FOR_IF(m * n * k < (int64_t(1) << 18) && batch * m * n * k >= kOmpMinWork)
    for (int64_t i = 0; i < batch; ++i) one(i);
  });
}

// ---- transpose ----

// The permutation for an input of rank `ndim` (reverse when `axes` is empty).
std::vector<int> Permutation(const Tuple& axes, int ndim) {
  std::vector<int> perm(ndim);
  if (axes.empty()) {
    for (int i = 0; i < ndim; ++i) perm[i] = ndim - 1 - i;
    return perm;
  }
  std::ostringstream given;
  given << axes;
  MX_CHECK(static_cast<int>(axes.size()) == ndim, kInvalidArgument)
      << "axes=" << given.str() << " has " << axes.size() << " entries but the input has " << ndim
      << " axes";
  std::vector<bool> seen(ndim, false);
  for (int i = 0; i < ndim; ++i) {
    const int64_t a = axes[i];
    MX_CHECK(a >= -ndim && a < ndim, kInvalidArgument)
        << "axes=" << given.str() << ": axis " << a << " is out of range for " << ndim << " axes";
    perm[i] = static_cast<int>(a < 0 ? a + ndim : a);
    MX_CHECK(!seen[perm[i]], kInvalidArgument)
        << "axes=" << given.str() << " is not a permutation (axis " << perm[i] << " repeats)";
    seen[perm[i]] = true;
  }
  return perm;
}

bool TransposeShape(const NodeAttrs& attrs, std::vector<Shape>* in, std::vector<Shape>* out) {
  const Tuple& axes = attrs.get<TransposeParam>().axes;
  Shape& is = (*in)[0];
  const Shape& os = (*out)[0];
  if (is.ndim() < 0 && os.ndim() >= 0) is = Shape::Filled(os.ndim(), -1);
  if (is.ndim() < 0) return false;
  const std::vector<int> perm = Permutation(axes, is.ndim());
  Shape o = Shape::Filled(is.ndim(), -1);
  for (int i = 0; i < is.ndim(); ++i) o[i] = is[perm[i]];
  AssignShape(out, 0, o, "output");
  // Backward: input axis perm[i] is output axis i.
  Shape back = Shape::Filled(is.ndim(), -1);
  for (int i = 0; i < is.ndim(); ++i) back[perm[i]] = (*out)[0][i];
  AssignShape(in, 0, back, "input 'data'");
  return is.IsKnown();
}

// The same permutation on fewer axes: axes of length 1 dropped, and input axes that stay
// neighbours in the output merged, e.g. (0,2,1) on (4,1,5,6) is (1,0) on (4,30).
void SimplifyPermutation(const Shape& ishape, const std::vector<int>& perm,
                         std::vector<int64_t>* dims, std::vector<int>* out_perm) {
  const int nd = ishape.ndim();
  // Input axes of length > 1, renumbered 0.. in input order, and their lengths.
  std::vector<int> compact(nd, -1);
  std::vector<int64_t> len;
  for (int a = 0; a < nd; ++a) {
    if (ishape[a] != 1) {
      compact[a] = static_cast<int>(len.size());
      len.push_back(ishape[a]);
    }
  }
  // Runs of consecutive (compact) input axes in output order: (first axis, number of axes).
  std::vector<std::pair<int, int>> runs;
  for (int i = 0; i < nd; ++i) {
    const int a = compact[perm[i]];
    if (a < 0) continue;
    if (!runs.empty() && a == runs.back().first + runs.back().second) {
      ++runs.back().second;
    } else {
      runs.push_back({a, 1});
    }
  }
  // Each run is one axis of the simplified input, numbered in input order.
  std::vector<int> by_input(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) by_input[i] = static_cast<int>(i);
  std::sort(by_input.begin(), by_input.end(),
            [&](int a, int b) { return runs[a].first < runs[b].first; });
  dims->assign(runs.size(), 1);
  out_perm->assign(runs.size(), 0);
  for (size_t k = 0; k < by_input.size(); ++k) {
    const auto& run = runs[by_input[k]];
    for (int a = run.first; a < run.first + run.second; ++a) (*dims)[k] *= len[a];
    (*out_perm)[by_input[k]] = static_cast<int>(k);
  }
}

// batch matrices (rows x cols) transposed, in tiles so both sides stay in cache.
template <typename T, OpReq Req>
void BatchTransposeTiled(const T* in, T* out, int64_t batch, int64_t rows, int64_t cols) {
  constexpr int64_t kTile = 32;
  const int64_t row_tiles = (rows + kTile - 1) / kTile;
  MX_OMP_FOR_IF(batch * rows * cols >= kOmpMinWork)
  for (int64_t t = 0; t < batch * row_tiles; ++t) {
    const int64_t b = t / row_tiles;
    const int64_t r0 = (t % row_tiles) * kTile, r1 = std::min(rows, r0 + kTile);
    const T* src = in + b * rows * cols;
    T* dst = out + b * rows * cols;
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t c1 = std::min(cols, c0 + kTile);
      for (int64_t c = c0; c < c1; ++c) {
        for (int64_t r = r0; r < r1; ++r) Assign<Req>(dst[c * rows + r], src[r * cols + c]);
      }
    }
  }
}

// The GPU's transpose: each output element finds its input offset from its index.
struct TransposeWalk {
  int nd = 0;
  int64_t odims[Shape::kMaxNDim] = {};  // the output's (simplified) dims
  int64_t step[Shape::kMaxNDim] = {};   // the input stride along each output dim
};
template <OpReq Req>
struct TransposeGpuKernel {
  template <typename T>
  MX_XINLINE static void Map(int64_t i, T* out, const T* in, TransposeWalk w) {
    int64_t rem = i, off = 0;
    for (int d = w.nd - 1; d >= 0; --d) {
      off += (rem % w.odims[d]) * w.step[d];
      rem /= w.odims[d];
    }
    Assign<Req>(out[i], in[off]);
  }
};

template <typename T, OpReq Req>
void TransposeKernel(const engine::RunContext& rctx, const T* in, T* out, const Shape& ishape,
                     const std::vector<int>& full_perm) {
  const int64_t size = ishape.Size();
  if (size == 0) return;
  std::vector<int64_t> dims;
  std::vector<int> perm;
  SimplifyPermutation(ishape, full_perm, &dims, &perm);
  const int nd = static_cast<int>(dims.size());
  if (rctx.ctx.is_gpu()) {
    TransposeWalk w;
    w.nd = nd;
    int64_t stride = 1;
    std::vector<int64_t> in_stride(nd);
    for (int i = nd - 1; i >= 0; --i) {
      in_stride[i] = stride;
      stride *= dims[i];
    }
    for (int i = 0; i < nd; ++i) {
      w.odims[i] = dims[perm[i]];
      w.step[i] = in_stride[perm[i]];
    }
    Kernel<TransposeGpuKernel<Req>>::LaunchGPU(rctx, size, out, in, w);
    return;
  }
  if (nd <= 1) {
    // The identity in disguise.
    Kernel<UnaryKernel<fn::Identity, Req>>::LaunchCPU(size, out, in, T(0));
    return;
  }
  if (nd == 2) return BatchTransposeTiled<T, Req>(in, out, 1, dims[0], dims[1]);
  if (nd == 3 && perm[0] == 0 && perm[1] == 2) {
    return BatchTransposeTiled<T, Req>(in, out, dims[0], dims[1], dims[2]);
  }
  // General case: one output row (last output axis) at a time; its input offset is computed
  // once per row, so the inner loop is a plain strided read.
  std::vector<int64_t> in_stride(nd, 1), odims(nd), step(nd);
  for (int i = nd - 2; i >= 0; --i) in_stride[i] = in_stride[i + 1] * dims[i + 1];
  for (int i = 0; i < nd; ++i) {
    odims[i] = dims[perm[i]];
    step[i] = in_stride[perm[i]];
  }
  const int64_t inner = odims[nd - 1];
  const int64_t inner_step = step[nd - 1];
  const int64_t rows = size / inner;
  MX_OMP_FOR_IF(size >= kOmpMinWork)
  for (int64_t r = 0; r < rows; ++r) {
    int64_t rem = r, off = 0;
    for (int i = nd - 2; i >= 0; --i) {
      off += (rem % odims[i]) * step[i];
      rem /= odims[i];
    }
    const T* src = in + off;
    T* dst = out + r * inner;
    for (int64_t j = 0; j < inner; ++j) Assign<Req>(dst[j], src[j * inner_step]);
  }
}

void TransposeCompute(const NodeAttrs& attrs, const OpContext& ctx, const std::vector<TBlob>& in,
                      const std::vector<OpReq>& req, const std::vector<TBlob>& out) {
  const std::vector<int> perm = Permutation(attrs.get<TransposeParam>().axes, in[0].shape.ndim());
  MX_NUMERIC_TYPE_SWITCH(out[0].dtype, T, attrs.op->name, {
    MX_REQ_SWITCH(req[0], Req, {
      TransposeKernel<T, Req>(ctx.run, in[0].data<T>(), out[0].data<T>(), in[0].shape, perm);
    });
  });
}

}  // namespace

void RegisterMatrixOps(OpRegistry* reg) {
  reg->Add("dot")
      .Describe(
          "Dot product of two arrays. For 2-D arrays this is the matrix product lhs * rhs; for "
          "two vectors their inner product (shape (1,)). In general the last axis of lhs (the "
          "first with transpose_a) is contracted with the first axis of rhs (the last with "
          "transpose_b), and the output's shape is lhs's remaining axes followed by rhs's.")
      .SetParam<DotParam>()
      .SetInputs({"lhs", "rhs"})
      .SetNumOutputs(1)
      .SetInferShape(DotShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(DotCompute, kGpuKernels)
      .SetWork([](const NodeAttrs&, const std::vector<Shape>& in, const std::vector<Shape>& out) {
        return ProductWork(in, out);
      })
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        return MakeGradNode("_backward_dot", n, {og[0], InputOf(n, 0), InputOf(n, 1)},
                            n->attrs.dict);
      });
  reg->Add("_backward_dot")
      .Describe("Gradient of dot: (lhs_grad, rhs_grad) from (ograd, lhs, rhs).")
      .SetParam<DotParam>()
      .SetInputs({"ograd", "lhs", "rhs"})
      .SetNumOutputs(2)
      .SetOutputNames([](const NodeAttrs&) {
        return std::vector<std::string>{"lhs_grad", "rhs_grad"};
      })
      .SetInferShape(DotBackwardShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(DotBackwardCompute, kGpuKernels)
      .SetBackwardOf("dot");

  reg->Add("batch_dot")
      .Describe(
          "Batched matrix product of 3-D arrays: out[i] = op(lhs[i]) * op(rhs[i]), where op "
          "transposes when transpose_a / transpose_b is set. lhs is (batch, M, K) ((batch, K, M) "
          "with transpose_a), rhs is (batch, K, N) ((batch, N, K) with transpose_b), and the "
          "output is (batch, M, N).")
      .SetParam<DotParam>()
      .SetInputs({"lhs", "rhs"})
      .SetNumOutputs(1)
      .SetInferShape(BatchDotShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(BatchDotCompute, kGpuKernels)
      .SetWork([](const NodeAttrs&, const std::vector<Shape>& in, const std::vector<Shape>& out) {
        return ProductWork(in, out, in[0].ndim() > 0 ? in[0][0] : 1);
      })
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        // With C = op_a(A) op_b(B): d op_a(A) = dC op_b(B)^T, d op_b(B) = op_a(A)^T dC.
        const auto& p = n->attrs.get<DotParam>();
        const bool ta = p.transpose_a, tb = p.transpose_b;
        const NodeEntry a = InputOf(n, 0), b = InputOf(n, 1), dc = og[0];
        auto bd = [&](const char* suffix, NodeEntry x, NodeEntry y, bool tx, bool ty) {
          return MakeGradEntry("batch_dot", n, suffix, {x, y},
                               {{"transpose_a", Bool(tx)}, {"transpose_b", Bool(ty)}});
        };
        NodeEntry da = ta ? bd("lhs_grad", b, dc, tb, true) : bd("lhs_grad", dc, b, false, !tb);
        NodeEntry db = tb ? bd("rhs_grad", dc, a, true, ta) : bd("rhs_grad", a, dc, !ta, false);
        return std::vector<NodeEntry>{da, db};
      });

  reg->Add("transpose")
      .Describe(
          "Permutes the axes of an array: output axis i is input axis axes[i]. With no axes the "
          "order of the axes is reversed (a matrix transpose for 2-D input).")
      .SetParam<TransposeParam>()
      .SetInputs({"data"})
      .SetNumOutputs(1)
      .SetInferShape(TransposeShape)
      .SetInferType(ElemwiseType)
      .SetComputeAll(TransposeCompute, kGpuKernels)
      .SetGradient([](const NodePtr& n, const std::vector<NodeEntry>& og) {
        // The inverse permutation (the reverse is its own inverse).
        const Tuple& axes = n->attrs.get<TransposeParam>().axes;
        Tuple inv;
        if (!axes.empty()) {
          const std::vector<int> perm = Permutation(axes, static_cast<int>(axes.size()));
          inv.v.resize(perm.size());
          for (size_t i = 0; i < perm.size(); ++i) inv.v[perm[i]] = static_cast<int64_t>(i);
        }
        std::ostringstream os;
        os << inv;
        return std::vector<NodeEntry>{
            MakeGradEntry("transpose", n, "backward", {og[0]}, {{"axes", os.str()}})};
      });

  RegisterShapeOps(reg);
  RegisterIndexingOps(reg);
}

}  // namespace mx
