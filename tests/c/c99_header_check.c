/* Compiled with -std=c99 -pedantic -Werror: the public header must stay plain C99. */
#include <mx/c_api.h>

int mx_c99_header_check(void);
int mx_c99_header_check(void) {
  mx_context_t ctx = {MX_CPU, 0};
  mx_ndarray_t array = NULL;
  mx_symbol_t symbol = NULL;
  (void)array;
  (void)symbol;
  return ctx.device_type + MX_DTYPE_FLOAT32 + MX_OK + MX_VERSION_MAJOR;
}
