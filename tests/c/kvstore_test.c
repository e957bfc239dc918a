/* Key-value stores through the C ABI: init, push from two "devices" summed, pull into both,
 * an optimizer shared with the store (its handle freed first), and bad inputs. */
#include <mx/c_api.h>
#include <string.h>

#include "mini_test.h"

static mx_ndarray_t filled(int32_t dev, float a, float b) {
  int64_t shape[1] = {2};
  float v[2];
  mx_context_t ctx;
  mx_ndarray_t arr = NULL;
  ctx.device_type = MX_CPU;
  ctx.device_id = dev;
  v[0] = a;
  v[1] = b;
  mx_ndarray_create(shape, 1, MX_DTYPE_FLOAT32, ctx, &arr);
  mx_ndarray_copy_from_host(arr, v, sizeof v);
  return arr;
}

static int equals(mx_ndarray_t arr, float a, float b) {
  float v[2] = {0, 0};
  if (mx_ndarray_copy_to_host(arr, v, sizeof v) != MX_OK) return 0;
  return v[0] > a - 1e-5f && v[0] < a + 1e-5f && v[1] > b - 1e-5f && v[1] < b + 1e-5f;
}

int main(void) {
  mx_kvstore_t kv = NULL, bad = (mx_kvstore_t)0;
  mx_optimizer_t sgd = NULL;
  const char* keys[2] = {"fc_weight", "fc_weight"};
  const char* okeys[1] = {"learning_rate"};
  const char* ovals[1] = {"0.5"};
  const char* type = NULL;
  mx_ndarray_t w = filled(0, 1, 2), grads[2], outs[2];
  int32_t rank = -1, workers = 0;
  grads[0] = filled(0, 1, 1);
  grads[1] = filled(1, 3, 5);
  outs[0] = filled(0, 0, 0);
  outs[1] = filled(1, 0, 0);

  MT_CHECK(mx_kvstore_create("local", &kv) == MX_OK);
  MT_CHECK(mx_kvstore_get_type(kv, &type) == MX_OK && strcmp(type, "local") == 0);
  MT_CHECK(mx_kvstore_get_rank(kv, &rank) == MX_OK && rank == 0);
  MT_CHECK(mx_kvstore_get_num_workers(kv, &workers) == MX_OK && workers == 1);
  MT_CHECK(mx_kvstore_init(kv, 1, keys, &w) == MX_OK);
  /* Without an optimizer a push stores the sum. */
  MT_CHECK(mx_kvstore_push(kv, 2, keys, grads, 0) == MX_OK);
  MT_CHECK(mx_kvstore_pull(kv, 2, keys, outs, 0) == MX_OK);
  MT_CHECK(equals(outs[0], 4, 6) && equals(outs[1], 4, 6));
  /* With one, a push is a step on the stored value: 4 - 0.5 * 4, 6 - 0.5 * 6. The store
   * shares the optimizer, so freeing the handle does not end it. */
  MT_CHECK(mx_optimizer_create("sgd", 1, okeys, ovals, &sgd) == MX_OK);
  MT_CHECK(mx_kvstore_set_optimizer(kv, sgd) == MX_OK);
  MT_CHECK(mx_optimizer_free(sgd) == MX_OK);
  MT_CHECK(mx_kvstore_push(kv, 2, keys, grads, 0) == MX_OK);
  MT_CHECK(mx_kvstore_pull(kv, 2, keys, outs, 0) == MX_OK);
  MT_CHECK(equals(outs[0], 2, 3) && equals(outs[1], 2, 3));

  /* Bad inputs are statuses with messages; the store keeps working. */
  MT_CHECK(mx_kvstore_create("dist_async", &bad) == MX_ERR_UNSUPPORTED);
  MT_CHECK(strstr(mx_get_last_error(), "MPI") != NULL && bad == NULL);
  MT_CHECK(mx_kvstore_create("bogus", &bad) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_kvstore_init(kv, 1, keys, &w) == MX_ERR_INVALID_ARGUMENT);
  keys[1] = "missing";
  MT_CHECK(mx_kvstore_pull(kv, 2, keys, outs, 0) == MX_ERR_NOT_FOUND);
  MT_CHECK(strstr(mx_get_last_error(), "'missing'") != NULL);
  MT_CHECK(mx_kvstore_push(kv, 1, NULL, grads, 0) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_kvstore_push(NULL, 1, keys, grads, 0) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_kvstore_set_optimizer(kv, NULL) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_kvstore_pull(kv, 1, keys, outs, 0) == MX_OK && equals(outs[0], 2, 3));

  MT_CHECK(mx_kvstore_free(kv) == MX_OK);
  MT_CHECK(mx_kvstore_free(NULL) == MX_OK);
  mx_ndarray_free(w);
  mx_ndarray_free(grads[0]);
  mx_ndarray_free(grads[1]);
  mx_ndarray_free(outs[0]);
  mx_ndarray_free(outs[1]);
  return mt_finish();
}
