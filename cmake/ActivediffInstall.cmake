# Install rules, included at the end of the top-level CMakeLists.txt (after
# every module and workflows/ have defined their targets):
#   lib/             libactivediff_{featurize,model,model_torch,plugin,mcmove}.so
#   lib/activediff-openmm-plugins/   the move's OpenMM plugin (Reference and CPU kernels)
#   include/         the public headers of featurize/, model/, plugin/ and
#                    the generated activediff/version.h
#   bin/             every program workflows/CMakeLists.txt defines (side by
#                    side: `activediff` execs the next tier from its own directory)
#   share/activediff/examples/
#   lib/cmake/activediff/   activediffConfig.cmake (+ Version, Targets) and
#                    FindOpenMM.cmake: find_package(activediff) gives
#                    activediff::featurize, ::model, ::model_torch, ::plugin
#   lib/pkgconfig/activediff.pc
# The installed tree is relocatable (RUNPATH $ORIGIN, relative package config
# and .pc), so `cmake --install build --prefix <anywhere>` works.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ACTIVEDIFF_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/activediff")

# --- libraries --------------------------------------------------------------
# target -> exported name activediff::<name>
set(ACTIVEDIFF_INSTALL_LIBRARIES
  activediff_featurize activediff_model activediff_model_torch activediff_plugin activediff_mcmove
  activediff_seeding)
foreach(lib IN LISTS ACTIVEDIFF_INSTALL_LIBRARIES)
  string(REGEX REPLACE "^activediff_" "" _export_name "${lib}")
  set_target_properties(${lib} PROPERTIES
    EXPORT_NAME "${_export_name}"
    VERSION "${PROJECT_VERSION}"
    SOVERSION "${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}"
    # The libraries find each other beside themselves; dependencies outside
    # the system directories (e.g. a LibTorch in /opt) keep their link path.
    INSTALL_RPATH "$ORIGIN"
    INSTALL_RPATH_USE_LINK_PATH TRUE)
endforeach()
# The generated version header (an INTERFACE target every library uses).
set_target_properties(activediff_version PROPERTIES EXPORT_NAME version)

install(TARGETS ${ACTIVEDIFF_INSTALL_LIBRARIES} activediff_version
  EXPORT activediffTargets
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
  # = $<INSTALL_INTERFACE:include> on every exported target
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")

# The OpenMM plugin library of the move, in a directory of its own beside the
# API library (pluginDirectory() in generative_monte_carlo_move.h finds it there).
install(TARGETS activediff_mcmove_reference
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}/activediff-openmm-plugins")

# --- public headers ---------------------------------------------------------
install(DIRECTORY
    "${PROJECT_SOURCE_DIR}/featurize/include/"
    "${PROJECT_SOURCE_DIR}/model/include/"
    "${PROJECT_SOURCE_DIR}/plugin/include/"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
install(FILES "${PROJECT_BINARY_DIR}/generated/activediff/version.h"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/activediff")

# --- programs ---------------------------------------------------------------
# Every executable that workflows/CMakeLists.txt defines and builds by default
# (activediff, activediff-openmm, activediff-torch, ...), plus its own
# ACTIVEDIFF_EXECUTABLES list if it has one: a new program there is installed
# with no change here. Append to ACTIVEDIFF_INSTALL_PROGRAMS for others.
get_property(_workflows_targets DIRECTORY "${PROJECT_SOURCE_DIR}/workflows" PROPERTY BUILDSYSTEM_TARGETS)
get_directory_property(_workflows_executables DIRECTORY "${PROJECT_SOURCE_DIR}/workflows"
                       DEFINITION ACTIVEDIFF_EXECUTABLES)
set(ACTIVEDIFF_INSTALL_PROGRAMS ${_workflows_executables})
foreach(target IN LISTS _workflows_targets)
  get_target_property(_type ${target} TYPE)
  get_target_property(_excluded ${target} EXCLUDE_FROM_ALL)
  if(_type STREQUAL "EXECUTABLE" AND NOT _excluded)
    list(APPEND ACTIVEDIFF_INSTALL_PROGRAMS ${target})
  endif()
endforeach()
list(REMOVE_DUPLICATES ACTIVEDIFF_INSTALL_PROGRAMS)
file(RELATIVE_PATH _bin_to_lib "${CMAKE_INSTALL_FULL_BINDIR}" "${CMAKE_INSTALL_FULL_LIBDIR}")
set_target_properties(${ACTIVEDIFF_INSTALL_PROGRAMS} PROPERTIES
  INSTALL_RPATH "$ORIGIN/${_bin_to_lib}"
  INSTALL_RPATH_USE_LINK_PATH TRUE)
install(TARGETS ${ACTIVEDIFF_INSTALL_PROGRAMS} RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")

# --- examples ---------------------------------------------------------------
install(DIRECTORY "${PROJECT_SOURCE_DIR}/examples/"
  DESTINATION "${CMAKE_INSTALL_DATADIR}/activediff/examples"
  PATTERN "*.tmp.*" EXCLUDE
  PATTERN "#*#" EXCLUDE)

# --- CMake package config ---------------------------------------------------
# Shared libraries keep libgromacs, LibTorch, fmt and toml++ private, so
# consumers need only what the public interface carries (Eigen3,
# nlohmann_json, OpenMM through the FindOpenMM.cmake installed beside the
# config). A static build (-DBUILD_SHARED_LIBS=OFF) makes the config
# find the private ones too.
set(ACTIVEDIFF_CONFIG_SHARED_LIBS "${BUILD_SHARED_LIBS}")
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/activediffConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/activediffConfig.cmake"
  INSTALL_DESTINATION "${ACTIVEDIFF_INSTALL_CMAKEDIR}")
# 0.x: a minor version may break the API.
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/activediffConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}"
  COMPATIBILITY SameMinorVersion)
install(EXPORT activediffTargets
  NAMESPACE activediff::
  FILE activediffTargets.cmake
  DESTINATION "${ACTIVEDIFF_INSTALL_CMAKEDIR}")
install(FILES
    "${PROJECT_BINARY_DIR}/activediffConfig.cmake"
    "${PROJECT_BINARY_DIR}/activediffConfigVersion.cmake"
    "${PROJECT_SOURCE_DIR}/cmake/FindOpenMM.cmake"
  DESTINATION "${ACTIVEDIFF_INSTALL_CMAKEDIR}")

# --- pkg-config -------------------------------------------------------------
# Relocatable: prefix is found from the .pc file's own directory.
file(RELATIVE_PATH _pc_to_prefix "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" _pc_to_prefix "${_pc_to_prefix}")
set(ACTIVEDIFF_PC_PREFIX "\${pcfiledir}/${_pc_to_prefix}")
configure_file("${PROJECT_SOURCE_DIR}/cmake/activediff.pc.in"
               "${PROJECT_BINARY_DIR}/activediff.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/activediff.pc"
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
