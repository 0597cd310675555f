# Compiler set-up shared by every project target: ccache, warnings as errors
# on our own code only, and the sanitizers of the asan preset.

find_program(TRANSAXX_CCACHE ccache)
if(TRANSAXX_CCACHE)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${TRANSAXX_CCACHE})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${TRANSAXX_CCACHE})
endif()

if(TRANSAXX_SANITIZE)
  list(JOIN TRANSAXX_SANITIZE "," _transaxx_san)
  # Host C++ only: nvcc takes none of these, and device code cannot be
  # instrumented anyway.
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${_transaxx_san};-fno-omit-frame-pointer;-fno-sanitize-recover=undefined>")
  add_link_options(-fsanitize=${_transaxx_san})
endif()

# Applies the project's warning policy to a target of our own code.
# Generated code and third-party headers (included as SYSTEM) are exempt.
function(transaxx_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Werror -Wno-missing-field-initializers>
    $<$<COMPILE_LANGUAGE:CUDA>:-Werror=all-warnings -Xcompiler=-Wall,-Wextra>)
endfunction()
