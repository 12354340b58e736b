# netctl_module(NAME DEPS...): a static library netctl_NAME from src/NAME/*.cc.
# Sources are globbed so that adding a file to a module never means editing this tree.
function(netctl_module name)
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/src/${name}/*.cc)
  if(sources)
    add_library(netctl_${name} STATIC ${sources})
    target_include_directories(netctl_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                               PRIVATE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(netctl_${name} PUBLIC ${ARGN} Threads::Threads)
  else()
    add_library(netctl_${name} INTERFACE)
    target_include_directories(netctl_${name} INTERFACE ${PROJECT_SOURCE_DIR}/include)
    target_link_libraries(netctl_${name} INTERFACE ${ARGN})
  endif()
endfunction()

# netctl_test_suite(KIND MODULE DEPS...): one test binary per kind and module, from
# tests/KIND/MODULE/*.cc, so a module's tests build without the others' work in progress.
# Unit tests use gtest_main; integration and e2e tests use the sandbox main (tests/support).
function(netctl_test_suite kind module)
  file(GLOB sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/tests/${kind}/${module}/*.cc)
  if(NOT sources)
    return()
  endif()
  set(target ${kind}_${module})
  add_executable(${target} ${sources})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${target} PRIVATE
    NETCTL_BINARY="$<TARGET_FILE:netctl>"
    NETCTL_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    NETCTL_BUILD_DIR="${PROJECT_BINARY_DIR}")
  if(kind STREQUAL "unit")
    target_link_libraries(${target} PRIVATE ${ARGN} GTest::gtest_main GTest::gmock)
    gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST PROPERTIES LABELS "unit")
  else()
    target_link_libraries(${target} PRIVATE netctl_test_support ${ARGN} GTest::gtest GTest::gmock)
    if(kind STREQUAL "e2e")
      add_dependencies(${target} netctl)  # e2e tests drive the binary
    endif()
    # RUN_SERIAL keeps kernel-heavy tests from fighting over two cores.
    gtest_discover_tests(${target} DISCOVERY_MODE PRE_TEST
                         PROPERTIES LABELS "${kind}" TIMEOUT 300)
  endif()
endfunction()
