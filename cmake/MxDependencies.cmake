# Finds every dependency and collects them on the INTERFACE target mx_deps. Debian packages:
# libopenblas-openmp-dev, libdmlc-dev, libgtest-dev (see scripts/setup.sh). The one vendored
# header, DLPack's, is the target mx_dlpack below.
add_library(mx_deps INTERFACE)

# Sanitizers apply to everything built here (library, tests, examples).
if(MX_SANITIZE)
  if(MX_SANITIZE STREQUAL "thread")
    # TSan misreports libgomp's barriers; the thread build runs without OpenMP, and so without
    # oneDNN, whose threads are libgomp's.
    set(MX_USE_OPENMP OFF CACHE BOOL "" FORCE)
    set(MX_USE_ONEDNN OFF CACHE BOOL "" FORCE)
    add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
    add_link_options(-fsanitize=thread)
  else()
    string(REPLACE ";" "," _mx_san "${MX_SANITIZE}")
    add_compile_options(-fsanitize=${_mx_san} -fno-sanitize-recover=all -fno-omit-frame-pointer)
    add_link_options(-fsanitize=${_mx_san} -fno-sanitize-recover=all)
  endif()
endif()

# The fuzz build: libFuzzer's coverage instrumentation on every object, with ASan and UBSan (a
# UBSan report stops the run, so libFuzzer keeps the input). Harnesses add -fsanitize=fuzzer when
# linking (fuzz/CMakeLists.txt). clang has no libgomp-compatible OpenMP here and oneDNN's threads
# are libgomp's, so both are off: the harnesses exercise parsing and validation, not speed. -O1
# (libFuzzer's advice) builds in half the time of -O3 with these instrumentations; CMakeLists.txt
# lowers the operator kernels to -O0.
if(MX_BUILD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "MX_BUILD_FUZZ needs clang (libFuzzer): configure with "
                        "-DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++")
  endif()
  if(MX_SANITIZE)
    message(FATAL_ERROR "MX_BUILD_FUZZ brings its own sanitizers; leave MX_SANITIZE empty")
  endif()
  set(MX_USE_OPENMP OFF CACHE BOOL "" FORCE)
  set(MX_USE_ONEDNN OFF CACHE BOOL "" FORCE)
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -gline-tables-only -O1)
  add_link_options(-fsanitize=address,undefined)
endif()

find_package(Threads REQUIRED)
target_link_libraries(mx_deps INTERFACE Threads::Threads ${CMAKE_DL_LIBS})

# dmlc-core: typed parameters, JSON, streams. Its package config says 0.3, so no version here.
find_package(dmlc REQUIRED CONFIG)
target_link_libraries(mx_deps INTERFACE dmlc::dmlc)
# CHECK failures throw dmlc::Error (never abort) with clean messages and no stack dump; dmlc's own
# LOG(INFO/WARNING) goes through our logger (src/base/logging.cc), silent by default.
target_compile_definitions(mx_deps INTERFACE
  DMLC_LOG_FATAL_THROW=1 DMLC_LOG_STACK_TRACE=0 DMLC_LOG_CUSTOMIZE=1 DMLC_LOG_BEFORE_THROW=0)

# DLPack's header, vendored verbatim (third_party/dlpack: DLPack 1.0, its Apache-2.0 LICENSE, the
# upstream commit in its README): the DLManagedTensor of mx_ndarray_to_dlpack / _from_dlpack.
# An INTERFACE target of its own, linked PUBLIC by libmx, so that code built against libmx (tests,
# examples, embedders after `cmake --install`, where it lands beside mx/) can include
# <dlpack/dlpack.h> to fill and read the struct; c_api.h itself only forward-declares it. Listed
# before the system include dirs, it wins over any other dlpack.h on the machine (Debian's
# libdlpack-dev is 0.6), which c_api/c_api_dlpack.cc checks.
add_library(mx_dlpack INTERFACE)
target_include_directories(mx_dlpack INTERFACE
  $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/third_party/dlpack/include>
  $<INSTALL_INTERFACE:include>)

# gzip'ed MNIST files (src/io, which the minimal build leaves out).
if(NOT MX_MINIMAL)
  find_package(ZLIB REQUIRED)
  target_link_libraries(mx_deps INTERFACE ZLIB::ZLIB)
endif()

# MPI's C library for the dist_* key-value stores. Only src/kvstore/worker_group_mpi.cc includes
# mpi.h (CMakeLists.txt gives it MPI's include path), so everything else compiles exactly as
# without MPI and shares its ccache entries with the other builds; what links libmx links libmpi.
if(MX_USE_MPI)
  find_package(MPI REQUIRED COMPONENTS C)
  target_link_libraries(mx_deps INTERFACE $<LINK_ONLY:MPI::MPI_C>)
endif()

# OpenBLAS, the OpenMP build, so BLAS and our kernels share one OpenMP runtime.
set(BLA_VENDOR OpenBLAS)
find_package(BLAS REQUIRED)
find_path(MX_CBLAS_INCLUDE_DIR cblas.h
  PATHS /usr/include/x86_64-linux-gnu/openblas-openmp /usr/include/openblas
  PATH_SUFFIXES openblas REQUIRED)
target_include_directories(mx_deps SYSTEM INTERFACE ${MX_CBLAS_INCLUDE_DIR})
if(MX_SANITIZE STREQUAL "thread")
  # The OpenMP OpenBLAS runs GEMMs on libgomp threads whose barriers TSan cannot see (it then
  # reports races between a GEMM's writes and the engine op that reads them), and it takes its
  # thread count from OMP_NUM_THREADS, not OPENBLAS_NUM_THREADS. The thread build links the serial
  # OpenBLAS (Debian's libopenblas0-serial; same ABI), so no BLAS thread exists at all.
  find_library(MX_SERIAL_BLAS_LIBRARY NAMES libopenblas.so.0 openblas
               PATHS /usr/lib/x86_64-linux-gnu/openblas-serial /usr/lib/openblas-serial
               NO_DEFAULT_PATH)
  if(NOT MX_SERIAL_BLAS_LIBRARY)
    message(FATAL_ERROR "MX_SANITIZE=thread needs the serial OpenBLAS "
                        "(apt-get install libopenblas0-serial)")
  endif()
  target_link_libraries(mx_deps INTERFACE ${MX_SERIAL_BLAS_LIBRARY})
else()
  target_link_libraries(mx_deps INTERFACE ${BLAS_LIBRARIES})
endif()

if(MX_USE_OPENMP)
  find_package(OpenMP REQUIRED COMPONENTS CXX)
  target_link_libraries(mx_deps INTERFACE OpenMP::OpenMP_CXX)
  target_compile_definitions(mx_deps INTERFACE MX_USE_OPENMP=1)
else()
  target_compile_definitions(mx_deps INTERFACE MX_USE_OPENMP=0)
endif()

# oneDNN: found in CMakeLists.txt (its package config drags in OpenCL; the library alone is what
# libmx needs). Built for the OpenMP runtime, like OpenBLAS: one thread pool for all three.
if(MX_USE_ONEDNN)
  if(NOT (MX_ONEDNN_INCLUDE_DIR AND MX_ONEDNN_LIBRARY))
    message(FATAL_ERROR "MX_USE_ONEDNN is on but oneDNN was not found (apt-get install libdnnl-dev)")
  endif()
  target_include_directories(mx_deps SYSTEM INTERFACE ${MX_ONEDNN_INCLUDE_DIR})
  target_link_libraries(mx_deps INTERFACE ${MX_ONEDNN_LIBRARY})
  target_compile_definitions(mx_deps INTERFACE MX_USE_ONEDNN=1)
else()
  target_compile_definitions(mx_deps INTERFACE MX_USE_ONEDNN=0)
endif()

if(MX_USE_CUDA)
  # The runtime is linked shared and the driver library never: cudart loads the driver lazily,
  # so a CUDA build still starts (and reports zero GPUs) on a machine without one.
  set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
  set(CMAKE_CUDA_ARCHITECTURES ${MX_CUDA_ARCHS})
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  target_link_libraries(mx_deps INTERFACE CUDA::cudart CUDA::cublas)
  target_compile_definitions(mx_deps INTERFACE MX_USE_CUDA=1)
  if(MX_USE_CUDNN)
    find_path(MX_CUDNN_INCLUDE_DIR cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS} PATH_SUFFIXES include)
    find_library(MX_CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR} PATH_SUFFIXES lib64 lib)
    if(MX_CUDNN_INCLUDE_DIR AND MX_CUDNN_LIBRARY)
      target_include_directories(mx_deps SYSTEM INTERFACE ${MX_CUDNN_INCLUDE_DIR})
      target_link_libraries(mx_deps INTERFACE ${MX_CUDNN_LIBRARY})
      target_compile_definitions(mx_deps INTERFACE MX_USE_CUDNN=1)
    else()
      message(WARNING "cuDNN not found: building the CUDA backend without it")
      set(MX_USE_CUDNN OFF CACHE BOOL "" FORCE)
      target_compile_definitions(mx_deps INTERFACE MX_USE_CUDNN=0)
    endif()
  else()
    target_compile_definitions(mx_deps INTERFACE MX_USE_CUDNN=0)
  endif()
else()
  set(MX_USE_CUDNN OFF CACHE BOOL "" FORCE)
  target_compile_definitions(mx_deps INTERFACE MX_USE_CUDA=0 MX_USE_CUDNN=0)
endif()
