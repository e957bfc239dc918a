// Metrics on hand-made labels and predictions.
#include "train/metric.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "base/error.h"

namespace mx {
namespace train {
namespace {

NDArray Make(const std::vector<float>& v, const Shape& shape, DType dtype = DType::kFloat32) {
  NDArray f(shape, Context::CPU());
  f.SyncCopyFromCPU(v.data(), v.size());
  if (dtype == DType::kFloat32) return f;
  NDArray a(shape, Context::CPU(), dtype);
  NDArray::CopyFromTo(f, a);
  return a;
}

// Rows of 3 class scores; argmax 1, 0, 2, 2.
const std::vector<float> kProbs = {0.2f, 0.7f, 0.1f,  //
                                   0.5f, 0.3f, 0.2f,  //
                                   0.1f, 0.3f, 0.6f,  //
                                   0.3f, 0.3f, 0.4f};

TEST(MetricTest, Accuracy) {
  auto m = Metric::Create("acc", {});
  EXPECT_TRUE(std::isnan(m->Get().second));
  m->Update({Make({1, 0, 0, 1}, Shape{4})}, {Make(kProbs, Shape{4, 3})});  // 2 of 4
  EXPECT_EQ(m->Get().first, "accuracy");
  EXPECT_DOUBLE_EQ(m->Get().second, 0.5);
  m->Update({Make({1, 0}, Shape{2})}, {Make({0, 1, 1, 0}, Shape{2, 2})});  // 2 of 2
  EXPECT_DOUBLE_EQ(m->Get().second, 4.0 / 6.0);
  m->Reset();
  EXPECT_TRUE(std::isnan(m->Get().second));
  // Predictions shaped like the labels are class indices already; integer labels work too.
  m->Update({Make({1, 2, 3}, Shape{3}, DType::kInt32)}, {Make({1, 2, 0}, Shape{3})});
  EXPECT_DOUBLE_EQ(m->Get().second, 2.0 / 3.0);
}

TEST(MetricTest, AccuracyAlongAxis1OfImages) {
  // (batch 1, classes 2, 2 pixels): pixel 0 predicts class 1, pixel 1 class 0.
  auto m = Metric::Create("accuracy", {});
  m->Update({Make({1, 1}, Shape{1, 2})}, {Make({0.1f, 0.9f, 0.9f, 0.1f}, Shape{1, 2, 2})});
  EXPECT_DOUBLE_EQ(m->Get().second, 0.5);
}

TEST(MetricTest, TopK) {
  auto m = Metric::Create("top_k_accuracy", {{"top_k", "2"}});
  EXPECT_EQ(m->Get().first, "top_k_accuracy_2");
  // Second-best classes: 0, 1, 1, (0 and 1 tie).
  m->Update({Make({0, 2, 1, 1}, Shape{4})}, {Make(kProbs, Shape{4, 3})});
  EXPECT_DOUBLE_EQ(m->Get().second, 3.0 / 4.0);  // label 2 in row 1 is last
  auto top1 = Metric::Create("top_k_acc", {});
  top1->Update({Make({1, 0, 0, 1}, Shape{4})}, {Make(kProbs, Shape{4, 3})});
  EXPECT_DOUBLE_EQ(top1->Get().second, 0.5);
}

TEST(MetricTest, CrossEntropy) {
  auto m = Metric::Create("ce", {});
  EXPECT_EQ(m->Get().first, "cross-entropy");
  m->Update({Make({1, 0, 2, 0}, Shape{4})}, {Make(kProbs, Shape{4, 3})});
  const double want = -(std::log(0.7) + std::log(0.5) + std::log(0.6) + std::log(0.3)) / 4;
  EXPECT_NEAR(m->Get().second, want, 1e-6);
  // eps keeps a zero probability finite.
  auto z = Metric::Create("cross-entropy", {});
  z->Update({Make({0}, Shape{1})}, {Make({0, 1}, Shape{1, 2})});
  EXPECT_NEAR(z->Get().second, -std::log(1e-12), 1e-6);
}

TEST(MetricTest, MseAveragesBatches) {
  auto m = Metric::Create("mse", {});
  m->Update({Make({1, 2}, Shape{2})}, {Make({1, 4}, Shape{2, 1})});           // mean 2
  m->Update({Make({0, 0, 0, 0}, Shape{4})}, {Make({1, 1, 1, 1}, Shape{4})});  // mean 1
  EXPECT_EQ(m->Get().first, "mse");
  EXPECT_DOUBLE_EQ(m->Get().second, 1.5);
}

TEST(MetricTest, Errors) {
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([] { Metric::Create("f1", {}); }).find("'f1'"), std::string::npos);
  EXPECT_NE(message([] {
              Metric::Create("acc", {{"top_k", "2"}});
            }).find("'top_k'"),
            std::string::npos);
  EXPECT_NE(message([] {
              Metric::Create("top_k_accuracy", {{"top_k", "0"}});
            }).find("top_k"),
            std::string::npos);
  auto acc = Metric::Create("acc", {});
  EXPECT_NE(message([&] {
              acc->Update({Make({1, 0, 0}, Shape{3})}, {Make(kProbs, Shape{4, 3})});
            }).find("(4,3)"),
            std::string::npos);
  EXPECT_NE(message([&] {
              acc->Update({}, {Make(kProbs, Shape{4, 3})});
            }).find("0 label"),
            std::string::npos);
  auto ce = Metric::Create("ce", {});
  EXPECT_NE(message([&] {
              ce->Update({Make({3}, Shape{1})}, {Make({0.5f, 0.5f}, Shape{1, 2})});
            }).find("label 3"),
            std::string::npos);
}

}  // namespace
}  // namespace train
}  // namespace mx
