# Debian's libopenmm-dev ships no CMake package config; this module gives an
# imported target OpenMM::OpenMM and the plugin directory OpenMM was built with.
find_path(OpenMM_INCLUDE_DIR NAMES OpenMM.h PATH_SUFFIXES openmm)
find_library(OpenMM_LIBRARY NAMES OpenMM)
# The version built against, from the library's real file name (libOpenMM.so.7.7).
if(OpenMM_LIBRARY)
  get_filename_component(_openmm_real "${OpenMM_LIBRARY}" REALPATH)
  if(_openmm_real MATCHES "\\.so\\.([0-9.]+)$")
    set(OpenMM_VERSION "${CMAKE_MATCH_1}")
  endif()
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenMM REQUIRED_VARS OpenMM_LIBRARY OpenMM_INCLUDE_DIR VERSION_VAR OpenMM_VERSION)
if(OpenMM_FOUND AND NOT TARGET OpenMM::OpenMM)
  add_library(OpenMM::OpenMM SHARED IMPORTED)
  set_target_properties(OpenMM::OpenMM PROPERTIES
    IMPORTED_LOCATION "${OpenMM_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${OpenMM_INCLUDE_DIR}")
endif()
mark_as_advanced(OpenMM_INCLUDE_DIR OpenMM_LIBRARY)
