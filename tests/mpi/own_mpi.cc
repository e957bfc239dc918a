// A program that initialises and finalises MPI itself, using a dist_sync store in between
// (tests/CMakeLists.txt runs it under mpirun with 2 workers). With MPI_THREAD_MULTIPLE the store
// works alongside the program's own MPI calls and the program exits cleanly after its own
// MPI_Finalize; with less, creating the store is an error naming MPI_THREAD_MULTIPLE (libmx calls
// MPI from a thread of its own). Prints "PASS" and exits 0, or says what failed and exits 1.
#include <mpi.h>
#include <mx/c_api.h>

#include <cstdio>
#include <cstring>

namespace {

int Fail(const char* what) {
  std::printf("FAIL: %s (%s)\n", what, mx_get_last_error());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const bool multiple = argc > 1 && std::strcmp(argv[1], "multiple") == 0;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, multiple ? MPI_THREAD_MULTIPLE : MPI_THREAD_FUNNELED, &provided);
  int rank = 0, size = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  mx_kvstore_t kv = nullptr;
  const mx_status_t created = mx_kvstore_create("dist_sync", &kv);
  if (!multiple) {
    if (created == MX_OK) return Fail("a store was created without MPI_THREAD_MULTIPLE");
    if (std::strstr(mx_get_last_error(), "MPI_THREAD_MULTIPLE") == nullptr) {
      return Fail("the error does not name MPI_THREAD_MULTIPLE");
    }
    MPI_Finalize();
    std::printf("PASS\n");
    return 0;
  }
  if (created != MX_OK) return Fail("create");
  const int64_t shape[1] = {3};
  const mx_context_t cpu = {MX_CPU, 0};
  const float mine[3] = {1.0f * static_cast<float>(rank), 1, 2};
  float got[3] = {0, 0, 0};
  mx_ndarray_t v = nullptr;
  const char* key = "v";
  if (mx_ndarray_create(shape, 1, MX_DTYPE_FLOAT32, cpu, &v) != MX_OK) return Fail("create array");
  if (mx_ndarray_copy_from_host(v, mine, sizeof mine) != MX_OK) return Fail("copy in");
  if (mx_kvstore_init(kv, 1, &key, &v) != MX_OK) return Fail("init");
  // The program's own collective, between the store's: they never mix up.
  float total = 0, one = 1;
  MPI_Allreduce(&one, &total, 1, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  if (mx_kvstore_push(kv, 1, &key, &v, 0) != MX_OK) return Fail("push");
  if (mx_kvstore_pull(kv, 1, &key, &v, 0) != MX_OK) return Fail("pull");
  if (mx_ndarray_copy_to_host(v, got, sizeof got) != MX_OK) return Fail("copy out");
  const float n = static_cast<float>(size);
  if (total != n || got[1] != n || got[2] != 2 * n || got[0] != n * (n - 1) / 2) {
    return Fail("wrong sums");
  }
  mx_ndarray_free(v);
  mx_kvstore_free(kv);
  MPI_Finalize();  // before libmx's exit handler, which must then leave MPI alone
  std::printf("PASS\n");
  return 0;
}
