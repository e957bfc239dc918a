// An engine operator: the function plus its deduplicated read/write sets.
//
// Both engines use it. A cached operator (Engine::NewOperator) lives until DeleteOperator and its
// last pushed instance; a one-shot push uses a temporary one, released after it runs. The variable
// lists are std::vectors that keep their capacity when a pooled Operator is reused, so steady-state
// pushes do not allocate.
#ifndef MX_ENGINE_OPERATOR_H_
#define MX_ENGINE_OPERATOR_H_

#include <atomic>
#include <memory>
#include <vector>

#include "engine/engine.h"
#include "engine/error_record.h"

namespace mx {
namespace engine {

class Operator {
 public:
  AsyncFn async_fn;
  SyncFn sync_fn;  // set instead of async_fn for PushSync
  std::vector<Var*> reads;
  std::vector<Var*> writes;
  FnProperty prop = FnProperty::kNormal;
  const char* name = nullptr;
  // Runs even when a variable carries an error (WaitForVar's probe must see the error to report
  // it).
  bool always_run = false;
  // One reference for the owner (cached) or the single run (temporary), one per pending push.
  std::atomic<int> refs{0};
  Operator* pool_next = nullptr;

  // Copies the lists, dropping duplicates and reads of variables that are also written (a variable
  // in both lists is a write: listing it twice would make the op wait for itself). Throws on a
  // negative count or a NULL variable.
  void SetVars(const VarHandle* read, int n_read, const VarHandle* write, int n_write);

  // The first live error on a variable this op touches, or nullptr: such an op is skipped and
  // passes the error on.
  std::shared_ptr<ErrorRecord> InheritedError() const;

  // Stores the op's outcome on the variables it wrote (nullptr clears a reported error).
  void SetWriteErrors(const std::shared_ptr<ErrorRecord>& error) const;

  void ClearFns() {
    async_fn.Reset();
    sync_fn.Reset();
  }
};

}  // namespace engine
}  // namespace mx

#endif  // MX_ENGINE_OPERATOR_H_
