/* Built against the installed package: checks that header and library agree on the version. */
#include <mx/c_api.h>
#include <stdio.h>

int main(void) {
  size_t size = 0;
  if (mx_get_version() != MX_VERSION) {
    fprintf(stderr, "header says %d, library says %d\n", MX_VERSION, (int)mx_get_version());
    return 1;
  }
  if (mx_dtype_size(MX_DTYPE_FLOAT64, &size) != MX_OK || size != 8) {
    fprintf(stderr, "mx_dtype_size failed: %s\n", mx_get_last_error());
    return 1;
  }
  printf("consumer linked libmx %s\n", mx_get_version_string());
  return 0;
}
