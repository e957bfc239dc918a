// C ABI: the engine's profiler (src/engine/profiler.h).
#include <cstddef>
#include <cstring>

#include "c_api/c_api_common.h"
#include "engine/profiler.h"

using mx::capi::CheckArg;
using mx::capi::CheckOut;
using mx::capi::Guard;
namespace profiler = mx::engine::profiler;

extern "C" {

MX_API mx_status_t mx_profiler_set_state(int32_t state) {
  return Guard([&] {
    MX_CHECK(state == MX_PROFILER_STOP || state == MX_PROFILER_RUN, kInvalidArgument)
        << "argument 'state': unknown profiler state " << state
        << ": expected MX_PROFILER_STOP (0) or MX_PROFILER_RUN (1)";
    profiler::SetState(state == MX_PROFILER_RUN);
  });
}

MX_API mx_status_t mx_profiler_dump_options_default(mx_profiler_dump_options_t* opts) {
  return Guard([&] {
    CheckOut(opts, "opts");
    std::memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
    opts->format = MX_PROFILER_FORMAT_AUTO;
  });
}

MX_API mx_status_t mx_profiler_dump(const char* path, const mx_profiler_dump_options_t* opts) {
  return Guard([&] {
    CheckArg(path, "path");
    mx_profiler_dump_options_t o;
    std::memset(&o, 0, sizeof o);
    if (opts != nullptr) {
      // Older callers pass a shorter struct: read what they gave, default the rest.
      constexpr size_t kMinSize = offsetof(mx_profiler_dump_options_t, format) + sizeof(int32_t);
      MX_CHECK(opts->struct_size >= kMinSize, kInvalidArgument)
          << "argument 'opts': struct_size = " << opts->struct_size
          << " is too small (use mx_profiler_dump_options_default)";
      std::memcpy(&o, opts, opts->struct_size < sizeof o ? opts->struct_size : sizeof o);
    }
    MX_CHECK(o.format >= MX_PROFILER_FORMAT_AUTO && o.format <= MX_PROFILER_FORMAT_TABLE,
             kInvalidArgument)
        << "argument 'opts': unknown format " << o.format
        << ": expected MX_PROFILER_FORMAT_AUTO (0), MX_PROFILER_FORMAT_CHROME_TRACE (1) or "
           "MX_PROFILER_FORMAT_TABLE (2)";
    profiler::Dump(path, static_cast<profiler::Format>(o.format), o.reset != 0);
  });
}

}  // extern "C"
