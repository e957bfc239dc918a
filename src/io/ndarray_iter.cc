#include "io/ndarray_iter.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "base/error.h"

namespace mx {
namespace io {
namespace {

// One sample's shape: `shape` without its first axis.
Shape SampleShape(const Shape& shape) {
  return Shape(shape.ToVector().data() + 1, shape.ndim() - 1);
}

class HostArraySource final : public SampleSource {
 public:
  HostArraySource(std::vector<float> data, const Shape& data_shape, std::vector<float> label,
                  const Shape& label_shape)
      : data_(std::move(data)),
        label_(std::move(label)),
        num_samples_(data_shape[0]),
        data_sample_(SampleShape(data_shape)),
        label_sample_(label_shape.ndim() < 0 ? Shape::Unknown() : SampleShape(label_shape)),
        data_row_(data_sample_.Size()),
        label_row_(label_sample_.ndim() < 0 ? 0 : label_sample_.Size()) {}

  int64_t num_samples() const override { return num_samples_; }
  Shape data_shape() const override { return data_sample_; }
  Shape label_shape() const override { return label_sample_; }
  void CopyData(int64_t i, float* dst) const override {
    std::copy_n(data_.data() + i * data_row_, data_row_, dst);
  }
  void CopyLabel(int64_t i, float* dst) const override {
    std::copy_n(label_.data() + i * label_row_, label_row_, dst);
  }

 private:
  std::vector<float> data_, label_;
  int64_t num_samples_;
  Shape data_sample_, label_sample_;
  int64_t data_row_, label_row_;
};

void CheckShapes(const Shape& data_shape, bool has_label, const Shape& label_shape) {
  MX_CHECK(data_shape.ndim() >= 1 && data_shape.IsKnown(), kInvalidArgument)
      << "NDArrayIter: data must have at least one axis (the samples), got shape " << data_shape;
  if (!has_label) return;
  MX_CHECK(label_shape.ndim() >= 1 && label_shape.IsKnown(), kInvalidArgument)
      << "NDArrayIter: label must have at least one axis (the samples), got shape " << label_shape;
  MX_CHECK(label_shape[0] == data_shape[0], kInvalidArgument)
      << "NDArrayIter: data holds " << data_shape[0] << " samples (shape " << data_shape
      << ") but label holds " << label_shape[0] << " (shape " << label_shape << ")";
}

std::vector<float> HostCopy(const NDArray& a) {
  NDArray f32 = a;
  if (a.dtype() != DType::kFloat32 || !a.ctx().is_host()) {
    f32 = NDArray(a.shape(), Context::CPU(), DType::kFloat32);
    NDArray::CopyFromTo(a, f32);
  }
  std::vector<float> out(f32.Size());
  f32.SyncCopyToCPU(out.data(), out.size());
  return out;
}

}  // namespace

std::unique_ptr<DataIter> CreateNDArrayIter(const NDArray& data, const NDArray& label,
                                            const BatchIterParams& params) {
  MX_CHECK(!data.is_none(), kInvalidArgument) << "NDArrayIter: data is a none array";
  const bool has_label = !label.is_none();
  CheckShapes(data.shape(), has_label, has_label ? label.shape() : Shape::Unknown());
  auto source = std::make_unique<HostArraySource>(
      HostCopy(data), data.shape(), has_label ? HostCopy(label) : std::vector<float>(),
      has_label ? label.shape() : Shape::Unknown());
  return std::make_unique<BatchIter>(std::move(source), params);
}

std::unique_ptr<DataIter> CreateNDArrayIter(const float* data, const Shape& data_shape,
                                            const float* label, const Shape& label_shape,
                                            const BatchIterParams& params) {
  const bool has_label = label != nullptr;
  CheckShapes(data_shape, has_label, label_shape);
  MX_CHECK(data != nullptr || data_shape.Size() == 0, kInvalidArgument)
      << "NDArrayIter: data is NULL";
  std::vector<float> d(data, data + data_shape.Size());
  std::vector<float> l;
  if (has_label) l.assign(label, label + label_shape.Size());
  auto source = std::make_unique<HostArraySource>(std::move(d), data_shape, std::move(l),
                                                  has_label ? label_shape : Shape::Unknown());
  return std::make_unique<BatchIter>(std::move(source), params);
}

}  // namespace io
}  // namespace mx
