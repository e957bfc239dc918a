# Installs the build into a scratch prefix, then builds and runs tests/install/consumer against it:
# through find_package(mx), and through pkg-config both dynamically (a shared build) and statically
# against libmx.a with `pkg-config --static --libs mx` (every build). The static predictor must not
# load libmx.so. MX_STATIC / MX_MINIMAL say which build this is (tests/CMakeLists.txt).
file(REMOVE_RECURSE ${MX_WORK_DIR})
file(MAKE_DIRECTORY ${MX_WORK_DIR})
set(prefix ${MX_WORK_DIR}/prefix)
if(MX_MINIMAL)
  set(mode minimal)
else()
  set(mode full)
endif()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

# A program linked against libmx.a has no libmx.so among its needed libraries.
function(check_static exe)
  execute_process(COMMAND readelf -d ${exe} OUTPUT_VARIABLE dyn RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR dyn MATCHES "libmx\\.so")
    message(FATAL_ERROR "${exe} is not linked statically against libmx.a:\n${dyn}")
  endif()
endfunction()

run(${CMAKE_COMMAND} --install ${MX_BUILD_DIR} --prefix ${prefix})
file(GLOB_RECURSE shared_libs ${prefix}/*/libmx.so*)
if(MX_STATIC AND shared_libs)
  message(FATAL_ERROR "an MX_STATIC build installed ${shared_libs}")
endif()

# 1. CMake package.
run(${CMAKE_COMMAND} -S ${MX_SOURCE_DIR}/tests/install/consumer -B ${MX_WORK_DIR}/cmake_build
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${MX_WORK_DIR}/cmake_build)
run(${MX_WORK_DIR}/cmake_build/consumer)
run(${MX_WORK_DIR}/cmake_build/predict_consumer ${mode} ${MX_WORK_DIR})
if(MX_STATIC)
  check_static(${MX_WORK_DIR}/cmake_build/predict_consumer)
endif()

# 2. pkg-config.
find_program(PKG_CONFIG pkg-config REQUIRED)
file(GLOB_RECURSE pc_file ${prefix}/*/mx.pc)
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
get_filename_component(libdir "${pc_dir}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
function(pkg_flags out)
  execute_process(COMMAND ${PKG_CONFIG} ${ARGN} mx OUTPUT_VARIABLE flags
                  OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config ${ARGN} could not find mx in ${pc_dir}")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  set(${out} ${flags} PARENT_SCOPE)
endfunction()

# Dynamically, where there is a libmx.so; an MX_STATIC install's plain `--libs` is already the
# static link line.
pkg_flags(flags --cflags --libs)
run(cc -std=c99 -o ${MX_WORK_DIR}/pc_consumer ${MX_SOURCE_DIR}/tests/install/consumer/main.c
    ${flags} -Wl,-rpath,${libdir})
run(${MX_WORK_DIR}/pc_consumer)

# Statically: a C program, its C compiler, and the documented link line. Beside a libmx.so, -lmx
# would pick the shared library, so there the archive is named by its path.
pkg_flags(flags --cflags --static --libs)
if(NOT MX_STATIC)
  list(TRANSFORM flags REPLACE "^-lmx$" "${libdir}/libmx.a")
endif()
set(exe ${MX_WORK_DIR}/pc_predict_consumer)
run(cc -std=c99 -o ${exe} ${MX_SOURCE_DIR}/tests/install/consumer/predict.c ${flags})
check_static(${exe})
run(${exe} ${mode} ${MX_WORK_DIR})
execute_process(COMMAND strip -o ${exe}.stripped ${exe})
file(SIZE ${exe}.stripped stripped_size)
message(STATUS "statically linked predictor: ${stripped_size} bytes stripped")
