/* The seed document's symbolic examples through the C ABI: (a + b) / 10 + 1, infer_shape, bind
 * without and with gradients, backward of ones, simple_bind; and bad inputs. */
#include <mx/c_api.h>
#include <string.h>

#include "mini_test.h"

static const mx_context_t kCpu = {MX_CPU, 0};

static mx_symbol_t op1(const char* op, mx_symbol_t in, const char* key, const char* val) {
  mx_symbol_t s = NULL;
  const char* keys[1];
  const char* vals[1];
  keys[0] = key;
  vals[0] = val;
  if (mx_symbol_create_op(op, key ? 1 : 0, keys, vals, &s) != MX_OK) return NULL;
  if (mx_symbol_compose(s, NULL, 1, NULL, &in) != MX_OK) {
    mx_symbol_free(s);
    return NULL;
  }
  return s;
}

static mx_symbol_t seed_symbol(void) {
  mx_symbol_t ab[2], sum = NULL, div, out;
  mx_symbol_create_variable("A", &ab[0]);
  mx_symbol_create_variable("B", &ab[1]);
  mx_symbol_create_op("elemwise_add", 0, NULL, NULL, &sum);
  mx_symbol_compose(sum, NULL, 2, NULL, ab);
  div = op1("_div_scalar", sum, "scalar", "10");
  out = op1("_plus_scalar", div, "scalar", "1");
  mx_symbol_free(ab[0]);
  mx_symbol_free(ab[1]);
  mx_symbol_free(sum);
  mx_symbol_free(div);
  return out;
}

static mx_ndarray_t filled(float v) {
  int64_t shape[1] = {10};
  float values[10];
  int i;
  mx_ndarray_t a = NULL;
  for (i = 0; i < 10; ++i) values[i] = v;
  mx_ndarray_create(shape, 1, MX_DTYPE_FLOAT32, kCpu, &a);
  mx_ndarray_copy_from_host(a, values, sizeof values);
  return a;
}

static void test_infer_shape(mx_symbol_t c) {
  const char* names[1] = {"A"};
  int32_t ndims[1] = {1};
  int64_t dims_a[1] = {10};
  const int64_t* dims[1];
  mx_shape_list_t args, outs, aux;
  int32_t complete = 0;
  const char** arg_names = NULL;
  const char** out_names = NULL;
  int32_t n = 0;
  dims[0] = dims_a;
  MT_CHECK(mx_symbol_list_arguments(c, &n, &arg_names) == MX_OK && n == 2);
  MT_CHECK(strcmp(arg_names[0], "A") == 0 && strcmp(arg_names[1], "B") == 0);
  MT_CHECK(mx_symbol_list_outputs(c, &n, &out_names) == MX_OK && n == 1);
  MT_CHECK(strncmp(out_names[0], "_plusscalar", 11) == 0);
  MT_CHECK(strstr(out_names[0], "_output") != NULL);
  MT_CHECK(mx_symbol_infer_shape(c, 1, names, ndims, dims, &args, &outs, &aux, &complete) == MX_OK);
  MT_CHECK(complete == 1 && args.num == 2 && outs.num == 1 && aux.num == 0);
  MT_CHECK(args.ndims[1] == 1 && args.dims[1][0] == 10 && outs.dims[0][0] == 10);
  /* Partial: nothing known. */
  MT_CHECK(mx_symbol_infer_shape(c, 0, NULL, NULL, NULL, &args, &outs, &aux, &complete) == MX_OK);
  MT_CHECK(complete == 0);
  /* Without out_complete, what stays unknown is the error, named by argument and use. */
  MT_CHECK(mx_symbol_infer_shape(c, 0, NULL, NULL, NULL, &args, &outs, &aux, NULL) ==
           MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "cannot infer every shape: argument 'A' (input 'lhs' of") !=
           NULL);
  MT_CHECK(mx_symbol_infer_shape(c, 1, names, ndims, dims, &args, &outs, &aux, NULL) == MX_OK);
  MT_CHECK(args.num == 2 && args.dims[0][0] == 10);
}

/* MXNet's partial shapes: a 0 dim, or no dims at all, is unknown. */
static void test_partial_shapes(mx_symbol_t c) {
  const char* names[2] = {"A", "B"};
  int32_t ndims[2] = {2, 2};
  int64_t a[2] = {12, 0}, b[2] = {0, 10};
  const int64_t* dims[2];
  mx_shape_list_t args, outs, aux;
  int32_t complete = 0;
  dims[0] = a;
  dims[1] = b;
  MT_CHECK(mx_symbol_infer_shape(c, 2, names, ndims, dims, &args, &outs, &aux, &complete) == MX_OK);
  MT_CHECK(complete == 1 && args.dims[0][1] == 10 && args.dims[1][0] == 12);
  MT_CHECK(outs.ndims[0] == 2 && outs.dims[0][0] == 12 && outs.dims[0][1] == 10);
  ndims[1] = 0; /* B: nothing known */
  MT_CHECK(mx_symbol_infer_shape(c, 2, names, ndims, dims, &args, &outs, &aux, &complete) == MX_OK);
  MT_CHECK(complete == 0 && args.ndims[1] == 2 && args.dims[1][0] == 12 && args.dims[1][1] == -1);
  ndims[1] = -2;
  MT_CHECK(mx_symbol_infer_shape(c, 2, names, ndims, dims, &args, &outs, &aux, &complete) ==
           MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "'B'") != NULL);
  names[1] = "A";
  ndims[1] = 2;
  MT_CHECK(mx_symbol_infer_shape(c, 2, names, ndims, dims, &args, &outs, &aux, &complete) ==
           MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "'A' is given twice") != NULL);
}

static void test_bind_forward_backward(mx_symbol_t c) {
  mx_ndarray_t args[2], grads[2], *outs = NULL, ones;
  mx_bind_options_t o;
  mx_executor_t exec = NULL;
  const char* const* names = NULL;
  float out[10], g[10];
  int32_t n = 0;
  args[0] = filled(1);
  args[1] = filled(2);
  grads[0] = filled(0);
  grads[1] = filled(0);
  ones = filled(1);
  /* grad_req null */
  MT_CHECK(mx_bind_options_default(&o) == MX_OK);
  o.num_args = 2;
  o.args = args;
  MT_CHECK(mx_executor_bind(c, &o, &exec) == MX_OK);
  MT_CHECK(mx_executor_forward(exec, 0) == MX_OK);
  MT_CHECK(mx_executor_get_arrays(exec, MX_EXEC_OUTPUTS, &n, &names, &outs) == MX_OK && n == 1);
  MT_CHECK(mx_ndarray_copy_to_host(outs[0], out, sizeof out) == MX_OK);
  MT_CHECK(out[0] > 1.299f && out[0] < 1.301f);
  mx_ndarray_free(outs[0]);
  MT_CHECK(mx_executor_backward(exec, 0, NULL) == MX_ERR_INVALID_ARGUMENT);
  mx_executor_free(exec);
  /* with gradients: backward of ones gives 0.1 for both */
  o.arg_grads = grads;
  MT_CHECK(mx_executor_bind(c, &o, &exec) == MX_OK);
  MT_CHECK(mx_executor_forward(exec, 1) == MX_OK);
  MT_CHECK(mx_executor_backward(exec, 1, &ones) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(grads[0], g, sizeof g) == MX_OK && g[3] > 0.0999f &&
           g[3] < 0.1001f);
  MT_CHECK(mx_ndarray_copy_to_host(grads[1], g, sizeof g) == MX_OK && g[7] > 0.0999f &&
           g[7] < 0.1001f);
  mx_executor_free(exec);
  mx_ndarray_free(args[0]);
  mx_ndarray_free(args[1]);
  mx_ndarray_free(grads[0]);
  mx_ndarray_free(grads[1]);
  mx_ndarray_free(ones);
}

static void test_simple_bind(mx_symbol_t c) {
  mx_simple_bind_options_t o;
  mx_executor_t exec = NULL;
  const char* names[1] = {"B"};
  int32_t ndims[1] = {2};
  int64_t shape[2] = {3, 4};
  const int64_t* shapes[1];
  const char* const* arr_names = NULL;
  mx_ndarray_t* arrays = NULL;
  int32_t n = 0, i;
  uint64_t planned = 0, naive = 0;
  shapes[0] = shape;
  MT_CHECK(mx_simple_bind_options_default(&o) == MX_OK);
  o.num_shapes = 1;
  o.shape_names = names;
  o.shape_ndims = ndims;
  o.shapes = shapes;
  MT_CHECK(mx_executor_simple_bind(c, &o, &exec) == MX_OK);
  MT_CHECK(mx_executor_get_arrays(exec, MX_EXEC_GRADS, &n, &arr_names, &arrays) == MX_OK);
  MT_CHECK(n == 2 && arrays[0] != NULL && strcmp(arr_names[0], "A") == 0);
  for (i = 0; i < n; ++i) mx_ndarray_free(arrays[i]);
  MT_CHECK(mx_executor_forward(exec, 1) == MX_OK && mx_executor_backward(exec, 0, NULL) == MX_OK);
  MT_CHECK(mx_executor_get_memory(exec, &planned, &naive) == MX_OK && planned <= naive);
  mx_executor_free(exec);
  /* An unknown input name and a missing shape are errors naming them. */
  names[0] = "C";
  MT_CHECK(mx_executor_simple_bind(c, &o, &exec) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "'C'") != NULL);
  o.num_shapes = 0;
  MT_CHECK(mx_executor_simple_bind(c, &o, &exec) == MX_ERR_INVALID_ARGUMENT);
  o.struct_size = 3;
  MT_CHECK(mx_executor_simple_bind(c, &o, &exec) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_executor_forward(NULL, 0) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_executor_free(NULL) == MX_OK);
}

static void test_shape_conflict(mx_symbol_t c) {
  const char* names[2] = {"A", "B"};
  int32_t ndims[2] = {1, 1};
  int64_t a[1] = {10}, b[1] = {11};
  const int64_t* dims[2];
  mx_shape_list_t args, outs, aux;
  int32_t complete = 0;
  dims[0] = a;
  dims[1] = b;
  MT_CHECK(mx_symbol_infer_shape(c, 2, names, ndims, dims, &args, &outs, &aux, &complete) ==
           MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "(10)") != NULL &&
           strstr(mx_get_last_error(), "(11)") != NULL);
  MT_CHECK(strstr(mx_get_last_error(), "argument 'B' (input 'rhs' of node") != NULL);
  MT_CHECK(strstr(mx_get_last_error(), "given shape (11), inferred (10)") != NULL);
}

int main(void) {
  mx_symbol_t c = seed_symbol();
  MT_CHECK(c != NULL);
  test_infer_shape(c);
  test_partial_shapes(c);
  test_bind_forward_backward(c);
  test_simple_bind(c);
  test_shape_conflict(c);
  mx_symbol_free(c);
  return mt_finish();
}
