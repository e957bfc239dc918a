#include "kvstore/collective_op.h"

#include <memory>
#include <utility>

#include "engine/engine.h"
#include "engine/error_record.h"

namespace mx {
namespace kvstore {
namespace {

// One message: consecutive keys of one type. Kept alive by the op until the collective is done.
struct Bucket {
  WorkerGroup* group;
  uint64_t ticket;
  Collective::Kind kind;
  std::vector<KeyTransfer> keys;
  std::vector<engine::VarHandle> reads, writes;
};

std::string Describe(const std::vector<KeyTransfer>& keys) {
  std::string s = keys.size() == 1 ? "key '" : "keys '";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i == 4 && keys.size() > 5) {
      s += "', ... (" + std::to_string(keys.size()) + " keys)";
      return s;
    }
    s += (i == 0 ? "" : "', '") + keys[i].key;
  }
  return s + "'";
}

void PushBucket(std::shared_ptr<Bucket> b) {
  for (const KeyTransfer& k : b->keys) {
    k.dst.CheckAndAlloc();
    b->writes.push_back(k.dst.var());
    if (b->kind == Collective::Kind::kAllreduceSum && !k.src.SameData(k.dst)) {
      b->reads.push_back(k.src.var());
    }
  }
  Bucket* raw = b.get();
  engine::Engine::Get()->PushAsync(
      [b](engine::RunContext, engine::CallbackOnComplete done) {
        Collective c;
        c.kind = b->kind;
        c.dtype = b->keys[0].dst.dtype();
        c.what = Describe(b->keys);
        for (const KeyTransfer& k : b->keys) {
          void* dst = k.dst.data().dptr;
          const void* src = b->kind == Collective::Kind::kAllreduceSum ? k.src.data().dptr : dst;
          c.segments.push_back({src, dst, static_cast<size_t>(k.dst.Size())});
        }
        // The op holds these variables, so their errors are stable here (see engine::Var).
        for (engine::VarHandle v : b->reads) c.input_failed |= engine::IsLive(v->error);
        for (engine::VarHandle v : b->writes) c.input_failed |= engine::IsLive(v->error);
        b->group->Run(b->ticket, std::move(c), [b, done](std::exception_ptr e) {
          if (e != nullptr) {
            done(std::move(e));
          } else {
            done();
          }
        });
      },
      Context::CPU(), raw->reads.data(), static_cast<int>(raw->reads.size()), raw->writes.data(),
      static_cast<int>(raw->writes.size()), engine::FnProperty::kCollective, 0,
      b->kind == Collective::Kind::kBroadcast ? "kvstore_broadcast" : "kvstore_allreduce");
}

}  // namespace

void PushCollectives(WorkerGroup& group, Collective::Kind kind,
                     const std::vector<KeyTransfer>& keys) {
  std::shared_ptr<Bucket> open;
  size_t open_bytes = 0;
  for (const KeyTransfer& k : keys) {
    const size_t bytes = k.dst.Bytes();
    const bool fits = open != nullptr && bytes <= kFusionBytes &&
                      open_bytes + bytes <= kFusionBytes &&
                      open->keys[0].dst.dtype() == k.dst.dtype();
    if (!fits) {
      if (open != nullptr) PushBucket(std::move(open));
      open = std::make_shared<Bucket>();
      open->group = &group;
      open->ticket = group.Reserve();
      open->kind = kind;
      open_bytes = 0;
    }
    open->keys.push_back(k);
    open_bytes += bytes;
  }
  if (open != nullptr) PushBucket(std::move(open));
}

}  // namespace kvstore
}  // namespace mx
