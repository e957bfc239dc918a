/* Built against the installed package: checks that header and library agree on the version, and
 * that DLPack's header installed with libmx serves the struct of mx_ndarray_to_dlpack. */
#include <dlpack/dlpack.h>
#include <mx/c_api.h>
#include <stdio.h>

int main(void) {
  size_t size = 0;
  const int64_t shape[2] = {2, 3};
  const mx_context_t cpu = {MX_CPU, 0};
  mx_ndarray_t a = NULL;
  DLManagedTensor* t = NULL;
  if (mx_get_version() != MX_VERSION) {
    fprintf(stderr, "header says %d, library says %d\n", MX_VERSION, (int)mx_get_version());
    return 1;
  }
  if (mx_dtype_size(MX_DTYPE_FLOAT64, &size) != MX_OK || size != 8) {
    fprintf(stderr, "mx_dtype_size failed: %s\n", mx_get_last_error());
    return 1;
  }
  if (mx_ndarray_create(shape, 2, MX_DTYPE_FLOAT32, cpu, &a) != MX_OK ||
      mx_ndarray_to_dlpack(a, &t) != MX_OK) {
    fprintf(stderr, "DLPack export failed: %s\n", mx_get_last_error());
    return 1;
  }
  mx_ndarray_free(a);
  if (DLPACK_MAJOR_VERSION != 1 || t->dl_tensor.ndim != 2 || t->dl_tensor.shape[1] != 3 ||
      t->dl_tensor.dtype.code != kDLFloat || t->dl_tensor.device.device_type != kDLCPU) {
    fprintf(stderr, "the exported DLManagedTensor does not read as DLPack 1.0's struct\n");
    return 1;
  }
  t->deleter(t);
  printf("consumer linked libmx %s (DLPack %d.%d)\n", mx_get_version_string(), DLPACK_MAJOR_VERSION,
         DLPACK_MINOR_VERSION);
  return 0;
}
