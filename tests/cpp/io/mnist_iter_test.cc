#include "io/mnist_iter.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zlib.h>

#include <cstdio>
#include <string>
#include <vector>

#include "array_test_util.h"
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
  if (!bytes.empty()) std::fwrite(bytes.data(), 1, bytes.size(), f);  // data() may be null
  std::fclose(f);
  return path;
}

std::string WriteGzip(const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = TempPath(name);
  gzFile f = gzopen(path.c_str(), "wb");
  EXPECT_NE(f, nullptr);
  if (!bytes.empty()) gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
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

using test::Read;

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

// The first bytes decide how a file is read, not its name: plain data named .gz and gzip'ed data
// without .gz read the same.
TEST(IdxFile, PlainAndGzipAreToldApartByTheirFirstBytes) {
  const std::vector<uint8_t> bytes = ImageFile();
  const std::string plain_named_gz = WriteRaw("plain_named.gz", bytes);
  const std::string gz_named_plain = WriteGzip("gz_named_plain", bytes);
  EXPECT_EQ(ReadMaybeGzipFile(plain_named_gz), bytes);
  EXPECT_EQ(ReadMaybeGzipFile(gz_named_plain), bytes);
  EXPECT_EQ(ReadIdxImages(plain_named_gz).pixels, ReadIdxImages(gz_named_plain).pixels);
  EXPECT_EQ(ReadIdxImages(gz_named_plain).pixels,
            std::vector<uint8_t>(bytes.begin() + 16, bytes.end()));
  // A limit on what a file may hold, for plain and gzip'ed files alike.
  for (const std::string& path : {plain_named_gz, gz_named_plain}) {
    EXPECT_EQ(ReadMaybeGzipFile(path, bytes.size()), bytes);
    try {
      ReadMaybeGzipFile(path, bytes.size() - 1);
      ADD_FAILURE() << "no error for " << path;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kIO);
      EXPECT_TRUE(Has(e.what(), path) && Has(e.what(), "allowed")) << e.what();
    }
  }
}

// The error for reading `path` as IDX images; checks that it is kIO naming the file.
std::string ImageError(const std::string& path) {
  try {
    ReadIdxImages(path);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIO) << e.what();
    EXPECT_TRUE(Has(e.what(), "'" + path + "'")) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for " << path;
  return "";
}

// Each kind of damage, in both forms: a clear kIO error naming the file and saying what is wrong.
TEST(IdxFile, DamagedFilesInEitherFormAreErrorsNamingTheFile) {
  for (bool gz : {false, true}) {
    SCOPED_TRACE(gz ? "gzip" : "plain");
    auto write = gz ? WriteGzip : WriteRaw;
    std::vector<uint8_t> cut = ImageFile();
    cut.resize(cut.size() - 7);
    std::string msg = ImageError(write("damaged_cut", cut));
    EXPECT_TRUE(Has(msg, "truncated?") && Has(msg, "53 bytes after the header")) << msg;
    msg = ImageError(write("damaged_header", {0, 0, 8, 3, 0, 0, 0, 5}));
    EXPECT_TRUE(Has(msg, "shorter than the 16-byte header")) << msg;
    msg = ImageError(write("damaged_magic", ImageFile(0x12345678)));
    EXPECT_TRUE(Has(msg, "wrong magic number 305419896")) << msg;
    EXPECT_EQ(Has(msg, "nor is it gzip'ed"), !gz) << msg;
    std::vector<uint8_t> longer = ImageFile();
    longer.push_back(0);
    msg = ImageError(write("damaged_longer", longer));
    EXPECT_TRUE(Has(msg, gz ? "more than 60 bytes" : "61 bytes after the header")) << msg;
    msg = ImageError(write("damaged_empty", {}));
    EXPECT_TRUE(Has(msg, "too short for a magic number")) << msg;
  }
  // Damage only gzip has: a stream cut short (inside the compressed data, or in its trailer),
  // damaged compressed data, and a wrong checksum.
  const std::vector<uint8_t> gz = ReadRaw(WriteGzip("damaged_whole.gz", ImageFile()));
  for (size_t keep : {gz.size() / 2, gz.size() - 4}) {
    const std::string msg =
        ImageError(WriteRaw("damaged_cut.gz", std::vector<uint8_t>(gz.begin(), gz.begin() + keep)));
    EXPECT_TRUE(Has(msg, "truncated")) << msg;
  }
  std::vector<uint8_t> bad = gz;
  for (size_t i = 12; i < bad.size() - 8; ++i) bad[i] ^= 0x5A;
  ImageError(WriteRaw("damaged_data.gz", bad));
  bad = gz;
  bad[bad.size() - 8] ^= 1;  // the CRC-32 of the data
  EXPECT_TRUE(Has(ImageError(WriteRaw("damaged_crc.gz", bad)), "corrupt gzip data"));
  // Not a file to read at all.
  EXPECT_TRUE(Has(ImageError(testing::TempDir()), "directory"));
}

// A header's sizes are checked against the file before anything of that size is allocated: a
// small file claiming 2^32 - 1 images of 28x28 (3.4 TB) is an I/O error, not an allocation
// (which would fail as out of memory, or take the memory).
TEST(IdxFile, AHeaderClaimingMoreThanTheFileHoldsAllocatesNothing) {
  std::vector<uint8_t> f;
  PutBigEndian(&f, kIdxImageMagic);
  PutBigEndian(&f, 0xFFFFFFFFu);
  PutBigEndian(&f, 28);
  PutBigEndian(&f, 28);
  f.insert(f.end(), {1, 2, 3, 4});  // 20 bytes
  for (bool gz : {false, true}) {
    const std::string msg = ImageError((gz ? WriteGzip : WriteRaw)("huge_claim", f));
    EXPECT_TRUE(Has(msg, "4294967295 images of 28x28") && Has(msg, "truncated?")) << msg;
  }
  // Sizes whose product does not even fit in 64 bits.
  f.resize(8);
  PutBigEndian(&f, 0xFFFFFFFFu);
  PutBigEndian(&f, 0xFFFFFFFFu);
  EXPECT_TRUE(Has(ImageError(WriteRaw("overflow_claim", f)), "more than 2^64 bytes"));
  std::vector<uint8_t> labels;
  PutBigEndian(&labels, kIdxLabelMagic);
  PutBigEndian(&labels, 0xFFFFFFFFu);
  try {
    ReadIdxLabels(WriteGzip("huge_claim_lbl", labels));
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kIO);
    EXPECT_TRUE(Has(e.what(), "4294967295 labels") && Has(e.what(), "holds 0 bytes")) << e.what();
  }
}

// A gzip stream that inflates beyond its header's sizes is decompressed only one byte beyond
// them: here 64 MiB of zeros after one declared pixel, with a broken checksum at the very end.
// A reader that inflated it all would report the checksum; the bounded one stops long before.
TEST(IdxFile, AGzipBombStopsAtTheHeadersSize) {
  std::vector<uint8_t> f;
  PutBigEndian(&f, kIdxImageMagic);
  PutBigEndian(&f, 1);
  PutBigEndian(&f, 1);
  PutBigEndian(&f, 1);
  f.push_back(7);
  const std::string path = TempPath("bomb.gz");
  gzFile out = gzopen(path.c_str(), "wb9");
  ASSERT_NE(out, nullptr);
  gzwrite(out, f.data(), static_cast<unsigned>(f.size()));
  const std::vector<uint8_t> zeros(1 << 20, 0);
  for (int i = 0; i < 64; ++i) gzwrite(out, zeros.data(), static_cast<unsigned>(zeros.size()));
  gzclose(out);
  std::vector<uint8_t> bomb = ReadRaw(path);
  EXPECT_LT(bomb.size(), 200u * 1024);
  bomb[bomb.size() - 8] ^= 1;
  const std::string msg = ImageError(WriteRaw("bomb.gz", bomb));
  EXPECT_TRUE(Has(msg, "1 images of 1x1 pixels (1 bytes)") && Has(msg, "more than 1 bytes")) << msg;
}

// A directory holds MNIST's files plain or gzip'ed: either name finds either form, and a file
// missing in both forms is an error naming both paths.
TEST(MNISTIter, FindsEachFileInEitherForm) {
  const std::string plain_img = WriteRaw("either-images", ImageFile());
  const std::string plain_lbl = WriteRaw("either-labels", LabelFile());
  const std::string gz_img = WriteGzip("either-gz-images.gz", ImageFile());
  const std::string gz_lbl = WriteGzip("either-gz-labels.gz", LabelFile());
  std::remove((plain_img + ".gz").c_str());
  std::remove((plain_lbl + ".gz").c_str());
  const std::string gz_img_plain = gz_img.substr(0, gz_img.size() - 3);
  std::remove(gz_img_plain.c_str());
  // Plain files asked for by their .gz names, and the other way round.
  ExpectBatches(CreateMNISTIter(plain_img + ".gz", plain_lbl + ".gz", true, Params(2)).get());
  ExpectBatches(CreateMNISTIter(gz_img_plain, gz_lbl, true, Params(2)).get());
  ExpectBatches(
      CreateMNISTIter(plain_img, gz_lbl.substr(0, gz_lbl.size() - 3), true, Params(2)).get());
  const std::string missing = TempPath("either-missing-images");
  for (const std::string& asked : {missing, missing + ".gz"}) {
    const std::string msg = ErrorOf(asked, plain_lbl, missing);
    EXPECT_TRUE(Has(msg, "'" + missing + "'") && Has(msg, "'" + missing + ".gz'") &&
                Has(msg, "No such file"))
        << msg;
  }
  // Only a missing file falls back: an existing one that cannot be read is reported as it is.
  const std::string msg = ErrorOf(testing::TempDir(), plain_lbl, testing::TempDir());
  EXPECT_TRUE(Has(msg, "directory") && !Has(msg, ".gz")) << msg;
}

// Paths that are not regular files are refused without reading: /dev/zero used to be read
// without end, and a FIFO without a writer blocked in gzopen.
TEST(MNISTIter, DevicesPipesAndDirectoriesAreRefused) {
  const std::string labels = WriteRaw("refuse_lbl", LabelFile());
  EXPECT_TRUE(Has(ErrorOf("/dev/zero", labels, "/dev/zero"), "character device"));
  EXPECT_TRUE(Has(ErrorOf(testing::TempDir(), labels, testing::TempDir()), "directory"));
  const std::string fifo = TempPath("fifo");
  std::remove(fifo.c_str());
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_TRUE(Has(ErrorOf(fifo, labels, fifo), "pipe"));
  std::remove(fifo.c_str());
}

// A file is read no further than its header declares (plus one byte, to see that there is
// more): 64 MiB of labels after a header promising 5 are not inflated and kept.
TEST(MNISTIter, ReadsNoFurtherThanTheHeaderDeclares) {
  const std::string images = WriteRaw("bomb_img", ImageFile());
  std::vector<uint8_t> bomb = LabelFile();
  bomb.resize(bomb.size() + (64 << 20), 1);
  const std::string labels = WriteGzip("bomb_lbl.gz", bomb);
  const std::string msg = ErrorOf(images, labels, labels);
  EXPECT_TRUE(Has(msg, "the header says 5 labels (5 bytes) but the file holds more than 5 bytes"))
      << msg;
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
