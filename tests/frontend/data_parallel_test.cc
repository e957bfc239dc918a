// Data parallelism in the C++ front end: mx::KVStore over mx_kvstore_*.
#include <mx/mx.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace {

std::string MessageOf(const std::function<void()>& f, mx_status_t* status = nullptr) {
  try {
    f();
  } catch (const mx::Error& e) {
    if (status != nullptr) *status = e.status();
    return e.what();
  }
  return "(no error)";
}

TEST(KVStore, PushSumsTheValuesOfAKeyAndPullFillsEveryOutput) {
  mx::KVStore kv("local");
  EXPECT_EQ(kv.type(), "local");
  EXPECT_EQ(kv.rank(), 0);
  EXPECT_EQ(kv.num_workers(), 1);
  kv.Init("w", mx::NDArray::FromVector<float>({0, 0, 0}, {3}));
  // Without an optimizer, the sum replaces the stored value.
  kv.Push("w", {mx::NDArray::FromVector<float>({1, 2, 3}, {3}),
                mx::NDArray::FromVector<float>({10, 20, 30}, {3}, mx::Context::CPU(1))});
  mx::NDArray out0({3}), out1({3}, mx::Context::CPU(1));
  kv.Pull("w", {out0, out1});
  EXPECT_EQ(out0.ToVector<float>(), (std::vector<float>{11, 22, 33}));
  EXPECT_EQ(out1.ToVector<float>(), (std::vector<float>{11, 22, 33}));

  // Several keys in one call, each key once per value; with an optimizer each key takes one
  // step with the sum of its values: w - lr * sum. The optimizer is a temporary: the store
  // shares it. Keys come as braced lists or as vectors.
  kv.Init({"a", "b"},
          {mx::NDArray::FromVector<float>({1, 1}, {2}), mx::NDArray::FromVector<float>({5}, {1})});
  kv.SetOptimizer(mx::Optimizer("sgd", {{"learning_rate", "0.5"}}));
  kv.Push({"a", "b", "a", "b"},
          {mx::NDArray::FromVector<float>({1, 2}, {2}), mx::NDArray::FromVector<float>({2}, {1}),
           mx::NDArray::FromVector<float>({3, 4}, {2}), mx::NDArray::FromVector<float>({4}, {1})});
  mx::NDArray a({2}), b({1});
  const std::vector<std::string> keys{"a", "b"};
  kv.Pull(keys, {a, b});
  EXPECT_EQ(a.ToVector<float>(), (std::vector<float>{-1, -2}));  // 1 - 0.5 * (1 + 3), ...
  EXPECT_EQ(b.ToVector<float>(), (std::vector<float>{2}));       // 5 - 0.5 * (2 + 4)

  // The library's errors, and the wrapper's own check of the two lists.
  mx_status_t status = MX_OK;
  EXPECT_NE(MessageOf([&] { kv.Init("w", out0); }, &status).find("key 'w' is already initialised"),
            std::string::npos);
  EXPECT_EQ(status, MX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(MessageOf([&] { kv.Pull("nope", {out0}); }, &status).find("key 'nope'"),
            std::string::npos);
  EXPECT_EQ(status, MX_ERR_NOT_FOUND);
  EXPECT_EQ(MessageOf([&] { kv.Push(keys, {a}); }), "KVStore: 2 keys but 1 arrays");
  EXPECT_NE(MessageOf([] { mx::KVStore("bogus"); }, &status).find("unknown kvstore type 'bogus'"),
            std::string::npos);
  EXPECT_EQ(status, MX_ERR_INVALID_ARGUMENT);
  // The store still works.
  kv.Pull("w", {out0});
  EXPECT_EQ(out0.ToVector<float>(), (std::vector<float>{11, 22, 33}));
}

TEST(KVStore, DeviceStoreKeepsTheKeyWhereItWasInitialised) {
  mx::KVStore kv("device");
  EXPECT_EQ(kv.type(), "device");
  kv.Init("w", mx::NDArray::FromVector<float>({1, 2}, {2}, mx::Context::CPU(1)));
  kv.Push("w", {mx::NDArray::FromVector<float>({1, 1}, {2}),
                mx::NDArray::FromVector<float>({2, 2}, {2}, mx::Context::CPU(1))});
  mx::NDArray out({2});
  kv.Pull("w", {out});
  EXPECT_EQ(out.ToVector<float>(), (std::vector<float>{3, 3}));
}

}  // namespace
