# Installs the build into a scratch prefix, then builds and runs tests/install/consumer against it
# twice: through find_package(mx) and through pkg-config.
file(REMOVE_RECURSE ${MX_WORK_DIR})
set(prefix ${MX_WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "command failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

run(${CMAKE_COMMAND} --install ${MX_BUILD_DIR} --prefix ${prefix})

# 1. CMake package.
run(${CMAKE_COMMAND} -S ${MX_SOURCE_DIR}/tests/install/consumer -B ${MX_WORK_DIR}/cmake_build
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release)
run(${CMAKE_COMMAND} --build ${MX_WORK_DIR}/cmake_build)
run(${MX_WORK_DIR}/cmake_build/consumer)

# 2. pkg-config.
find_program(PKG_CONFIG pkg-config REQUIRED)
file(GLOB_RECURSE pc_file ${prefix}/*/mx.pc)
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
execute_process(COMMAND ${PKG_CONFIG} --cflags --libs mx OUTPUT_VARIABLE flags
                OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config could not find mx in ${pc_dir}")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
get_filename_component(libdir "${pc_file}" DIRECTORY)
get_filename_component(libdir "${libdir}" DIRECTORY)
run(cc -std=c99 -o ${MX_WORK_DIR}/pc_consumer ${MX_SOURCE_DIR}/tests/install/consumer/main.c
    ${flags} -Wl,-rpath,${libdir})
run(${MX_WORK_DIR}/pc_consumer)
