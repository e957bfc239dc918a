// The workers of a distributed job (the processes mpirun started together) and the collective
// operations between them: what the dist_* key-value stores are built on.
//
// MPI requires every process to enter the same collectives in the same order, but the engine runs
// a store's allreduces whenever their gradients are ready, which differs from worker to worker. So
// a collective first takes a ticket, on the caller's thread and in program order (identical on
// every worker that runs the same program), and one communication thread then runs the
// collectives strictly in ticket order, whatever order the engine hands them over in:
//
//   WorkerGroup& g = WorkerGroup::Get();      // initialises MPI on first use
//   uint64_t t = g.Reserve();                 // in program order
//   engine->PushAsync([=](RunContext, CallbackOnComplete done) {
//     g.Run(t, Collective{...}, [done](std::exception_ptr e) { e ? done(e) : done(); });
//   }, ..., FnProperty::kCollective);
//
// A collective whose workers do not all arrive within the timeout (MX_KVSTORE_TIMEOUT seconds,
// default 300: another worker failed, exited or stopped making the same calls) fails with an error
// saying so, and so does every collective after it: the group is broken for good, since MPI cannot
// cancel a collective. The process keeps running; at exit a broken group skips MPI_Finalize, so
// mpirun reports the job as failed and stops the other workers.
//
// Built from src/kvstore/worker_group_mpi.cc (MX_USE_MPI) or worker_group_none.cc, where Get()
// is kUnsupported.
#ifndef MX_KVSTORE_WORKER_GROUP_H_
#define MX_KVSTORE_WORKER_GROUP_H_

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "base/dtype.h"

namespace mx {
namespace kvstore {

// One collective over host memory. Segments of one collective share the element type; several
// segments are packed into one message (fused), so many small keys cost one round trip.
struct Collective {
  enum class Kind {
    kAllreduceSum,  // dst = the sum over the workers of src (src == dst: in place)
    kBroadcast,     // dst = rank 0's dst (src unused)
    kAgree,         // every worker passes one uint64_t in src; dst[0] = 1 if all are equal, else 0
  };
  struct Segment {
    const void* src;
    void* dst;
    size_t count;  // elements
  };
  Kind kind = Kind::kAllreduceSum;
  DType dtype = DType::kFloat32;
  std::vector<Segment> segments;
  std::string what;  // names the keys in error messages
  // This worker's values came from an op that failed: it still takes part (the others would wait
  // for it), and the others then fail too instead of using the sum.
  bool input_failed = false;
};

class WorkerGroup {
 public:
  using Done = std::function<void(std::exception_ptr)>;

  // The process's group, initialising MPI on first use (from a program mpirun started, or as a
  // group of one without it). kUnsupported in a build without MPI; kFailed if MPI cannot start.
  static WorkerGroup& Get();
  // Whether this libmx was built with MPI.
  static bool Available();

  virtual ~WorkerGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // The next ticket. Tickets must be taken in the same order on every worker.
  virtual uint64_t Reserve() = 0;
  // Runs `c` on the communication thread once every collective of an earlier ticket has run, then
  // calls done (on that thread) with nullptr or the error. Every ticket must be run exactly once.
  // The memory of `c` must stay valid until done is called.
  virtual void Run(uint64_t ticket, Collective c, Done done) = 0;
  // Reserve + Run + wait: for calls that must finish before returning (kvstore init).
  void RunNow(Collective c);
};

}  // namespace kvstore
}  // namespace mx

#endif  // MX_KVSTORE_WORKER_GROUP_H_
