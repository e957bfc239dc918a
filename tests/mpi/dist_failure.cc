// A distributed job in which the last worker fails, for tests/mpi/run_failure_test.sh: the others
// must fail with a clear error within the store's timeout, and mpirun must end the job, never
// hang. Modes (argv[1]):
//   stop   the last worker never pushes (it returns from main): the others' push times out
//   crash  the last worker aborts before its push: mpirun stops the others
// The other workers print "worker R: <error>" and exit 1.
#include <mx/c_api.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

int Fail(int rank) {
  std::fprintf(stderr, "worker %d: %s\n", rank, mx_get_last_error());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  mx_kvstore_t kv = nullptr;
  if (mx_kvstore_create("dist_sync", &kv) != MX_OK) return Fail(-1);
  int32_t rank = 0, workers = 0;
  mx_kvstore_get_rank(kv, &rank);
  mx_kvstore_get_num_workers(kv, &workers);
  const int64_t shape[1] = {1000};
  const mx_context_t cpu = {MX_CPU, 0};
  static float host[1000];
  mx_ndarray_t w = nullptr, out = nullptr;
  if (mx_ndarray_create(shape, 1, MX_DTYPE_FLOAT32, cpu, &w) != MX_OK) return Fail(rank);
  if (mx_ndarray_create(shape, 1, MX_DTYPE_FLOAT32, cpu, &out) != MX_OK) return Fail(rank);
  if (mx_ndarray_copy_from_host(w, host, sizeof host) != MX_OK) return Fail(rank);
  const char* key = "w";
  if (mx_kvstore_init(kv, 1, &key, &w) != MX_OK) return Fail(rank);
  if (rank == workers - 1) {
    if (std::strcmp(mode, "crash") == 0) std::abort();
    std::printf("worker %d: leaving without pushing\n", rank);
    return 0;
  }
  if (mx_kvstore_push(kv, 1, &key, &w, 0) != MX_OK) return Fail(rank);
  if (mx_kvstore_pull(kv, 1, &key, &out, 0) != MX_OK) return Fail(rank);
  if (mx_ndarray_copy_to_host(out, host, sizeof host) != MX_OK) return Fail(rank);
  std::printf("worker %d: the push completed without the last worker\n", rank);
  return 0;
}
