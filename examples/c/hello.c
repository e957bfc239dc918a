/* The smallest libmx program: version, devices, and an error read back through the C ABI. */
#include <mx/c_api.h>
#include <stdio.h>

int main(void) {
  const char* names[] = {"float32", "float64", "float16", "uint8", "int32", "int8", "int64"};
  int32_t gpus = 0;
  size_t total = 0;
  size_t i;
  printf("libmx %s (header %s)\n", mx_get_version_string(), MX_VERSION_STRING);
  if (mx_gpu_count(&gpus) != MX_OK) return 1;
  printf("GPUs: %d\n", (int)gpus);
  for (i = 0; i < sizeof names / sizeof names[0]; ++i) {
    int32_t dtype = 0;
    size_t size = 0;
    if (mx_dtype_from_name(names[i], &dtype) != MX_OK || mx_dtype_size(dtype, &size) != MX_OK) {
      fprintf(stderr, "error: %s\n", mx_get_last_error());
      return 1;
    }
    total += size;
  }
  printf("bytes of one element of each dtype: %zu\n", total);
  if (mx_dtype_from_name("float128", NULL) != MX_OK)
    printf("an invalid call reports: %s\n", mx_get_last_error());
  return 0;
}
