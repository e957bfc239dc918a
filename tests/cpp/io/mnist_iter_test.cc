#include "io/mnist_iter.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <string>
#include <vector>

#include "base/error.h"
#include "io/idx_file.h"

namespace mx {
namespace io {
namespace {

constexpr int kCount = 5, kRows = 4, kCols = 3;

std::string TempPath(const std::string& name) {
  return testing::TempDir() + "/mx_mnist_test_" + name;
}

void PutBigEndian(std::vector<uint8_t>* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<uint8_t>(v >> shift));
}

// Pixel k of image i is (i * 50 + k) % 256: distinct per image, with 0 and 255 among them.
std::vector<uint8_t> ImageFile(uint32_t magic = kIdxImageMagic, uint32_t count = kCount) {
  std::vector<uint8_t> f;
  PutBigEndian(&f, magic);
  PutBigEndian(&f, count);
  PutBigEndian(&f, kRows);
  PutBigEndian(&f, kCols);
  for (int i = 0; i < kCount; ++i) {
    for (int k = 0; k < kRows * kCols; ++k) f.push_back(static_cast<uint8_t>((i * 50 + k) % 256));
  }
  f.back() = 255;
  return f;
}

std::vector<uint8_t> LabelFile(uint32_t count = kCount) {
  std::vector<uint8_t> f;
  PutBigEndian(&f, kIdxLabelMagic);
  PutBigEndian(&f, count);
  for (uint32_t i = 0; i < count; ++i) f.push_back(static_cast<uint8_t>(9 - i));
  return f;
}

std::string WriteRaw(const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = TempPath(name);
  FILE* f = std::fopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  return path;
}

std::string WriteGzip(const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = TempPath(name);
  gzFile f = gzopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(f);
  return path;
}

std::vector<uint8_t> ReadRaw(const std::string& path) {
  std::vector<uint8_t> bytes;
  FILE* f = std::fopen(path.c_str(), "rb");
  for (int c; (c = std::fgetc(f)) != EOF;) bytes.push_back(static_cast<uint8_t>(c));
  std::fclose(f);
  return bytes;
}

std::vector<float> Read(const NDArray& a) {
  std::vector<float> v(a.Size());
  a.SyncCopyToCPU(v.data(), v.size());
  return v;
}

BatchIterParams Params(int64_t batch) {
  BatchIterParams p;
  p.batch_size = batch;
  return p;
}

void ExpectBatches(DataIter* it) {
  const std::vector<uint8_t> img = ImageFile();
  int64_t seen = 0;
  while (it->Next()) {
    const std::vector<float> data = Read(it->data()), label = Read(it->label());
    for (int64_t i = 0; i < 2; ++i, ++seen) {
      const int64_t s = seen % kCount;  // the padded last batch wraps to the start
      EXPECT_EQ(label[i], static_cast<float>(9 - s));
      for (int k = 0; k < kRows * kCols; ++k) {
        EXPECT_EQ(data[i * kRows * kCols + k], img[16 + s * kRows * kCols + k] / 255.0f);
      }
    }
  }
  EXPECT_EQ(seen, 6);
}

TEST(MNISTIter, ReadsRawAndGzipFiles) {
  for (bool gz : {false, true}) {
    auto write = gz ? WriteGzip : WriteRaw;
    const std::string images = write(gz ? "img.gz" : "img", ImageFile());
    const std::string labels = write(gz ? "lbl.gz" : "lbl", LabelFile());
    auto flat = CreateMNISTIter(images, labels, true, Params(2));
    EXPECT_EQ(flat->provide_data(), (Shape{2, kRows * kCols}));
    EXPECT_EQ(flat->provide_label(), (Shape{2}));
    ExpectBatches(flat.get());
    auto image = CreateMNISTIter(images, labels, false, Params(2));
    EXPECT_EQ(image->provide_data(), (Shape{2, 1, kRows, kCols}));
    ExpectBatches(image.get());
  }
}

TEST(MNISTIter, PixelsAreScaledToTheUnitInterval) {
  const std::string images = WriteRaw("unit_img", ImageFile());
  const std::string labels = WriteRaw("unit_lbl", LabelFile());
  auto it = CreateMNISTIter(images, labels, true, Params(kCount));
  ASSERT_TRUE(it->Next());
  const std::vector<float> data = Read(it->data());
  EXPECT_EQ(data.front(), 0.0f);
  EXPECT_EQ(data.back(), 1.0f);
}

// The error for reading `images` and `labels`; checks that it is kIO naming `culprit`.
std::string ErrorOf(const std::string& images, const std::string& labels,
                    const std::string& culprit) {
  try {
    CreateMNISTIter(images, labels, true, Params(2));
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIO) << e.what();
    EXPECT_NE(std::string(e.what()).find(culprit), std::string::npos) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for " << images << ", " << labels;
  return "";
}

bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(MNISTIter, BadFilesAreErrorsNamingTheFile) {
  const std::string images = WriteRaw("good_img", ImageFile());
  const std::string labels = WriteGzip("good_lbl.gz", LabelFile());
  const std::string missing = TempPath("does_not_exist");
  EXPECT_TRUE(Has(ErrorOf(missing, labels, missing), "cannot open"));
  // Swapped files: the magic numbers say which is which.
  EXPECT_TRUE(Has(ErrorOf(labels, images, labels), "label file"));
  EXPECT_TRUE(Has(ErrorOf(images, images, images), "wrong magic number 2051"));
  const std::string short_header = WriteRaw("short", {0, 0, 8, 3, 0, 0});
  EXPECT_TRUE(Has(ErrorOf(short_header, labels, short_header), "header"));

  std::vector<uint8_t> cut = ImageFile();
  cut.resize(cut.size() - 7);
  const std::string truncated = WriteRaw("truncated_img", cut);
  EXPECT_TRUE(Has(ErrorOf(truncated, labels, truncated), "truncated"));
  const std::string truncated_gz = WriteGzip("truncated_img.gz", cut);
  EXPECT_TRUE(Has(ErrorOf(truncated_gz, labels, truncated_gz), "truncated"));
  std::vector<uint8_t> long_labels = LabelFile();
  long_labels.push_back(3);
  const std::string extra = WriteRaw("extra_lbl", long_labels);
  EXPECT_TRUE(Has(ErrorOf(images, extra, extra), "5 labels"));

  // A gzip stream cut short, and one with damaged compressed data.
  std::vector<uint8_t> gz = ReadRaw(WriteGzip("whole.gz", ImageFile()));
  const std::string cut_gz =
      WriteRaw("cut.gz", std::vector<uint8_t>(gz.begin(), gz.begin() + gz.size() / 2));
  EXPECT_TRUE(Has(ErrorOf(cut_gz, labels, cut_gz), "truncated gzip"));
  for (size_t i = 12; i < gz.size() - 8; ++i) gz[i] ^= 0x5A;
  const std::string bad_gz = WriteRaw("bad.gz", gz);
  ErrorOf(bad_gz, labels, bad_gz);

  // Both files fine on their own, but their counts disagree.
  const std::string fewer = WriteRaw("fewer_lbl", LabelFile(kCount - 1));
  const std::string msg = ErrorOf(images, fewer, images);
  EXPECT_TRUE(Has(msg, fewer) && Has(msg, "5 images") && Has(msg, "4 labels")) << msg;
}

// A fuzz finding (fuzz/regressions/idx_file/): 2^31 images of 2^20 x 1835008 pixels make 2^64
// bytes, which wrapped to 0 and matched the header-only file; readers then indexed past the end.
TEST(MNISTIter, HeaderCountsWhoseProductWrapsAreErrors) {
  const std::string path =
      std::string(MX_FUZZ_REGRESSIONS_DIR) + "/idx_file/images_count_overflow.idx";
  try {
    ReadIdxImages(path);
    ADD_FAILURE() << "2^31 images read from a 16-byte file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIO);
    EXPECT_TRUE(Has(e.what(), path) && Has(e.what(), "2^64")) << e.what();
  }
}

}  // namespace
}  // namespace io
}  // namespace mx
