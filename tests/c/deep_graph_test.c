/* A 200,000-node chain through every C ABI call that walks a graph.
 *
 * Symbols own their nodes through reference-counted pointers, and graph code loves recursion:
 * freeing such a chain used to destroy it one stack frame per node and overflow the stack
 * (SIGSEGV in mx_symbol_free). Every walk a deep graph reaches through the C ABI must be
 * iterative: JSON load and save, listing, shape and type inference, copy, compose, internals,
 * the gradient and memory planning of a bind, and the free. */
#include <mx/c_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mini_test.h"

enum { kDepth = 200000 };

/* {"nodes": [x, relu(x), relu(relu(x)), ...], ...}: variable "x" and kDepth relu nodes. */
static char* chain_json(void) {
  const size_t cap = (size_t)kDepth * 96 + 4096;
  char* json = (char*)malloc(cap);
  size_t pos = 0;
  int i;
  if (json == NULL) return NULL;
  pos += (size_t)sprintf(json + pos,
                         "{\"nodes\": [{\"op\": \"null\", \"name\": \"x\", \"inputs\": []}");
  for (i = 1; i <= kDepth; ++i) {
    pos += (size_t)sprintf(
        json + pos, ", {\"op\": \"relu\", \"name\": \"r%d\", \"inputs\": [[%d, 0, 0]]}", i, i - 1);
  }
  sprintf(json + pos, "], \"arg_nodes\": [0], \"heads\": [[%d, 0, 0]]}", kDepth);
  return json;
}

int main(void) {
  char* json = chain_json();
  mx_symbol_t chain = NULL, copy = NULL, internals = NULL, y = NULL, loaded = NULL;
  int32_t num = 0, complete = 0;
  const char** names = NULL;
  const char* text = NULL;
  const char* x_name[1] = {"x"};
  const int32_t ndim[1] = {1};
  const int64_t shape[1] = {3};
  const int64_t* dims[1] = {shape};
  const int32_t dtype[1] = {MX_DTYPE_FLOAT32};
  mx_shape_list_t args, outs, aux;
  mx_dtype_list_t targs, touts, taux;
  mx_simple_bind_options_t o;
  mx_executor_t exec = NULL;
  size_t json_size = 0;

  MT_CHECK(json != NULL);
  if (json == NULL) return mt_finish();
  MT_CHECK(mx_symbol_from_json(json, &chain) == MX_OK);
  free(json);

  MT_CHECK(mx_symbol_list_arguments(chain, &num, &names) == MX_OK && num == 1);
  MT_CHECK(num == 1 && strcmp(names[0], "x") == 0);
  MT_CHECK(mx_symbol_list_outputs(chain, &num, &names) == MX_OK && num == 1);
  MT_CHECK(mx_symbol_list_auxiliary_states(chain, &num, &names) == MX_OK && num == 0);
  MT_CHECK(mx_symbol_list_attrs(chain, 1, &num, &names, &names) == MX_OK);
  MT_CHECK(mx_symbol_infer_shape(chain, 1, x_name, ndim, dims, &args, &outs, &aux, &complete) ==
           MX_OK);
  MT_CHECK(complete == 1 && outs.num == 1 && outs.ndims[0] == 1 && outs.dims[0][0] == 3);
  MT_CHECK(mx_symbol_infer_type(chain, 1, x_name, dtype, &targs, &touts, &taux, &complete) ==
           MX_OK);
  MT_CHECK(complete == 1 && touts.dtypes[0] == MX_DTYPE_FLOAT32);

  MT_CHECK(mx_symbol_to_json(chain, &text) == MX_OK && text != NULL);
  json_size = text != NULL ? strlen(text) : 0;
  MT_CHECK(json_size > (size_t)kDepth * 50);
  MT_CHECK(mx_symbol_save(chain, "c_deep_graph_test.json") == MX_OK);
  MT_CHECK(mx_symbol_load("c_deep_graph_test.json", &loaded) == MX_OK);
  remove("c_deep_graph_test.json");
  MT_CHECK(mx_symbol_to_json(loaded, &text) == MX_OK && strlen(text) == json_size);

  MT_CHECK(mx_symbol_copy(chain, &copy) == MX_OK);
  MT_CHECK(mx_symbol_get_internals(copy, &internals) == MX_OK);
  MT_CHECK(mx_symbol_get_num_outputs(internals, &num) == MX_OK && num == kDepth + 1);
  /* Compose a composed graph: its variable x is replaced by y, on a copy of the whole chain. */
  MT_CHECK(mx_symbol_create_variable("y", &y) == MX_OK);
  MT_CHECK(mx_symbol_compose(copy, NULL, 1, x_name, &y) == MX_OK);
  MT_CHECK(mx_symbol_list_arguments(copy, &num, &names) == MX_OK && num == 1);
  MT_CHECK(num == 1 && strcmp(names[0], "y") == 0);

  /* Bind: gradient (another 200,000 nodes), shape and type inference, memory planning. Then one
   * forward and backward pass through all of them. */
  mx_simple_bind_options_default(&o);
  o.num_shapes = 1;
  o.shape_names = x_name;
  o.shape_ndims = ndim;
  o.shapes = dims;
  MT_CHECK(mx_executor_simple_bind(chain, &o, &exec) == MX_OK);
  MT_CHECK(mx_executor_forward(exec, 1) == MX_OK);
  MT_CHECK(mx_executor_backward(exec, 0, NULL) == MX_OK);
  MT_CHECK(mx_engine_wait_all() == MX_OK);

  /* The frees: each drops the last reference to a chain of 200,000 (or 400,000) nodes. */
  MT_CHECK(mx_executor_free(exec) == MX_OK);
  MT_CHECK(mx_symbol_free(internals) == MX_OK);
  MT_CHECK(mx_symbol_free(copy) == MX_OK);
  MT_CHECK(mx_symbol_free(y) == MX_OK);
  MT_CHECK(mx_symbol_free(loaded) == MX_OK);
  MT_CHECK(mx_symbol_free(chain) == MX_OK);
  return mt_finish();
}
