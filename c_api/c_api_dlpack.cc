// C ABI: zero-copy exchange of arrays with other frameworks through DLPack's DLManagedTensor
// (docs/design/dlpack.md). The header is the vendored DLPack 1.0 (third_party/dlpack), whose
// legacy DLManagedTensor is the struct numpy and PyTorch exchange in "dltensor" capsules.
#include <dlpack/dlpack.h>

// Another dlpack.h found first (Debian's libdlpack-dev is 0.6, without kDLBool and the version
// macros) would compile but describe a different header than the one libmx installs for its users.
#if !defined(DLPACK_MAJOR_VERSION) || DLPACK_MAJOR_VERSION != 1
#error "expected the vendored DLPack 1.x header (third_party/dlpack/include) first on the path"
#endif

#include <cstdint>
#include <memory>
#include <sstream>
#include <string>

#include "c_api/c_api_common.h"
#include "c_api/c_api_handles.h"

using mx::NDArray;
using mx::capi::ArrayOf;
using mx::capi::CheckArg;
using mx::capi::CheckOut;
using mx::capi::Guard;

namespace mx {
namespace capi {
namespace {

// The release of an imported chunk: hands the tensor back to its producer.
void CallDeleter(void* arg) {
  auto* managed = static_cast<DLManagedTensor*>(arg);
  if (managed->deleter != nullptr) managed->deleter(managed);
}

DLDataType ToDLDataType(DType dtype) {
  switch (dtype) {
    case DType::kFloat32:
      return DLDataType{kDLFloat, 32, 1};
    case DType::kFloat64:
      return DLDataType{kDLFloat, 64, 1};
    case DType::kFloat16:
      return DLDataType{kDLFloat, 16, 1};
    case DType::kUint8:
      return DLDataType{kDLUInt, 8, 1};
    case DType::kInt32:
      return DLDataType{kDLInt, 32, 1};
    case DType::kInt8:
      return DLDataType{kDLInt, 8, 1};
    case DType::kInt64:
      return DLDataType{kDLInt, 64, 1};
  }
  MX_THROW(kInternal) << "no DLPack type for dtype " << static_cast<int>(dtype);
}

// Pinned host memory is exported as kDLCPU: it is host memory, and consumers such as PyTorch
// accept host memory only as kDLCPU.
DLDevice DeviceOf(Context ctx) {
  return ctx.is_gpu() ? DLDevice{kDLCUDA, ctx.dev_id} : DLDevice{kDLCPU, 0};
}

// An exported tensor: the DLManagedTensor the consumer holds, plus what it points to. `array`
// shares the exported array's chunk, so the memory and its engine variable stay alive until the
// consumer calls the deleter, whatever happens to the mx_ndarray_t meanwhile.
struct ExportedTensor {
  DLManagedTensor managed{};
  NDArray array;
  int64_t shape[Shape::kMaxNDim] = {};
  int64_t strides[Shape::kMaxNDim] = {};

  // True while the consumer has left the tensor as exported, so it still describes `array`.
  bool Unchanged() const {
    const DLTensor& t = managed.dl_tensor;
    const DLDataType dt = ToDLDataType(array.dtype());
    if (t.data != array.data().dptr || t.ndim != array.shape().ndim() || t.shape != shape ||
        t.strides != strides || t.byte_offset != 0 || t.dtype.code != dt.code ||
        t.dtype.bits != dt.bits || t.dtype.lanes != dt.lanes) {
      return false;
    }
    const DLDevice d = DeviceOf(array.ctx());
    if (t.device.device_type != d.device_type || t.device.device_id != d.device_id) return false;
    int64_t stride = 1;
    for (int i = t.ndim - 1; i >= 0; --i) {
      if (shape[i] != array.shape()[i] || strides[i] != stride) return false;
      stride *= shape[i];
    }
    return true;
  }
};

// The deleter of every tensor libmx exports. Dropping the last reference to a chunk never
// throws (the chunk's destructor catches) and never waits: the memory is reused once the ops
// pushed on it have run.
void DeleteExported(DLManagedTensor* self) {
  if (self != nullptr) delete static_cast<ExportedTensor*>(self->manager_ctx);
}

std::string DLDataTypeString(DLDataType t) {
  const char* names[] = {"int", "uint", "float", "opaque handle", "bfloat", "complex", "bool"};
  std::ostringstream os;
  os << "code " << int(t.code);
  if (t.code < sizeof(names) / sizeof(names[0])) os << " (" << names[t.code] << ")";
  os << ", " << int(t.bits) << " bits, " << t.lanes << (t.lanes == 1 ? " lane" : " lanes");
  return os.str();
}

DType FromDLDataType(DLDataType t) {
  for (int i = 0; i < kNumDTypes; ++i) {
    const DLDataType m = ToDLDataType(static_cast<DType>(i));
    if (m.code == t.code && m.bits == t.bits && m.lanes == t.lanes) return static_cast<DType>(i);
  }
  MX_THROW(kUnsupported) << "DLPack tensor: its element type (" << DLDataTypeString(t)
                         << ") has no libmx dtype; supported: float16, float32, float64 (code 2), "
                            "int8, int32, int64 (code 0), uint8 (code 1), each with 1 lane";
}

const char* DLDeviceName(int type) {
  switch (type) {
    case kDLCPU:
      return "cpu";
    case kDLCUDA:
      return "cuda";
    case kDLCUDAHost:
      return "cuda_host";
    case kDLOpenCL:
      return "opencl";
    case kDLVulkan:
      return "vulkan";
    case kDLMetal:
      return "metal";
    case kDLVPI:
      return "vpi";
    case kDLROCM:
      return "rocm";
    case kDLROCMHost:
      return "rocm_host";
    case kDLExtDev:
      return "ext_dev";
    case kDLCUDAManaged:
      return "cuda_managed";
    case kDLOneAPI:
      return "oneapi";
    case kDLWebGPU:
      return "webgpu";
    case kDLHexagon:
      return "hexagon";
    case kDLMAIA:
      return "maia";
    default:
      return "unknown";
  }
}

Context FromDLDevice(DLDevice d) {
  switch (d.device_type) {
    case kDLCPU:
    case kDLCUDAHost:
      // DLPack numbers host memory 0; pinned (cudaMallocHost) memory is host memory libmx's
      // cpu_pinned context describes.
      MX_CHECK(d.device_id == 0, kInvalidArgument)
          << "DLPack tensor: device " << DLDeviceName(d.device_type) << " with device_id "
          << d.device_id << ": host memory has device_id 0";
      return d.device_type == kDLCPU ? Context::CPU() : Context::CPUPinned();
    case kDLCUDA:
      return Context::GPU(d.device_id);  // validated (GPU present, CUDA build) on import
    default:
      MX_THROW(kUnsupported) << "DLPack tensor: device type " << int(d.device_type) << " ("
                             << DLDeviceName(d.device_type)
                             << ") is not supported: libmx imports cpu (1), cuda (2) and "
                                "cuda_host (3) memory";
  }
}

// The checked import of a foreign tensor; throws (leaving the tensor to the caller) for anything
// libmx cannot use as it is.
NDArray ImportForeign(DLManagedTensor* managed) {
  const DLTensor& t = managed->dl_tensor;
  const Context ctx = FromDLDevice(t.device);
  MX_CHECK(t.ndim >= 0, kInvalidArgument) << "DLPack tensor: ndim is " << t.ndim;
  MX_CHECK(t.ndim <= Shape::kMaxNDim, kUnsupported)
      << "DLPack tensor: ndim is " << t.ndim << ", libmx arrays have at most " << Shape::kMaxNDim
      << " dims";
  MX_CHECK(t.ndim == 0 || t.shape != nullptr, kInvalidArgument)
      << "DLPack tensor: shape is NULL with ndim " << t.ndim;
  for (int i = 0; i < t.ndim; ++i) {
    MX_CHECK(t.shape[i] >= 0, kInvalidArgument)
        << "DLPack tensor: dim " << i << " is " << t.shape[i];
  }
  const Shape shape(t.shape, t.ndim);
  const DType dtype = FromDLDataType(t.dtype);
  const size_t bytes = ByteSize(shape, DTypeSize(dtype));  // throws naming a shape too big
  if (t.strides != nullptr && shape.Size() > 0) {
    // Row-major and compact, as every libmx kernel assumes. The stride of a dim of extent 1
    // never matters (producers leave various values there), so it is not compared.
    int64_t expected = 1;
    for (int i = t.ndim - 1; i >= 0; --i) {
      if (t.shape[i] != 1 && t.strides[i] != expected) {
        std::ostringstream got, want;
        int64_t w = 1;
        std::vector<int64_t> compact(t.ndim);
        for (int j = t.ndim - 1; j >= 0; --j) {
          compact[j] = w;
          w *= t.shape[j];
        }
        for (int j = 0; j < t.ndim; ++j) {
          got << (j ? "," : "") << t.strides[j];
          want << (j ? "," : "") << compact[j];
        }
        MX_THROW(kUnsupported) << "DLPack tensor of shape " << shape << ": strides (" << got.str()
                               << ") are not row-major compact (" << want.str()
                               << "); libmx arrays are C-contiguous: make a contiguous copy "
                                  "first (numpy.ascontiguousarray, torch.Tensor.contiguous)";
      }
      expected *= t.shape[i];
    }
  }
  const uintptr_t base = reinterpret_cast<uintptr_t>(t.data);
  uintptr_t begin = 0, end = 0;
  MX_CHECK(!__builtin_add_overflow(base, t.byte_offset, &begin) &&
               !__builtin_add_overflow(begin, bytes, &end),
           kInvalidArgument)
      << "DLPack tensor: data " << t.data << " + byte_offset " << t.byte_offset << " + " << bytes
      << " bytes wraps around the address space";
  MX_CHECK(t.data != nullptr || bytes == 0, kInvalidArgument)
      << "DLPack tensor: data is NULL for " << bytes << " bytes of shape " << shape;
  // Kernels read elements as their C++ type, which needs its natural alignment (misaligned
  // access is undefined behaviour, and faults on some CPUs). Nothing needs more: slices of
  // libmx's own 64-byte aligned blocks start anywhere on an element boundary already.
  MX_CHECK(bytes == 0 || begin % DTypeSize(dtype) == 0, kInvalidArgument)
      << "DLPack tensor: data " << t.data << " + byte_offset " << t.byte_offset
      << " is not aligned to its " << DTypeName(dtype) << " elements (" << DTypeSize(dtype)
      << " bytes)";
  return NDArray::FromExternal(bytes == 0 ? t.data : reinterpret_cast<void*>(begin), shape, dtype,
                               ctx, &CallDeleter, managed);
}

}  // namespace
}  // namespace capi
}  // namespace mx

extern "C" {

MX_API mx_status_t mx_ndarray_to_dlpack(mx_ndarray_t array, struct DLManagedTensor** out_tensor) {
  return Guard([&] {
    const NDArray& a = ArrayOf(array, "array");
    CheckOut(out_tensor, "out_tensor");
    // The consumer reads the values at once and may write them: every op pushed so far on the
    // array (writes, and reads a consumer's write must not overtake) is done first. An error of
    // that work fails the export.
    a.WaitToWrite();
    auto e = std::make_unique<mx::capi::ExportedTensor>();
    e->array = a;
    const mx::TBlob blob = a.data();  // allocates an array that was never written
    DLTensor& t = e->managed.dl_tensor;
    t.data = blob.dptr;
    t.device = mx::capi::DeviceOf(a.ctx());
    t.ndim = a.shape().ndim();
    t.dtype = mx::capi::ToDLDataType(a.dtype());
    int64_t stride = 1;
    for (int i = t.ndim - 1; i >= 0; --i) {
      e->shape[i] = a.shape()[i];
      e->strides[i] = stride;
      stride *= a.shape()[i];
    }
    t.shape = e->shape;
    // Explicit compact strides rather than NULL: DLPack 1.0 consumers require them.
    t.strides = e->strides;
    t.byte_offset = 0;
    e->managed.manager_ctx = e.get();
    e->managed.deleter = &mx::capi::DeleteExported;
    *out_tensor = &e.release()->managed;
  });
}

MX_API mx_status_t mx_ndarray_from_dlpack(struct DLManagedTensor* tensor, mx_ndarray_t* out_array) {
  return Guard([&] {
    CheckArg(tensor, "tensor");
    CheckOut(out_array, "out_array");
    // The handle is made first and filled without allocating, so that once the array owns the
    // tensor nothing can fail: on any error the tensor is still the caller's.
    auto handle = std::make_unique<mx_ndarray>(NDArray());
    auto* own = tensor->deleter == &mx::capi::DeleteExported
                    ? static_cast<mx::capi::ExportedTensor*>(tensor->manager_ctx)
                    : nullptr;
    if (own != nullptr && own->Unchanged()) {
      // One of libmx's own exports coming back as it left: share the original chunk, and with it
      // its engine variable, so ops on the two arrays stay ordered; then release the export. (A
      // consumer that changed the fields gets the checked import of foreign memory below.)
      const NDArray& a = own->array;
      handle->dims.assign(a.shape().begin(), a.shape().end());
      handle->array = a;
      mx::capi::DeleteExported(tensor);
      *out_array = handle.release();
      return;
    }
    const int32_t ndim = tensor->dl_tensor.ndim;
    handle->dims.reserve(ndim > 0 && ndim <= mx::Shape::kMaxNDim ? ndim : 0);
    NDArray a = mx::capi::ImportForeign(tensor);
    // Nothing below throws: `dims` has its capacity, the rest are moves.
    handle->dims.assign(a.shape().begin(), a.shape().end());
    handle->array = std::move(a);
    *out_array = handle.release();
  });
}

}  // extern "C"
