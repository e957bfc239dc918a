// C ABI: version, element types, devices, logging.
#include <cstring>

#include "base/context.h"
#include "base/dtype.h"
#include "base/logging.h"
#include "c_api/c_api_common.h"

using mx::capi::CheckArg;
using mx::capi::CheckOut;
using mx::capi::Guard;

extern "C" {

MX_API int32_t mx_get_version(void) { return MX_VERSION; }

MX_API const char* mx_get_version_string(void) { return MX_VERSION_STRING; }

MX_API mx_status_t mx_dtype_size(int32_t dtype, size_t* out_size) {
  return Guard([&] {
    CheckOut(out_size, "out_size");
    *out_size = mx::DTypeSize(mx::CheckedDType(dtype));
  });
}

MX_API mx_status_t mx_dtype_name(int32_t dtype, const char** out_name) {
  return Guard([&] {
    CheckOut(out_name, "out_name");
    *out_name = mx::DTypeName(mx::CheckedDType(dtype));
  });
}

MX_API mx_status_t mx_dtype_from_name(const char* name, int32_t* out_dtype) {
  return Guard([&] {
    CheckArg(name, "name");
    CheckOut(out_dtype, "out_dtype");
    *out_dtype = static_cast<int32_t>(mx::DTypeFromName(name));
  });
}

MX_API mx_status_t mx_gpu_count(int32_t* out_count) {
  return Guard([&] {
    CheckOut(out_count, "out_count");
    *out_count = mx::GpuCount();
  });
}

MX_API mx_status_t mx_context_to_string(mx_context_t ctx, char* buf, size_t buf_size) {
  return Guard([&] {
    CheckOut(buf, "buf");
    const mx::Context c{static_cast<mx::DeviceType>(ctx.device_type), ctx.device_id};
    MX_CHECK(ctx.device_type >= MX_CPU && ctx.device_type <= MX_CPU_PINNED, kInvalidArgument)
        << "unknown device type " << ctx.device_type
        << ": expected 1 (cpu), 2 (gpu) or 3 (cpu_pinned)";
    const std::string s = c.ToString();
    MX_CHECK(s.size() < buf_size, kInvalidArgument)
        << "buffer of " << buf_size << " bytes is too small for '" << s << "'";
    std::memcpy(buf, s.c_str(), s.size() + 1);
  });
}

MX_API mx_status_t mx_set_log_level(int32_t level) {
  return Guard([&] {
    MX_CHECK(level >= MX_LOG_OFF && level <= MX_LOG_DEBUG, kInvalidArgument)
        << "unknown log level " << level << ": expected " << MX_LOG_OFF << " (off) to "
        << MX_LOG_DEBUG << " (debug)";
    mx::SetLogLevel(static_cast<mx::LogLevel>(level));
  });
}

}  // extern "C"
