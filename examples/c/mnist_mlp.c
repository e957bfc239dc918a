/* The MNIST MLP (784-128-relu-10-SoftmaxOutput) trained in plain C99 through the C ABI only.
 *
 *   mnist_mlp_c --data data/mnist --epochs 10 --batch-size 128 --lr 0.1 --seed 0 */
#include <mx/c_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != MX_OK) {                                            \
      fprintf(stderr, "%s failed: %s\n", #call, mx_get_last_error()); \
      exit(1);                                                        \
    }                                                                 \
  } while (0)

static mx_symbol_t layer(const char* op, const char* name, mx_symbol_t input, const char* key,
                         const char* value) {
  mx_symbol_t s = NULL;
  const char* keys[1];
  const char* vals[1];
  keys[0] = key;
  vals[0] = value;
  CHECK(mx_symbol_create_op(op, key ? 1 : 0, keys, vals, &s));
  CHECK(mx_symbol_compose(s, name, 1, NULL, &input));
  return s;
}

static mx_data_iter_t mnist(const char* dir, const char* prefix, int64_t batch, int shuffle,
                            uint64_t seed) {
  char images[1024], labels[1024];
  mx_data_iter_mnist_options_t o;
  mx_data_iter_t it = NULL;
  /* The plain names: the library reads the .gz beside a file that is not there. */
  snprintf(images, sizeof images, "%s/%s-images-idx%d-ubyte", dir, prefix, 3);
  snprintf(labels, sizeof labels, "%s/%s-labels-idx%d-ubyte", dir, prefix, 1);
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.image_path = images;
  o.label_path = labels;
  o.batch_size = batch;
  o.shuffle = shuffle;
  o.flat = 1;
  o.seed = seed;
  CHECK(mx_data_iter_create_mnist(&o, &it));
  return it;
}

/* Accuracy of `exec` (whose argument 0 is the data) over one pass of `it`. */
static double evaluate(mx_executor_t exec, mx_ndarray_t data_arg, mx_data_iter_t it,
                       mx_metric_t acc) {
  int32_t has = 0, n = 0;
  const char* name = NULL;
  double value = 0;
  CHECK(mx_metric_reset(acc));
  CHECK(mx_data_iter_reset(it));
  while (mx_data_iter_next(it, &has) == MX_OK && has) {
    mx_ndarray_t x = NULL, y = NULL, *outs = NULL, y_keep = NULL, p_keep = NULL;
    const char* const* names = NULL;
    int64_t pad = 0;
    const int64_t* dims = NULL;
    int32_t nd = 0;
    CHECK(mx_data_iter_get_data(it, &x));
    CHECK(mx_data_iter_get_label(it, &y));
    CHECK(mx_data_iter_get_pad(it, &pad));
    CHECK(mx_ndarray_copy_to(x, data_arg));
    CHECK(mx_executor_forward(exec, 0));
    CHECK(mx_executor_get_arrays(exec, MX_EXEC_OUTPUTS, &n, &names, &outs));
    CHECK(mx_ndarray_get_shape(y, &nd, &dims));
    CHECK(mx_ndarray_slice(y, 0, dims[0] - pad, &y_keep));
    CHECK(mx_ndarray_slice(outs[0], 0, dims[0] - pad, &p_keep));
    CHECK(mx_metric_update(acc, 1, &y_keep, &p_keep));
    mx_ndarray_free(p_keep);
    mx_ndarray_free(y_keep);
    mx_ndarray_free(outs[0]);
    mx_ndarray_free(x);
    mx_ndarray_free(y);
  }
  CHECK(mx_metric_get(acc, &name, &value));
  return value;
}

int main(int argc, char** argv) {
  const char* dir = "data/mnist";
  int epochs = 10, i, epoch;
  int64_t batch = 128;
  double lr = 0.1;
  uint64_t seed = 0;
  char lr_text[32], rescale_text[32];
  mx_symbol_t data, fc1, act, fc2, net;
  mx_simple_bind_options_t o;
  mx_bind_options_t bo;
  mx_executor_t exec = NULL, eval = NULL;
  mx_ndarray_t *arrays = NULL, args[6], grads[6];
  const char* const* arg_names = NULL;
  int32_t n = 0;
  mx_initializer_t init = NULL;
  mx_optimizer_t sgd = NULL;
  mx_metric_t acc = NULL;
  mx_data_iter_t train, test;
  const char* bind_names[2] = {"data", "softmax_label"};
  int32_t ndims[2] = {2, 1}, no_grad[2] = {MX_GRAD_NULL, MX_GRAD_NULL};
  int64_t data_shape[2], label_shape[1];
  const int64_t* shapes[2];
  const char* opt_keys[2] = {"learning_rate", "rescale_grad"};
  const char* opt_vals[2];

  for (i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--data") == 0)
      dir = argv[i + 1];
    else if (strcmp(argv[i], "--epochs") == 0)
      epochs = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--batch-size") == 0)
      batch = atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--lr") == 0)
      lr = atof(argv[i + 1]);
    else if (strcmp(argv[i], "--seed") == 0)
      seed = strtoull(argv[i + 1], NULL, 10);
  }
  CHECK(mx_random_seed(seed));
  train = mnist(dir, "train", batch, 1, seed);
  test = mnist(dir, "t10k", batch, 0, seed);

  /* The network. */
  CHECK(mx_symbol_create_variable("data", &data));
  fc1 = layer("FullyConnected", "fc1", data, "num_hidden", "128");
  act = layer("Activation", "relu1", fc1, "act_type", "relu");
  fc2 = layer("FullyConnected", "fc2", act, "num_hidden", "10");
  net = layer("SoftmaxOutput", "softmax", fc2, NULL, NULL);

  /* Bind: gradients for the weights, none for data and label. */
  data_shape[0] = batch;
  data_shape[1] = 784;
  label_shape[0] = batch;
  shapes[0] = data_shape;
  shapes[1] = label_shape;
  CHECK(mx_simple_bind_options_default(&o));
  o.num_shapes = 2;
  o.shape_names = bind_names;
  o.shape_ndims = ndims;
  o.shapes = shapes;
  o.num_grad_reqs = 2;
  o.grad_req_names = bind_names;
  o.grad_reqs = no_grad;
  CHECK(mx_executor_simple_bind(net, &o, &exec));
  CHECK(mx_executor_get_arrays(exec, MX_EXEC_ARGS, &n, &arg_names, &arrays));
  if (n != 6) return 1;
  for (i = 0; i < 6; ++i) args[i] = arrays[i];
  CHECK(mx_executor_get_arrays(exec, MX_EXEC_GRADS, &n, &arg_names, &arrays));
  for (i = 0; i < 6; ++i) grads[i] = arrays[i];
  /* A second executor for evaluation shares the arguments (and the planned memory). */
  CHECK(mx_bind_options_default(&bo));
  bo.num_args = 6;
  bo.args = args;
  bo.shared_exec = exec;
  CHECK(mx_executor_bind(net, &bo, &eval));

  CHECK(mx_initializer_create("xavier", 0, NULL, NULL, &init));
  CHECK(mx_executor_get_arrays(exec, MX_EXEC_ARGS, &n, &arg_names, &arrays));
  for (i = 1; i < 5; ++i) {
    CHECK(mx_initializer_apply(init, arg_names[i], args[i]));
    mx_ndarray_free(arrays[i]);
  }
  mx_ndarray_free(arrays[0]);
  mx_ndarray_free(arrays[5]);
  snprintf(lr_text, sizeof lr_text, "%g", lr);
  snprintf(rescale_text, sizeof rescale_text, "%.9g", 1.0 / (double)batch);
  opt_vals[0] = lr_text;
  opt_vals[1] = rescale_text;
  CHECK(mx_optimizer_create("sgd", 2, opt_keys, opt_vals, &sgd));
  CHECK(mx_metric_create("acc", 0, NULL, NULL, &acc));

  for (epoch = 0; epoch < epochs; ++epoch) {
    int32_t has = 0;
    const char* name = NULL;
    double train_acc = 0;
    CHECK(mx_data_iter_reset(train));
    CHECK(mx_metric_reset(acc));
    while (mx_data_iter_next(train, &has) == MX_OK && has) {
      mx_ndarray_t x = NULL, y = NULL, *outs = NULL;
      const char* const* out_names = NULL;
      CHECK(mx_data_iter_get_data(train, &x));
      CHECK(mx_data_iter_get_label(train, &y));
      CHECK(mx_ndarray_copy_to(x, args[0]));
      CHECK(mx_ndarray_copy_to(y, args[5]));
      CHECK(mx_executor_forward(exec, 1));
      CHECK(mx_executor_backward(exec, 0, NULL));
      for (i = 1; i < 5; ++i) CHECK(mx_optimizer_update(sgd, i, args[i], grads[i]));
      CHECK(mx_executor_get_arrays(exec, MX_EXEC_OUTPUTS, &n, &out_names, &outs));
      CHECK(mx_metric_update(acc, 1, &args[5], &outs[0]));
      mx_ndarray_free(outs[0]);
      mx_ndarray_free(x);
      mx_ndarray_free(y);
    }
    CHECK(mx_metric_get(acc, &name, &train_acc));
    printf("Epoch[%d] Train-accuracy=%.4f Validation-accuracy=%.4f\n", epoch, train_acc,
           evaluate(eval, args[0], test, acc));
  }
  printf("test accuracy: %.4f\n", evaluate(eval, args[0], test, acc));

  for (i = 0; i < 6; ++i) {
    mx_ndarray_free(args[i]);
    mx_ndarray_free(grads[i]);
  }
  mx_metric_free(acc);
  mx_optimizer_free(sgd);
  mx_initializer_free(init);
  mx_executor_free(eval);
  mx_executor_free(exec);
  mx_symbol_free(net);
  mx_symbol_free(fc2);
  mx_symbol_free(act);
  mx_symbol_free(fc1);
  mx_symbol_free(data);
  mx_data_iter_free(test);
  mx_data_iter_free(train);
  return 0;
}
