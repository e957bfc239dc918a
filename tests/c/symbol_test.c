/* Symbols through the C ABI only: the seed's (a + b) / 10 + 1, composition, structure, attributes,
 * JSON and files, and every kind of bad input. */
#include <mx/c_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mini_test.h"

static int has_error(const char* part) { return strstr(mx_get_last_error(), part) != NULL; }

static int starts_with(const char* s, const char* prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* op(inputs) composed positionally, with one scalar parameter unless `scalar` is NULL. */
static mx_symbol_t apply(const char* op, int32_t n, const mx_symbol_t* inputs, const char* scalar,
                         const char* name) {
  const char* keys[1] = {"scalar"};
  const char* vals[1];
  mx_symbol_t s = NULL;
  vals[0] = scalar;
  if (mx_symbol_create_op(op, scalar ? 1 : 0, keys, vals, &s) != MX_OK) return NULL;
  if (mx_symbol_compose(s, name, n, NULL, inputs) != MX_OK) {
    mx_symbol_free(s);
    return NULL;
  }
  return s;
}

static int list_equals(int32_t n, const char** names, int32_t want_n, const char* const* want) {
  int32_t i;
  if (n != want_n) return 0;
  for (i = 0; i < n; ++i) {
    if (strcmp(names[i], want[i]) != 0) return 0;
  }
  return 1;
}

static void test_seed_example(void) {
  const char* args[2] = {"A", "B"};
  mx_symbol_t ab[2], sum, div, c;
  int32_t n = 0;
  const char** names = NULL;
  const char* name = NULL;
  MT_CHECK(mx_symbol_create_variable("A", &ab[0]) == MX_OK);
  MT_CHECK(mx_symbol_create_variable("B", &ab[1]) == MX_OK);
  sum = apply("elemwise_add", 2, ab, NULL, NULL);
  div = apply("_div_scalar", 1, &sum, "10", NULL);
  c = apply("_plus_scalar", 1, &div, "1", NULL);
  MT_CHECK(c != NULL);
  MT_CHECK(mx_symbol_list_arguments(c, &n, &names) == MX_OK && list_equals(n, names, 2, args));
  MT_CHECK(mx_symbol_list_auxiliary_states(c, &n, &names) == MX_OK && n == 0);
  MT_CHECK(mx_symbol_list_outputs(c, &n, &names) == MX_OK && n == 1);
  MT_CHECK(starts_with(names[0], "_plusscalar"));
  MT_CHECK(strlen(names[0]) > 7 && strcmp(names[0] + strlen(names[0]) - 7, "_output") == 0);
  MT_CHECK(mx_symbol_get_name(sum, &name) == MX_OK && starts_with(name, "elemwiseadd"));
  MT_CHECK(mx_symbol_get_name(div, &name) == MX_OK && starts_with(name, "_divscalar"));
  mx_symbol_free(c);
  mx_symbol_free(div);
  mx_symbol_free(sum);
  mx_symbol_free(ab[1]);
  mx_symbol_free(ab[0]);
}

static void test_compose(void) {
  const char* keys[1] = {"rhs"};
  const char* want1[2] = {"layer1_lhs", "x"};
  const char* want3[2] = {"x", "x"};
  mx_symbol_t x, other, mul, net, net2, sq;
  int32_t n = 0;
  const char** names = NULL;
  MT_CHECK(mx_symbol_create_variable("x", &x) == MX_OK);
  MT_CHECK(mx_symbol_create_variable("other", &other) == MX_OK);
  /* Keyword composition; the missing input becomes a variable "<node>_<input>". */
  MT_CHECK(mx_symbol_create_op("elemwise_mul", 0, NULL, NULL, &mul) == MX_OK);
  MT_CHECK(mx_symbol_compose(mul, "layer1", 1, keys, &x) == MX_OK);
  MT_CHECK(mx_symbol_list_arguments(mul, &n, &names) == MX_OK && list_equals(n, names, 2, want1));
  /* net2 = net(x=other): the graph is copied, net itself keeps x. */
  net = apply("exp", 1, &mul, NULL, NULL);
  MT_CHECK(mx_symbol_copy(net, &net2) == MX_OK);
  keys[0] = "x";
  MT_CHECK(mx_symbol_compose(net2, NULL, 1, keys, &other) == MX_OK);
  MT_CHECK(mx_symbol_list_arguments(net2, &n, &names) == MX_OK && n == 2);
  MT_CHECK(strcmp(names[1], "other") == 0);
  MT_CHECK(mx_symbol_list_arguments(net, &n, &names) == MX_OK && strcmp(names[1], "x") == 0);
  /* Positional replacement of a graph's arguments; the same variable may be given twice. */
  sq = apply("elemwise_mul", 1, &other, NULL, "sq");
  MT_CHECK(sq != NULL);
  {
    mx_symbol_t two[2];
    two[0] = x;
    two[1] = x;
    MT_CHECK(mx_symbol_compose(sq, NULL, 2, NULL, two) == MX_OK);
    MT_CHECK(mx_symbol_list_outputs(sq, &n, &names) == MX_OK && strcmp(names[0], "sq_output") == 0);
    MT_CHECK(mx_symbol_list_arguments(sq, &n, &names) == MX_OK && list_equals(n, names, 1, want3));
  }
  mx_symbol_free(sq);
  mx_symbol_free(net2);
  mx_symbol_free(net);
  mx_symbol_free(mul);
  mx_symbol_free(other);
  mx_symbol_free(x);
}

static void test_structure(void) {
  const char* internals[4] = {"x", "e_output", "y", "s_output"};
  const char* children[2] = {"e_output", "y"};
  mx_symbol_t xy[2], e, es[2], s, g, out, inner, kids;
  int32_t n = 0;
  const char** names = NULL;
  const char* name = NULL;
  mx_symbol_create_variable("x", &xy[0]);
  mx_symbol_create_variable("y", &xy[1]);
  e = apply("exp", 1, &xy[0], NULL, "e");
  es[0] = e;
  es[1] = xy[1];
  s = apply("elemwise_add", 2, es, NULL, "s");
  es[0] = s;
  es[1] = e;
  MT_CHECK(mx_symbol_group(2, es, &g) == MX_OK);
  MT_CHECK(mx_symbol_get_num_outputs(g, &n) == MX_OK && n == 2);
  MT_CHECK(mx_symbol_get_name(g, &name) == MX_OK && name[0] == '\0');
  MT_CHECK(mx_symbol_get_output(g, 1, &out) == MX_OK);
  MT_CHECK(mx_symbol_get_name(out, &name) == MX_OK && strcmp(name, "e") == 0);
  mx_symbol_free(out);
  MT_CHECK(mx_symbol_get_internals(s, &inner) == MX_OK);
  MT_CHECK(mx_symbol_list_outputs(inner, &n, &names) == MX_OK &&
           list_equals(n, names, 4, internals));
  MT_CHECK(mx_symbol_get_output_by_name(inner, "e_output", &out) == MX_OK);
  MT_CHECK(mx_symbol_get_name(out, &name) == MX_OK && strcmp(name, "e") == 0);
  mx_symbol_free(out);
  MT_CHECK(mx_symbol_get_children(s, &kids) == MX_OK);
  MT_CHECK(mx_symbol_list_outputs(kids, &n, &names) == MX_OK && list_equals(n, names, 2, children));
  mx_symbol_free(kids);
  MT_CHECK(mx_symbol_get_children(xy[0], &kids) == MX_OK);
  MT_CHECK(mx_symbol_get_num_outputs(kids, &n) == MX_OK && n == 0);
  mx_symbol_free(kids);
  /* Errors that name the problem. */
  out = (mx_symbol_t)&n; /* outputs are untouched on failure */
  MT_CHECK(mx_symbol_get_output(g, 2, &out) == MX_ERR_INVALID_ARGUMENT && has_error("index 2"));
  MT_CHECK(mx_symbol_get_output(g, -1, &out) == MX_ERR_INVALID_ARGUMENT && has_error("-1"));
  MT_CHECK(mx_symbol_get_output_by_name(inner, "z_output", &out) == MX_ERR_NOT_FOUND);
  MT_CHECK(has_error("'z_output'") && has_error("e_output"));
  MT_CHECK(out == (mx_symbol_t)&n);
  MT_CHECK(mx_symbol_get_children(g, &kids) == MX_ERR_INVALID_ARGUMENT);
  mx_symbol_free(inner);
  mx_symbol_free(g);
  mx_symbol_free(s);
  mx_symbol_free(e);
  mx_symbol_free(xy[1]);
  mx_symbol_free(xy[0]);
}

static void test_attributes_and_json(void) {
  const char* path = "c_symbol_test_tmp.json";
  mx_symbol_t w, m, back, loaded, inner, wl;
  const char* value = NULL;
  const char* json = NULL;
  const char** keys = NULL;
  const char** vals = NULL;
  char* copy = NULL;
  int32_t found = -1, n = 0, i, seen = 0;
  mx_symbol_create_variable("w", &w);
  MT_CHECK(mx_symbol_set_attr(w, "lr_mult", "2") == MX_OK);
  m = apply("_mul_scalar", 1, &w, "3", "m");
  MT_CHECK(mx_symbol_set_attr(m, "ctx_group", "dev1") == MX_OK);
  MT_CHECK(mx_symbol_get_attr(w, "lr_mult", &value, &found) == MX_OK && found == 1);
  MT_CHECK(strcmp(value, "2") == 0);
  MT_CHECK(mx_symbol_get_attr(m, "scalar", &value, &found) == MX_OK && found == 1);
  MT_CHECK(strcmp(value, "3") == 0);
  MT_CHECK(mx_symbol_get_attr(m, "wd_mult", &value, &found) == MX_OK && found == 0);
  MT_CHECK(value == NULL);
  MT_CHECK(mx_symbol_set_attr(m, "scalar", "4") == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(has_error("'scalar'"));
  MT_CHECK(mx_symbol_list_attrs(m, 0, &n, &keys, &vals) == MX_OK && n == 2);
  MT_CHECK(strcmp(keys[0], "ctx_group") == 0 && strcmp(vals[1], "3") == 0);
  MT_CHECK(mx_symbol_list_attrs(m, 1, &n, &keys, &vals) == MX_OK && n == 3);
  for (i = 0; i < n; ++i) seen += strcmp(keys[i], "w$lr_mult") == 0 && strcmp(vals[i], "2") == 0;
  MT_CHECK(seen == 1);

  /* JSON string round trip: attributes survive. */
  MT_CHECK(mx_symbol_to_json(m, &json) == MX_OK && strstr(json, "\"lr_mult\": \"2\"") != NULL);
  copy = (char*)malloc(strlen(json) + 1);
  strcpy(copy, json);
  MT_CHECK(mx_symbol_from_json(copy, &back) == MX_OK);
  MT_CHECK(mx_symbol_to_json(back, &json) == MX_OK && strcmp(json, copy) == 0);
  MT_CHECK(mx_symbol_get_internals(back, &inner) == MX_OK);
  MT_CHECK(mx_symbol_get_output_by_name(inner, "w", &wl) == MX_OK);
  MT_CHECK(mx_symbol_get_attr(wl, "lr_mult", &value, &found) == MX_OK && found == 1);
  mx_symbol_free(wl);
  mx_symbol_free(inner);

  /* Files. */
  MT_CHECK(mx_symbol_save(m, path) == MX_OK);
  MT_CHECK(mx_symbol_load(path, &loaded) == MX_OK);
  MT_CHECK(mx_symbol_to_json(loaded, &json) == MX_OK && strcmp(json, copy) == 0);
  mx_symbol_free(loaded);
  {
    FILE* f = fopen(path, "w");
    fputs("{\"nodes\": [", f);
    fclose(f);
  }
  MT_CHECK(mx_symbol_load(path, &loaded) == MX_ERR_IO && has_error(path));
  MT_CHECK(has_error("end of input"));
  remove(path);
  MT_CHECK(mx_symbol_load("no/such/dir/sym.json", &loaded) == MX_ERR_IO);
  MT_CHECK(has_error("no/such/dir/sym.json"));
  MT_CHECK(mx_symbol_save(m, "no/such/dir/sym.json") == MX_ERR_IO);
  MT_CHECK(has_error("no/such/dir/sym.json"));
  MT_CHECK(mx_symbol_from_json("{\"nodes\": 1}", &loaded) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(has_error("nodes"));
  MT_CHECK(
      mx_symbol_from_json("{\"nodes\": [{\"op\": \"nope_op\", \"name\": \"n\", \"inputs\": []}], "
                          "\"arg_nodes\": [], \"heads\": []}",
                          &loaded) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(has_error("unknown operator 'nope_op'"));
  free(copy);
  mx_symbol_free(back);
  mx_symbol_free(m);
  mx_symbol_free(w);
}

static void test_errors(void) {
  const char* keys[2] = {"scalar", "scalar"};
  const char* vals[2] = {"1", "2"};
  const char* bad_key[1] = {"left"};
  mx_symbol_t x, s = NULL, add, three[3], pending;
  const char* json = NULL;
  int32_t n = 0;
  const char** names = NULL;
  mx_symbol_create_variable("x", &x);
  MT_CHECK(mx_symbol_create_op("elemwise_ad", 0, NULL, NULL, &s) == MX_ERR_NOT_FOUND);
  MT_CHECK(has_error("elemwise_ad") && s == NULL);
  MT_CHECK(mx_symbol_create_op("_plus_scalar", 1, bad_key, vals, &s) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(has_error("left"));
  MT_CHECK(mx_symbol_create_op("_plus_scalar", 2, keys, vals, &s) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(has_error("twice"));
  MT_CHECK(mx_symbol_create_op("_plus_scalar", 1, NULL, vals, &s) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_symbol_create_variable(NULL, &s) == MX_ERR_INVALID_ARGUMENT && has_error("'name'"));
  MT_CHECK(mx_symbol_create_variable("", &s) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_symbol_create_variable("v", NULL) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(has_error("'out_symbol'"));
  MT_CHECK(mx_symbol_list_arguments(NULL, &n, &names) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(has_error("'symbol'"));
  MT_CHECK(mx_symbol_to_json(NULL, NULL) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_symbol_free(NULL) == MX_OK);

  MT_CHECK(mx_symbol_create_op("elemwise_add", 0, NULL, NULL, &add) == MX_OK);
  three[0] = three[1] = three[2] = x;
  MT_CHECK(mx_symbol_compose(add, NULL, 3, NULL, three) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(has_error("takes 2 inputs, got 3"));
  MT_CHECK(mx_symbol_compose(add, NULL, 1, bad_key, &x) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(has_error("no input 'left'"));
  three[1] = NULL;
  MT_CHECK(mx_symbol_compose(add, NULL, 2, NULL, three) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(has_error("'args[1]'"));
  MT_CHECK(mx_symbol_create_op("exp", 0, NULL, NULL, &pending) == MX_OK);
  MT_CHECK(mx_symbol_compose(add, NULL, 1, NULL, &pending) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(has_error("not been composed"));
  MT_CHECK(mx_symbol_to_json(pending, &json) == MX_ERR_INVALID_ARGUMENT);
  /* The failed composes changed nothing: the symbol still composes. */
  MT_CHECK(mx_symbol_compose(add, "add", 1, NULL, &x) == MX_OK);
  MT_CHECK(mx_symbol_list_arguments(add, &n, &names) == MX_OK && n == 2);
  MT_CHECK(strcmp(names[1], "add_rhs") == 0);
  bad_key[0] = "nope";
  MT_CHECK(mx_symbol_compose(add, NULL, 1, bad_key, &x) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(has_error("'nope'") && has_error("add_rhs"));
  mx_symbol_free(pending);
  mx_symbol_free(add);
  mx_symbol_free(x);
}

int main(void) {
  test_seed_example();
  test_compose();
  test_structure();
  test_attributes_and_json();
  test_errors();
  return mt_finish();
}
