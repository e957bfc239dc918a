#include "engine/operator.h"

#include <algorithm>

#include "base/error.h"

namespace mx {
namespace engine {
namespace {

bool Contains(const std::vector<Var*>& vars, Var* v) {
  // Lists are short (a handful of vars per op): a linear scan beats hashing and never allocates.
  return std::find(vars.begin(), vars.end(), v) != vars.end();
}

}  // namespace

void Operator::SetVars(const VarHandle* read, int n_read, const VarHandle* write, int n_write) {
  MX_CHECK(n_read >= 0 && n_write >= 0, kInvalidArgument)
      << "engine push: negative variable count (n_read=" << n_read << ", n_write=" << n_write
      << ")";
  MX_CHECK(n_read == 0 || read != nullptr, kInvalidArgument)
      << "engine push: read list is NULL but n_read=" << n_read;
  MX_CHECK(n_write == 0 || write != nullptr, kInvalidArgument)
      << "engine push: write list is NULL but n_write=" << n_write;
  reads.clear();
  writes.clear();
  for (int i = 0; i < n_write; ++i) {
    MX_CHECK(write[i] != nullptr, kInvalidArgument) << "engine push: write var " << i << " is NULL";
    if (!Contains(writes, write[i])) writes.push_back(write[i]);
  }
  for (int i = 0; i < n_read; ++i) {
    MX_CHECK(read[i] != nullptr, kInvalidArgument) << "engine push: read var " << i << " is NULL";
    if (!Contains(writes, read[i]) && !Contains(reads, read[i])) reads.push_back(read[i]);
  }
}

std::shared_ptr<ErrorRecord> Operator::InheritedError() const {
  for (Var* v : reads)
    if (IsLive(v->error)) return v->error;
  for (Var* v : writes)
    if (IsLive(v->error)) return v->error;
  return nullptr;
}

void Operator::SetWriteErrors(const std::shared_ptr<ErrorRecord>& error) const {
  for (Var* v : writes) {
    // Skip the atomic refcount traffic of a shared_ptr copy in the common all-clean case.
    if (error != nullptr || v->error != nullptr) v->error = error;
  }
}

}  // namespace engine
}  // namespace mx
