# RVM guest SDK: building agent ELFs with the host compiler.
#
#   rvm_add_agent(<target> SOURCES a.c b.S ... [INCLUDE_DIRECTORIES dir ...]
#                 [COMPILE_OPTIONS opt ...] [LINK_OPTIONS opt ...])
#
# builds <target> as a static, non-PIE, freestanding x86-64 ELF named
# <target>.elf in the calling directory's binary dir. $<TARGET_FILE:<target>>
# is its path; the target property RVM_AGENT_ELF holds the same path, and the
# global property RVM_AGENTS lists every agent target. RVM_AGENT_DIR (cache)
# is the directory of the SDK's own example agents.
#
#   rvm_target_use_agents(<consumer> <agent> ...)
#
# makes <consumer> (a host test or tool) depend on the agents and defines
# RVM_AGENT_<NAME>_ELF="<path>" for each (agent_hello -> RVM_AGENT_HELLO_ELF,
# other_thing -> RVM_AGENT_OTHER_THING_ELF) plus RVM_AGENT_DIR="<dir>".
#
# Agents never inherit the project's sanitizer or fuzzer instrumentation:
# -fno-sanitize=all is added after the directory's options. SSE is allowed
# (the agent profile sets CR4.OSFXSR/OSXMMEXCPT); the red zone is kept (no
# interrupts or signals are delivered on an agent's stack).

include_guard(GLOBAL)

set(RVM_GUEST_SDK_DIR ${CMAKE_CURRENT_LIST_DIR} CACHE INTERNAL "RVM guest SDK source directory")
# The ABI headers (abi/agent.h, ...) have one home: src/abi/.
get_filename_component(RVM_GUEST_ABI_DIR ${CMAKE_CURRENT_LIST_DIR}/../src ABSOLUTE)
set(RVM_GUEST_ABI_DIR ${RVM_GUEST_ABI_DIR} CACHE INTERNAL "Include directory of the RVM ABI headers")

function(_rvm_agent_flags target)
  set(RVM_AGENT_COMPILE_OPTIONS
    -ffreestanding -fno-pie -fno-pic -fno-stack-protector -fno-stack-clash-protection
    -fno-asynchronous-unwind-tables -fno-unwind-tables -fcf-protection=none -fno-sanitize=all
    -fno-exceptions -fno-omit-frame-pointer -ffunction-sections -fdata-sections
    -mcmodel=small -march=x86-64 -O2
    $<$<COMPILE_LANGUAGE:CXX>:-fno-rtti -fno-threadsafe-statics -fno-use-cxa-atexit>
    -Wall -Wextra)
  # The directory may carry -fsanitize=... (RVM_SANITIZE) or
  # -fsanitize=fuzzer-no-link (RVM_FUZZ) from add_compile_options(); the
  # -fno-sanitize=all in our options (which come after) switches them off.
  target_compile_options(${target} PRIVATE ${RVM_AGENT_COMPILE_OPTIONS})
  target_include_directories(${target} PRIVATE ${RVM_GUEST_SDK_DIR}/include ${RVM_GUEST_ABI_DIR})
  set_target_properties(${target} PROPERTIES
    POSITION_INDEPENDENT_CODE OFF INTERPROCEDURAL_OPTIMIZATION OFF
    C_STANDARD 11 C_EXTENSIONS ON C_STANDARD_REQUIRED ON)
endfunction()

function(rvm_add_agent target)
  cmake_parse_arguments(PARSE_ARGV 1 A "" "" "SOURCES;INCLUDE_DIRECTORIES;COMPILE_OPTIONS;LINK_OPTIONS")
  if(NOT A_SOURCES)
    message(FATAL_ERROR "rvm_add_agent(${target}): SOURCES is required")
  endif()
  if(NOT TARGET rvm_guest_crt0)
    message(FATAL_ERROR "rvm_add_agent(${target}): add_subdirectory(guest) must come first")
  endif()
  add_executable(${target} ${A_SOURCES} $<TARGET_OBJECTS:rvm_guest_crt0>)
  _rvm_agent_flags(${target})
  if(A_INCLUDE_DIRECTORIES)
    target_include_directories(${target} PRIVATE ${A_INCLUDE_DIRECTORIES})
  endif()
  if(A_COMPILE_OPTIONS)
    target_compile_options(${target} PRIVATE ${A_COMPILE_OPTIONS})
  endif()
  set(RVM_AGENT_LINK_OPTIONS
    -nostdlib -static $<$<C_COMPILER_ID:GNU>:-no-pie> -fno-sanitize=all
    -Wl,-T,${RVM_GUEST_SDK_DIR}/agent.ld
    -Wl,--build-id=none -Wl,-z,noexecstack -Wl,-z,norelro -Wl,-z,max-page-size=4096
    -Wl,--gc-sections -Wl,--no-undefined -Wl,--warn-common)
  target_link_options(${target} PRIVATE ${RVM_AGENT_LINK_OPTIONS} ${A_LINK_OPTIONS})
  # The SDK runtime (task trampoline, mem*) is an archive: only the members
  # the agent uses are linked. crt0 is an object library: always linked.
  target_link_libraries(${target} PRIVATE rvm_guest_rt)
  set_target_properties(${target} PROPERTIES
    SUFFIX ".elf"
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}
    LINKER_LANGUAGE C
    LINK_DEPENDS ${RVM_GUEST_SDK_DIR}/agent.ld
    RVM_AGENT_ELF ${CMAKE_CURRENT_BINARY_DIR}/${target}.elf)
  set_property(GLOBAL APPEND PROPERTY RVM_AGENTS ${target})
endfunction()

function(rvm_target_use_agents consumer)
  foreach(agent ${ARGN})
    if(NOT TARGET ${agent})
      message(FATAL_ERROR "rvm_target_use_agents(${consumer}): no agent target ${agent}")
    endif()
    string(REGEX REPLACE "^agent_" "" short ${agent})
    string(TOUPPER ${short} upper)
    string(MAKE_C_IDENTIFIER ${upper} upper)
    add_dependencies(${consumer} ${agent})
    target_compile_definitions(${consumer} PRIVATE "RVM_AGENT_${upper}_ELF=\"$<TARGET_FILE:${agent}>\"")
  endforeach()
  target_compile_definitions(${consumer} PRIVATE "RVM_AGENT_DIR=\"${RVM_AGENT_DIR}\"")
endfunction()
