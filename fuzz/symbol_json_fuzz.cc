// Fuzzes symbol JSON (docs/design/symbol_json.md) through the C ABI, as an embedder loading a
// checkpoint does, then uses what the loader accepted the way a binding would: lists its names,
// walks its internals and attributes, writes it back to JSON and reads that again, and infers
// shapes and types with nothing given (so __shape__ and __dtype__ attributes from the file reach
// the ops' inference functions).
//
// Expected: the loader fails only with MX_ERR_INVALID_ARGUMENT and a message; a symbol it accepts
// survives every query; its JSON loads again and writes the same JSON (a fixed point); inference
// either succeeds with one shape per name or fails with a user-facing error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_util.h"
#include "mx/c_api.h"

namespace {

using mx_fuzz::Fail;
using mx_fuzz::MustSucceed;
using mx_fuzz::StatusOk;

int32_t CountOf(mx_status_t (*list)(mx_symbol_t, int32_t*, const char***), mx_symbol_t s,
                const char* call) {
  int32_t n = -1;
  const char** names = nullptr;
  MustSucceed(list(s, &n, &names), call);
  if (n < 0 || names == nullptr) Fail(std::string(call) + " gave no list");
  for (int32_t i = 0; i < n; ++i) {
    if (names[i] == nullptr) Fail(std::string(call) + " gave a NULL name");
  }
  return n;
}

std::string ToJSON(mx_symbol_t s) {
  const char* json = nullptr;
  MustSucceed(mx_symbol_to_json(s, &json), "mx_symbol_to_json of a loaded symbol");
  return json;
}

void Query(mx_symbol_t s) {
  const int32_t num_args = CountOf(mx_symbol_list_arguments, s, "mx_symbol_list_arguments");
  const int32_t num_out = CountOf(mx_symbol_list_outputs, s, "mx_symbol_list_outputs");
  const int32_t num_aux =
      CountOf(mx_symbol_list_auxiliary_states, s, "mx_symbol_list_auxiliary_states");
  int32_t n = -1;
  MustSucceed(mx_symbol_get_num_outputs(s, &n), "mx_symbol_get_num_outputs");
  if (n != num_out) Fail("mx_symbol_get_num_outputs disagrees with mx_symbol_list_outputs");

  const char* name = nullptr;
  MustSucceed(mx_symbol_get_name(s, &name), "mx_symbol_get_name");
  int32_t num_attrs = 0;
  const char **keys = nullptr, **values = nullptr;
  MustSucceed(mx_symbol_list_attrs(s, 1, &num_attrs, &keys, &values), "mx_symbol_list_attrs");

  mx_symbol_t internals = nullptr;
  MustSucceed(mx_symbol_get_internals(s, &internals), "mx_symbol_get_internals");
  CountOf(mx_symbol_list_outputs, internals, "mx_symbol_list_outputs of the internals");
  mx_symbol_free(internals);

  // Inference with no shapes given: partial results are fine, errors must be meant for users.
  mx_shape_list_t args{}, outs{}, aux{};
  int32_t complete = 0;
  if (StatusOk(
          mx_symbol_infer_shape(s, 0, nullptr, nullptr, nullptr, &args, &outs, &aux, &complete),
          "mx_symbol_infer_shape", {MX_ERR_INVALID_ARGUMENT})) {
    if (args.num != num_args || outs.num != num_out || aux.num != num_aux)
      Fail("mx_symbol_infer_shape: the counts differ from the lists");
  }
  mx_dtype_list_t targs{}, touts{}, taux{};
  if (StatusOk(mx_symbol_infer_type(s, 0, nullptr, nullptr, &targs, &touts, &taux, &complete),
               "mx_symbol_infer_type", {MX_ERR_INVALID_ARGUMENT})) {
    if (targs.num != num_args || touts.num != num_out || taux.num != num_aux)
      Fail("mx_symbol_infer_type: the counts differ from the lists");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  mx_fuzz::UseNaiveEngine();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // mx_symbol_from_json takes a C string: the document ends at the first NUL byte.
  const std::string json(reinterpret_cast<const char*>(data), size);
  mx_symbol_t s = nullptr;
  if (!StatusOk(mx_symbol_from_json(json.c_str(), &s), "mx_symbol_from_json",
                {MX_ERR_INVALID_ARGUMENT}))
    return 0;
  Query(s);

  // What the writer writes, the reader reads, and the writer writes it the same way again.
  const std::string first = ToJSON(s);
  mx_symbol_t again = nullptr;
  if (mx_symbol_from_json(first.c_str(), &again) != MX_OK)
    Fail(std::string("the JSON written for a loaded symbol does not load: ") + mx_get_last_error() +
         "\n" + first);
  const std::string second = ToJSON(again);
  if (second != first)
    Fail("writing a reloaded symbol changed its JSON:\n" + first + "\n" + second);
  mx_symbol_free(again);
  mx_symbol_free(s);
  return 0;
}
