# Warning set of STYLE.md 17, as errors, for project code only.
set(RVM_WARNINGS
  -Wall -Wextra -Wpedantic -Wconversion -Wsign-conversion -Wshadow
  -Wold-style-cast -Wnon-virtual-dtor -Woverloaded-virtual -Wcast-align
  -Wdouble-promotion -Wimplicit-fallthrough -Werror)

function(rvm_project_target target)
  target_compile_options(${target} PRIVATE ${RVM_WARNINGS})
endfunction()
