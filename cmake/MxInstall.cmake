# Installs headers, libmx.so / libmx.a, a CMake package (find_package(mx) -> mx::mx) and mx.pc.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS mx mx_dlpack EXPORT mxTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# The static archive is installed for embedders who link statically (see mx.pc's Libs.private);
# the CMake package exports the shared library, whose dependencies stay private.
install(FILES $<TARGET_FILE:mx_static> DESTINATION ${CMAKE_INSTALL_LIBDIR})
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

set(MX_PC_LIBS_PRIVATE "-ldmlc -lopenblas -lstdc++ -lpthread -ldl")
if(MX_USE_ONEDNN)
  string(APPEND MX_PC_LIBS_PRIVATE " -ldnnl")
endif()
if(MX_USE_OPENMP)
  string(APPEND MX_PC_LIBS_PRIVATE " -lgomp")
endif()
configure_file(cmake/mx.pc.in ${CMAKE_CURRENT_BINARY_DIR}/mx.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/mx.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
