# Installs headers, libmx.so / libmx.a, a CMake package (find_package(mx) -> mx::mx) and mx.pc.
# With MX_STATIC, libmx.a alone, and mx::mx is the archive.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# What a program linking libmx.a statically needs after it: the system libraries (Debian's shared
# ones) behind mx_deps, as linker flags. dmlc-core's CMake package and the BLAS / OpenMP / zlib
# modules name the same libraries by path; an installed package must not carry this machine's
# paths. -lstdc++ and -lm because a C program's link does not add them.
set(MX_SYSTEM_LIBS dmlc openblas)
if(MX_USE_ONEDNN)
  list(APPEND MX_SYSTEM_LIBS dnnl)
endif()
if(NOT MX_MINIMAL)
  list(APPEND MX_SYSTEM_LIBS z)  # gzip'ed IDX files (src/io)
endif()
if(MX_USE_MPI)
  list(APPEND MX_SYSTEM_LIBS mpi)  # the dist_* key-value stores
endif()
if(MX_USE_OPENMP)
  list(APPEND MX_SYSTEM_LIBS gomp)
endif()
list(APPEND MX_SYSTEM_LIBS stdc++ m pthread dl)
list(TRANSFORM MX_SYSTEM_LIBS PREPEND "-l" OUTPUT_VARIABLE _mx_system_flags)
list(JOIN _mx_system_flags " " MX_PC_SYSTEM_LIBS)

install(TARGETS mx mx_dlpack EXPORT mxTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(MX_STATIC)
  # The exported mx::mx is the archive, so its dependencies are part of its interface.
  foreach(lib ${MX_SYSTEM_LIBS})
    target_link_libraries(mx PUBLIC $<INSTALL_INTERFACE:${lib}>)
  endforeach()
  # Only a static library: `pkg-config --libs mx` is the full link line, with or without --static.
  set(MX_PC_LIBS "-L\${libdir} -lmx ${MX_PC_SYSTEM_LIBS}")
  set(MX_PC_LIBS_PRIVATE "")
else()
  # The static archive is installed too, for embedders who link statically (mx.pc's Libs.private:
  # `pkg-config --static --libs mx`); the CMake package exports the shared library, whose
  # dependencies stay private.
  install(FILES $<TARGET_FILE:mx_static> DESTINATION ${CMAKE_INSTALL_LIBDIR})
  set(MX_PC_LIBS "-L\${libdir} -lmx")
  set(MX_PC_LIBS_PRIVATE "${MX_PC_SYSTEM_LIBS}")
endif()
install(DIRECTORY include/mx DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h"
        PATTERN "*.hpp")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/include/mx/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/mx)
# DLPack's vendored header, for embedders that fill or read the DLManagedTensor of
# mx_ndarray_to_dlpack / mx_ndarray_from_dlpack (<dlpack/dlpack.h>, beside <mx/c_api.h>), with its
# licence.
install(FILES third_party/dlpack/include/dlpack/dlpack.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/dlpack)
install(FILES third_party/dlpack/LICENSE DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/mx
        RENAME LICENSE.dlpack)

install(EXPORT mxTargets NAMESPACE mx:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mx)
configure_package_config_file(cmake/mxConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/mxConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mx)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/mxConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/mxConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/mxConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/mx)

configure_file(cmake/mx.pc.in ${CMAKE_CURRENT_BINARY_DIR}/mx.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/mx.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
