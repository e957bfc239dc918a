/* Data iterators through the C ABI only: the in-memory and MNIST iterators, their options,
 * every kind of bad argument, and that the library keeps working after each error. */
#include <mx/c_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mini_test.h"

enum { kSamples = 10, kWidth = 3 };

static mx_data_iter_ndarray_options_t ndarray_options(const float* data, const int64_t* shape,
                                                      const float* label,
                                                      const int64_t* label_shape) {
  mx_data_iter_ndarray_options_t o;
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.data = data;
  o.data_shape = shape;
  o.data_ndim = 2;
  if (label != NULL) {
    o.label = label;
    o.label_shape = label_shape;
    o.label_ndim = 1;
  }
  o.batch_size = 4;
  return o;
}

/* Sample s holds 10 s + k; its label is s. The caller's buffers are freed before iterating. */
static mx_data_iter_t make_iter(int32_t last_batch_handle, int32_t shuffle) {
  const int64_t shape[2] = {kSamples, kWidth}, label_shape[1] = {kSamples};
  float* data = (float*)malloc(sizeof(float) * kSamples * kWidth);
  float* label = (float*)malloc(sizeof(float) * kSamples);
  mx_data_iter_ndarray_options_t o;
  mx_data_iter_t it = NULL;
  int s, k;
  for (s = 0; s < kSamples; ++s) {
    label[s] = (float)s;
    for (k = 0; k < kWidth; ++k) data[s * kWidth + k] = (float)(10 * s + k);
  }
  o = ndarray_options(data, shape, label, label_shape);
  o.last_batch_handle = last_batch_handle;
  o.shuffle = shuffle;
  o.seed = 3;
  MT_CHECK(mx_data_iter_create_ndarray(&o, &it) == MX_OK);
  memset(data, 0xFF, sizeof(float) * kSamples * kWidth);
  free(data);
  free(label);
  return it;
}

/* Runs one epoch; returns the number of batches, adds each label to sum (pads included) and
 * checks every row against its label. */
static int run_epoch(mx_data_iter_t it, float* label_sum, int64_t* pad_total) {
  int32_t has = 0;
  int batches = 0;
  while (mx_data_iter_next(it, &has) == MX_OK && has) {
    mx_ndarray_t x = NULL, y = NULL;
    float xs[4 * kWidth], ys[4];
    int64_t pad = -1;
    int i;
    MT_CHECK(mx_data_iter_get_data(it, &x) == MX_OK);
    MT_CHECK(mx_data_iter_get_label(it, &y) == MX_OK && y != NULL);
    MT_CHECK(mx_data_iter_get_pad(it, &pad) == MX_OK && pad >= 0);
    MT_CHECK(mx_ndarray_copy_to_host(x, xs, sizeof xs) == MX_OK);
    MT_CHECK(mx_ndarray_copy_to_host(y, ys, sizeof ys) == MX_OK);
    for (i = 0; i < 4; ++i) {
      MT_CHECK(xs[i * kWidth + 2] == 10 * ys[i] + 2);
      *label_sum += ys[i];
    }
    *pad_total += pad;
    mx_ndarray_free(x);
    mx_ndarray_free(y);
    ++batches;
  }
  return batches;
}

static void test_ndarray_iter(void) {
  mx_data_iter_t it = make_iter(MX_LAST_BATCH_PAD, 1);
  int32_t ndim = 0, label_ndim = 0, has = 1;
  const int64_t *dims = NULL, *label_dims = NULL;
  float sum = 0;
  int64_t pads = 0;
  MT_CHECK(mx_data_iter_get_shapes(it, &ndim, &dims, &label_ndim, &label_dims) == MX_OK);
  MT_CHECK(ndim == 2 && dims[0] == 4 && dims[1] == kWidth);
  MT_CHECK(label_ndim == 1 && label_dims[0] == 4);
  MT_CHECK(run_epoch(it, &sum, &pads) == 3 && pads == 2);
  MT_CHECK(mx_data_iter_next(it, &has) == MX_OK && has == 0);
  MT_CHECK(mx_data_iter_reset(it) == MX_OK);
  sum = 0;
  pads = 0;
  MT_CHECK(run_epoch(it, &sum, &pads) == 3 && pads == 2);
  MT_CHECK(sum >= 45); /* every sample once, plus two padding repeats */
  mx_data_iter_free(it);

  it = make_iter(MX_LAST_BATCH_ROLL_OVER, 0);
  pads = 0;
  MT_CHECK(run_epoch(it, &sum, &pads) == 2);
  MT_CHECK(mx_data_iter_reset(it) == MX_OK);
  MT_CHECK(run_epoch(it, &sum, &pads) == 3 && pads == 0);
  mx_data_iter_free(it);

  it = make_iter(MX_LAST_BATCH_DISCARD, 0);
  MT_CHECK(run_epoch(it, &sum, &pads) == 2);
  mx_data_iter_free(it);
  MT_CHECK(mx_data_iter_free(NULL) == MX_OK);
}

/* The contract of mx_data_iter_get_data/get_label: the handles are the caller's and their
 * contents never change, so a caller may keep every batch of two epochs, reset the iterator and
 * even free it, and read them afterwards. Each kept batch must equal the batch a second iterator
 * with the same seed yields when read at once. */
enum { kKept = 8 };
static void test_kept_batches_keep_their_values(void) {
  const int32_t modes[3] = {MX_LAST_BATCH_PAD, MX_LAST_BATCH_DISCARD, MX_LAST_BATCH_ROLL_OVER};
  const int expected_batches[3] = {6, 4, 5}; /* 3 + 3; 2 + 2; 2, then 2 + 10 samples = 3 */
  int m;
  for (m = 0; m < 3; ++m) {
    mx_data_iter_t it = make_iter(modes[m], 1), ref = make_iter(modes[m], 1);
    mx_ndarray_t xs[kKept], ys[kKept], again = NULL;
    int64_t pads[kKept];
    float first[4 * kWidth], x[4 * kWidth];
    int n = 0, k = 0, epoch;
    int32_t has = 0;
    for (epoch = 0; epoch < 2; ++epoch) {
      while (n < kKept && mx_data_iter_next(it, &has) == MX_OK && has) {
        MT_CHECK(mx_data_iter_get_data(it, &xs[n]) == MX_OK);
        MT_CHECK(mx_data_iter_get_label(it, &ys[n]) == MX_OK);
        MT_CHECK(mx_data_iter_get_pad(it, &pads[n]) == MX_OK);
        ++n;
      }
      MT_CHECK(mx_data_iter_reset(it) == MX_OK);
    }
    MT_CHECK(n == expected_batches[m]);
    /* Two handles of one batch are the same batch; freeing one leaves the other as it was. */
    MT_CHECK(mx_data_iter_next(it, &has) == MX_OK && has == 1);
    MT_CHECK(mx_data_iter_get_data(it, &again) == MX_OK);
    MT_CHECK(mx_ndarray_copy_to_host(again, first, sizeof first) == MX_OK);
    MT_CHECK(mx_data_iter_get_data(it, &xs[n]) == MX_OK);
    MT_CHECK(mx_ndarray_free(xs[n]) == MX_OK);
    MT_CHECK(mx_data_iter_next(it, &has) == MX_OK && has == 1);
    MT_CHECK(mx_data_iter_free(it) == MX_OK); /* kept batches outlive their iterator */
    MT_CHECK(mx_ndarray_copy_to_host(again, x, sizeof x) == MX_OK);
    MT_CHECK(memcmp(first, x, sizeof x) == 0);
    MT_CHECK(mx_ndarray_free(again) == MX_OK);

    for (epoch = 0; epoch < 2; ++epoch) {
      while (k < n && mx_data_iter_next(ref, &has) == MX_OK && has) {
        float y[4], rx[4 * kWidth], ry[4];
        mx_ndarray_t r = NULL;
        int64_t rpad = -1;
        MT_CHECK(mx_ndarray_copy_to_host(xs[k], x, sizeof x) == MX_OK);
        MT_CHECK(mx_ndarray_copy_to_host(ys[k], y, sizeof y) == MX_OK);
        MT_CHECK(mx_data_iter_get_data(ref, &r) == MX_OK);
        MT_CHECK(mx_ndarray_copy_to_host(r, rx, sizeof rx) == MX_OK);
        mx_ndarray_free(r);
        MT_CHECK(mx_data_iter_get_label(ref, &r) == MX_OK);
        MT_CHECK(mx_ndarray_copy_to_host(r, ry, sizeof ry) == MX_OK);
        mx_ndarray_free(r);
        MT_CHECK(mx_data_iter_get_pad(ref, &rpad) == MX_OK);
        MT_CHECK(memcmp(x, rx, sizeof x) == 0 && memcmp(y, ry, sizeof y) == 0);
        MT_CHECK(pads[k] == rpad);
        MT_CHECK(x[2] == 10 * y[0] + 2 && x[4 * kWidth - 1] == 10 * y[3] + 2);
        mx_ndarray_free(xs[k]);
        mx_ndarray_free(ys[k]);
        ++k;
      }
      MT_CHECK(mx_data_iter_reset(ref) == MX_OK);
    }
    MT_CHECK(k == n);
    mx_data_iter_free(ref);
  }
}

static void test_no_labels(void) {
  const float data[6] = {1, 2, 3, 4, 5, 6};
  const int64_t shape[2] = {6, 1};
  mx_data_iter_ndarray_options_t o = ndarray_options(data, shape, NULL, NULL);
  mx_data_iter_t it = NULL;
  mx_ndarray_t y = (mx_ndarray_t)&o; /* must become NULL */
  int32_t has = 0, label_ndim = -1, ndim = 0;
  const int64_t *dims = NULL, *label_dims = &shape[0];
  o.synchronous = 1;
  MT_CHECK(mx_data_iter_create_ndarray(&o, &it) == MX_OK);
  MT_CHECK(mx_data_iter_get_shapes(it, &ndim, &dims, &label_ndim, &label_dims) == MX_OK);
  MT_CHECK(label_ndim == 0 && label_dims == NULL);
  MT_CHECK(mx_data_iter_next(it, &has) == MX_OK && has == 1);
  MT_CHECK(mx_data_iter_get_label(it, &y) == MX_OK && y == NULL);
  mx_data_iter_free(it);
}

static int write_file(const char* path, const unsigned char* bytes, size_t n) {
  FILE* f = fopen(path, "wb");
  if (f == NULL) return 0;
  fwrite(bytes, 1, n, f);
  fclose(f);
  return 1;
}

static void test_mnist(void) {
  /* Three 2x2 images (raw IDX), labels 7, 8, 9. */
  const unsigned char images[16 + 12] = {0, 0, 8, 3,   0, 0, 0,  3, 0, 0, 0, 2, 0, 0,
                                         0, 2, 0, 255, 0, 0, 51, 0, 0, 0, 0, 0, 0, 102};
  const unsigned char labels[8 + 3] = {0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9};
  const char* img_path = "c_io_test_images.idx";
  const char* lbl_path = "c_io_test_labels.idx";
  mx_data_iter_mnist_options_t o;
  mx_data_iter_t it = NULL;
  mx_ndarray_t x = NULL, y = NULL;
  float xs[12], ys[3];
  int32_t has = 0, ndim = 0, label_ndim = 0;
  const int64_t *dims = NULL, *label_dims = NULL;
  MT_CHECK(write_file(img_path, images, sizeof images));
  MT_CHECK(write_file(lbl_path, labels, sizeof labels));
  memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.image_path = img_path;
  o.label_path = lbl_path;
  o.batch_size = 3;
  MT_CHECK(mx_data_iter_create_mnist(&o, &it) == MX_OK);
  MT_CHECK(mx_data_iter_get_shapes(it, &ndim, &dims, &label_ndim, &label_dims) == MX_OK);
  MT_CHECK(ndim == 4 && dims[0] == 3 && dims[1] == 1 && dims[2] == 2 && dims[3] == 2);
  MT_CHECK(mx_data_iter_next(it, &has) == MX_OK && has == 1);
  MT_CHECK(mx_data_iter_get_data(it, &x) == MX_OK && mx_data_iter_get_label(it, &y) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(x, xs, sizeof xs) == MX_OK);
  MT_CHECK(mx_ndarray_copy_to_host(y, ys, sizeof ys) == MX_OK);
  MT_CHECK(xs[0] == 0 && xs[1] == 1.0f && xs[4] == 0.2f && xs[11] == 0.4f);
  MT_CHECK(ys[0] == 7 && ys[2] == 9);
  mx_ndarray_free(x);
  mx_ndarray_free(y);
  mx_data_iter_free(it);

  /* Parts for distributed workers: 3 samples in 2 equal parts are samples {0} and {1}. */
  {
    int32_t part;
    for (part = 0; part < 2; ++part) {
      int64_t pad = -1;
      o.batch_size = 2;
      o.num_parts = 2;
      o.part_index = part;
      it = NULL;
      MT_CHECK(mx_data_iter_create_mnist(&o, &it) == MX_OK);
      MT_CHECK(mx_data_iter_next(it, &has) == MX_OK && has == 1);
      MT_CHECK(mx_data_iter_get_label(it, &y) == MX_OK);
      MT_CHECK(mx_ndarray_copy_to_host(y, ys, 2 * sizeof(float)) == MX_OK);
      MT_CHECK(mx_data_iter_get_pad(it, &pad) == MX_OK);
      MT_CHECK(ys[0] == 7 + part && pad == 1);
      MT_CHECK(mx_data_iter_next(it, &has) == MX_OK && has == 0);
      mx_ndarray_free(y);
      mx_data_iter_free(it);
    }
    o.part_index = 2; /* of 2 parts */
    MT_CHECK(mx_data_iter_create_mnist(&o, &it) == MX_ERR_INVALID_ARGUMENT);
    MT_CHECK(strstr(mx_get_last_error(), "part_index") != NULL);
    o.num_parts = 4; /* 3 samples */
    o.part_index = 3;
    MT_CHECK(mx_data_iter_create_mnist(&o, &it) == MX_ERR_INVALID_ARGUMENT);
    MT_CHECK(strstr(mx_get_last_error(), "too few for 4 parts") != NULL);
    o.num_parts = 0;
    o.part_index = 0;
    o.batch_size = 3;
  }

  /* Swapped files: MX_ERR_IO naming the file. */
  o.image_path = lbl_path;
  o.label_path = img_path;
  it = NULL;
  MT_CHECK(mx_data_iter_create_mnist(&o, &it) == MX_ERR_IO && it == NULL);
  MT_CHECK(strstr(mx_get_last_error(), lbl_path) != NULL);
  o.image_path = "no/such/file.gz";
  MT_CHECK(mx_data_iter_create_mnist(&o, &it) == MX_ERR_IO);
  MT_CHECK(strstr(mx_get_last_error(), "no/such/file.gz") != NULL);
  o.image_path = NULL;
  MT_CHECK(mx_data_iter_create_mnist(&o, &it) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "image_path") != NULL);
  remove(img_path);
  remove(lbl_path);
}

static void test_bad_arguments(void) {
  const float data[6] = {1, 2, 3, 4, 5, 6};
  const int64_t shape[2] = {3, 2}, bad_label_shape[1] = {2};
  mx_data_iter_ndarray_options_t o = ndarray_options(data, shape, data, bad_label_shape);
  mx_data_iter_t it = NULL;
  mx_ndarray_t x = NULL;
  int32_t has = 0;
  int64_t pad = 0;
  /* Labels for 2 samples, data for 3. */
  MT_CHECK(mx_data_iter_create_ndarray(&o, &it) == MX_ERR_INVALID_ARGUMENT && it == NULL);
  MT_CHECK(strstr(mx_get_last_error(), "label holds 2") != NULL);
  o = ndarray_options(data, shape, NULL, NULL);
  MT_CHECK(mx_data_iter_create_ndarray(NULL, &it) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "options") != NULL);
  MT_CHECK(mx_data_iter_create_ndarray(&o, NULL) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "out_iter") != NULL);
  o.struct_size = 4;
  MT_CHECK(mx_data_iter_create_ndarray(&o, &it) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "struct_size") != NULL);
  o.struct_size = sizeof o;
  o.batch_size = 0;
  MT_CHECK(mx_data_iter_create_ndarray(&o, &it) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "batch_size") != NULL);
  o.batch_size = 2;
  o.last_batch_handle = 7;
  MT_CHECK(mx_data_iter_create_ndarray(&o, &it) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "last_batch_handle") != NULL);
  o.last_batch_handle = MX_LAST_BATCH_PAD;
  o.data = NULL;
  MT_CHECK(mx_data_iter_create_ndarray(&o, &it) == MX_ERR_INVALID_ARGUMENT);
  o.data = data;
  o.data_ndim = 0;
  MT_CHECK(mx_data_iter_create_ndarray(&o, &it) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(it == NULL);

  /* Calls on a NULL iterator, and before the first batch. */
  MT_CHECK(mx_data_iter_next(NULL, &has) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(strstr(mx_get_last_error(), "iter") != NULL);
  MT_CHECK(mx_data_iter_reset(NULL) == MX_ERR_INVALID_ARGUMENT);
  o.data_ndim = 2;
  MT_CHECK(mx_data_iter_create_ndarray(&o, &it) == MX_OK);
  MT_CHECK(mx_data_iter_get_data(it, &x) == MX_ERR_INVALID_ARGUMENT && x == NULL);
  MT_CHECK(strstr(mx_get_last_error(), "no current batch") != NULL);
  MT_CHECK(mx_data_iter_get_pad(it, &pad) == MX_ERR_INVALID_ARGUMENT);
  MT_CHECK(mx_data_iter_next(it, NULL) == MX_ERR_INVALID_ARGUMENT);
  /* The iterator and the library go on working. */
  MT_CHECK(mx_data_iter_next(it, &has) == MX_OK && has == 1);
  MT_CHECK(mx_data_iter_get_data(it, &x) == MX_OK && x != NULL);
  MT_CHECK(mx_data_iter_get_pad(it, &pad) == MX_OK && pad == 0);
  mx_ndarray_free(x);
  mx_data_iter_free(it);
}

int main(void) {
  test_ndarray_iter();
  test_kept_batches_keep_their_values();
  test_no_labels();
  test_mnist();
  test_bad_arguments();
  test_ndarray_iter(); /* still fine after all those errors */
  return mt_finish();
}
