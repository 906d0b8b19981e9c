# deliveryhub_add_module(NAME [DEPS other modules...] [LIBS third-party targets...])
#
# Makes the two targets of a module:
#   <name>_api  INTERFACE: exposes src/modules/<name>/include (api.hpp, events.hpp) and links the
#               other modules' _api targets named in DEPS, plus deliveryhub::core_api.
#   <name>      STATIC: the module's src/*.cpp; links <name>_api, the DEPS' _api targets and
#               deliveryhub_core. Never another module's implementation: only src/app links those.
# The dependency list is recorded in the DELIVERYHUB_MODULE_DEPS_<name> global property so that
# the architecture test can check it for cycles and against the #includes.
function(deliveryhub_add_module name)
  cmake_parse_arguments(ARG "" "" "DEPS;LIBS" ${ARGN})
  set(dir ${CMAKE_CURRENT_SOURCE_DIR})
  add_library(${name}_api INTERFACE)
  target_include_directories(${name}_api INTERFACE ${dir}/include)
  target_link_libraries(${name}_api INTERFACE deliveryhub_core_api)
  foreach(dep IN LISTS ARG_DEPS)
    target_link_libraries(${name}_api INTERFACE ${dep}_api)
  endforeach()

  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${dir}/src/*.cpp)
  add_library(${name} STATIC ${sources})
  target_include_directories(${name} PRIVATE ${dir}/src)
  target_link_libraries(${name} PUBLIC ${name}_api PRIVATE deliveryhub_core deliveryhub_warnings ${ARG_LIBS})

  set_property(GLOBAL APPEND PROPERTY DELIVERYHUB_MODULES ${name})
  set_property(GLOBAL PROPERTY DELIVERYHUB_MODULE_DEPS_${name} "${ARG_DEPS}")

  if(DELIVERYHUB_TESTS AND EXISTS ${dir}/tests)
    file(GLOB_RECURSE test_sources CONFIGURE_DEPENDS ${dir}/tests/*.cpp)
    if(test_sources)
      add_executable(${name}_tests ${test_sources})
      # Test files each define their own fixtures in anonymous namespaces: never merged.
      set_target_properties(${name}_tests PROPERTIES UNITY_BUILD OFF)
      target_include_directories(${name}_tests PRIVATE ${dir}/src)
      target_link_libraries(${name}_tests PRIVATE ${name} deliveryhub_core deliveryhub_test_main
                                                  deliveryhub_warnings)
      add_test(NAME unit.${name} COMMAND ${name}_tests)
      # The same tests with every TempDatabase on a throw-away PostgreSQL.
      add_test(NAME unit.${name}.postgresql
               COMMAND bash ${PROJECT_SOURCE_DIR}/tests/support/with-postgres.sh $<TARGET_FILE:${name}_tests>)
      set_tests_properties(unit.${name} PROPERTIES LABELS unit)
      set_tests_properties(unit.${name}.postgresql PROPERTIES LABELS "unit;shape.postgresql")
    endif()
  endif()
endfunction()
