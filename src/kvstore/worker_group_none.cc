// The worker group of a libmx built without MPI (MX_USE_MPI=OFF): there is none.
#include "base/error.h"
#include "kvstore/worker_group.h"

namespace mx {
namespace kvstore {

bool WorkerGroup::Available() { return false; }

WorkerGroup& WorkerGroup::Get() {
  MX_THROW(kUnsupported) << "distributed key-value stores synchronise processes through MPI, and "
                            "this libmx was built without MPI (configure with -DMX_USE_MPI=ON "
                            "after apt-get install libopenmpi-dev); use 'local' or 'device' in "
                            "one process";
}

}  // namespace kvstore
}  // namespace mx
