#include "io/mnist_iter.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "base/error.h"
#include "io/idx_file.h"

namespace mx {
namespace io {
namespace {

// Keeps the bytes as they are in the file (a quarter of the float size) and scales while
// copying into a batch, on the prefetch thread.
class MnistSource final : public SampleSource {
 public:
  // Samples [first, first + count) of the file.
  MnistSource(IdxImages images, std::vector<uint8_t> labels, bool flat, int64_t first,
              int64_t count)
      : images_(std::move(images)),
        labels_(std::move(labels)),
        pixels_(images_.rows * images_.cols),
        sample_(flat ? Shape{pixels_} : Shape{1, images_.rows, images_.cols}),
        first_(first),
        count_(count) {}

  int64_t num_samples() const override { return count_; }
  Shape data_shape() const override { return sample_; }
  Shape label_shape() const override { return Shape(); }
  void CopyData(int64_t i, float* dst) const override {
    const uint8_t* src = images_.pixels.data() + (first_ + i) * pixels_;
    // A division, not a multiplication by 1/255 (which would not give exactly 1.0 for 255), and
    // not a 256-entry table: the loop vectorises (a table lookup is a gather; it took 10% of the
    // CPU of MLP training on the prefetch thread).
    for (int64_t k = 0; k < pixels_; ++k) dst[k] = static_cast<float>(src[k]) / 255.0f;
  }
  void CopyLabel(int64_t i, float* dst) const override {
    *dst = static_cast<float>(labels_[first_ + i]);
  }

 private:
  IdxImages images_;
  std::vector<uint8_t> labels_;
  int64_t pixels_;
  Shape sample_;
  int64_t first_, count_;
};

// MNIST's files come gzip'ed or not, and a directory holds one form or the other: `path` when it
// exists, else the same name with ".gz" added (or removed, for a name ending in ".gz") when that
// exists. The reader tells the forms apart by their first bytes, so either name may hold either.
std::string EitherForm(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return path;
  const int err = errno;
  if (err != ENOENT && err != ENOTDIR) return path;  // the reader names the real problem
  const bool gz = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
  const std::string other = gz ? path.substr(0, path.size() - 3) : path + ".gz";
  if (::stat(other.c_str(), &st) == 0) return other;
  MX_THROW(kIO) << "MNIST: cannot open '" << path << "' or '" << other
                << "': " << std::strerror(err);
}

}  // namespace

std::unique_ptr<DataIter> CreateMNISTIter(const std::string& image_path,
                                          const std::string& label_path, bool flat,
                                          const BatchIterParams& params, int num_parts,
                                          int part_index) {
  MX_CHECK(num_parts >= 1 && part_index >= 0 && part_index < num_parts, kInvalidArgument)
      << "MNIST: part " << part_index << " of " << num_parts
      << ": expected 0 <= part_index < num_parts";
  const std::string image_file = EitherForm(image_path);
  IdxImages images = ReadIdxImages(image_file);
  const std::string label_file = EitherForm(label_path);
  std::vector<uint8_t> labels = ReadIdxLabels(label_file);
  MX_CHECK(images.count == static_cast<int64_t>(labels.size()), kIO)
      << "MNIST: '" << image_file << "' holds " << images.count << " images but '" << label_file
      << "' holds " << labels.size() << " labels";
  MX_CHECK(images.count > 0, kIO) << "MNIST: '" << image_file << "' holds no images";
  // Equal parts, the last (count % num_parts) samples left out: workers of a distributed job must
  // take the same number of steps per epoch, or the ones with more wait for the others forever.
  const int64_t count = images.count / num_parts;
  const int64_t first = part_index * count;
  MX_CHECK(count > 0, kInvalidArgument) << "MNIST: '" << image_file << "' holds " << images.count
                                        << " images, too few for " << num_parts << " parts";
  return std::make_unique<BatchIter>(
      std::make_unique<MnistSource>(std::move(images), std::move(labels), flat, first, count),
      params);
}

}  // namespace io
}  // namespace mx
