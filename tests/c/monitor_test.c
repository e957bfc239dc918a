/* Executor monitors through the C ABI: every node output is reported, and once
 * mx_executor_set_monitor or mx_executor_free returns the old callback is never called again,
 * even with monitor calls still queued on the engine (so its user_data may be released). */
#include <mx/c_api.h>
#include <string.h>

#include "mini_test.h"

typedef struct counter {
  int calls;
  int fc_seen;
} counter;

static void count(const char* name, mx_ndarray_t value, void* user_data) {
  counter* c = (counter*)user_data;
  int32_t ndim = 0;
  const int64_t* dims = NULL;
  ++c->calls;
  if (strcmp(name, "fc_output") == 0 && mx_ndarray_get_shape(value, &ndim, &dims) == MX_OK &&
      ndim == 2 && dims[0] == 64 && dims[1] == 32)
    ++c->fc_seen;
}

static mx_symbol_t network(void) {
  mx_symbol_t data = NULL, fc = NULL, act = NULL;
  const char* k[1] = {"num_hidden"};
  const char* v[1] = {"32"};
  const char* ak[1] = {"act_type"};
  const char* av[1] = {"relu"};
  mx_symbol_create_variable("data", &data);
  mx_symbol_create_op("FullyConnected", 1, k, v, &fc);
  mx_symbol_compose(fc, "fc", 1, NULL, &data);
  mx_symbol_create_op("Activation", 1, ak, av, &act);
  mx_symbol_compose(act, "relu", 1, NULL, &fc);
  mx_symbol_free(data);
  mx_symbol_free(fc);
  return act;
}

static mx_executor_t bind(mx_symbol_t net) {
  mx_simple_bind_options_t o;
  mx_executor_t exec = NULL;
  const char* names[1] = {"data"};
  int32_t ndims[1] = {2};
  int64_t shape[2] = {64, 128};
  const int64_t* shapes[1];
  shapes[0] = shape;
  mx_simple_bind_options_default(&o);
  o.num_shapes = 1;
  o.shape_names = names;
  o.shape_ndims = ndims;
  o.shapes = shapes;
  o.grad_req = MX_GRAD_NULL;
  if (mx_executor_simple_bind(net, &o, &exec) != MX_OK) return NULL;
  return exec;
}

int main(void) {
  mx_symbol_t net = network();
  mx_executor_t exec = bind(net);
  counter a = {0, 0}, b = {0, 0};
  int i, after;
  MT_CHECK(exec != NULL);

  /* Every computed node output is reported. */
  MT_CHECK(mx_executor_set_monitor(exec, count, &a) == MX_OK);
  MT_CHECK(mx_executor_forward(exec, 0) == MX_OK);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(a.calls >= 2 && a.fc_seen == 1);

  /* Replacing the monitor with work queued: the old one is not called afterwards. */
  for (i = 0; i < 20; ++i) MT_CHECK(mx_executor_forward(exec, 0) == MX_OK);
  MT_CHECK(mx_executor_set_monitor(exec, count, &b) == MX_OK);
  after = a.calls;
  for (i = 0; i < 5; ++i) MT_CHECK(mx_executor_forward(exec, 0) == MX_OK);
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(a.calls == after);
  MT_CHECK(b.fc_seen == 5);

  /* Freeing with work queued: the monitor is not called afterwards either. */
  for (i = 0; i < 20; ++i) MT_CHECK(mx_executor_forward(exec, 0) == MX_OK);
  MT_CHECK(mx_executor_free(exec) == MX_OK);
  after = b.calls;
  MT_CHECK(mx_engine_wait_all() == MX_OK);
  MT_CHECK(b.calls == after);

  /* Removing it works too, and a NULL executor is an error. */
  exec = bind(net);
  MT_CHECK(mx_executor_set_monitor(exec, count, &a) == MX_OK);
  MT_CHECK(mx_executor_set_monitor(exec, NULL, NULL) == MX_OK);
  after = a.calls;
  MT_CHECK(mx_executor_forward(exec, 0) == MX_OK && mx_engine_wait_all() == MX_OK);
  MT_CHECK(a.calls == after);
  MT_CHECK(mx_executor_set_monitor(NULL, count, &a) == MX_ERR_INVALID_ARGUMENT);
  mx_executor_free(exec);
  mx_symbol_free(net);
  return mt_finish();
}
