# The Python binding's optional C fast path, mx._fast (python/mx/_fast.c; docs/python.md).
#
# Built next to libmx.so, where mx.base looks for it: the binding loads the module built with
# the library it loaded, and runs without it (pure ctypes) where it is missing. The module does
# not link libmx (the binding hands it the C ABI's addresses), so it needs only Python's and
# numpy's headers. It is left out of builds no Python process loads: static, fuzzing and
# sanitized ones (an instrumented module cannot load into an uninstrumented python3).
if(NOT MX_BUILD_PYTHON_FAST OR MX_STATIC OR MX_BUILD_FUZZ OR MX_SANITIZE)
  return()
endif()
# Debian's python3 is the one with numpy (the first python3 on PATH may be another).
if(NOT Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3)
endif()
find_package(Python3 COMPONENTS Interpreter Development.Module NumPy)
if(NOT Python3_Development.Module_FOUND OR NOT Python3_NumPy_FOUND)
  message(STATUS "mx._fast: not built (needs python3-dev and python3-numpy); the Python binding "
                 "runs on ctypes alone")
  return()
endif()
Python3_add_library(mx_python_fast MODULE WITH_SOABI python/mx/_fast.c)
target_link_libraries(mx_python_fast PRIVATE Python3::NumPy)
set_target_properties(mx_python_fast PROPERTIES
  OUTPUT_NAME _fast
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}
  C_VISIBILITY_PRESET hidden)
mx_set_warnings(mx_python_fast)
message(STATUS "mx._fast: built for ${Python3_EXECUTABLE} (${Python3_SOABI})")
