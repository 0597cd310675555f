# Finds LibTorch from the PyPI torch wheel in the project's virtual
# environment (TRANSAXX_PYTHON, set by ./run) and checks that
#   - the CUDA toolkit used for our kernels and the wheel's CUDA agree, and
#   - LibTorch's BLAS is a fast one (tools/torch_blas_check, run at build time).
set(TRANSAXX_PYTHON "" CACHE FILEPATH "Python of the virtual environment holding the torch wheel")
if(NOT TRANSAXX_PYTHON)
  message(FATAL_ERROR "TRANSAXX_PYTHON is not set. Build through ./run, which creates the "
                      "torch virtual environment, or pass -DTRANSAXX_PYTHON=<venv>/bin/python.")
endif()

execute_process(
  COMMAND ${TRANSAXX_PYTHON} -c
    "import torch.utils, torch.version; print(torch.utils.cmake_prefix_path); print(torch.__version__); print(torch.version.cuda or '')"
  OUTPUT_VARIABLE _torch_info OUTPUT_STRIP_TRAILING_WHITESPACE
  ERROR_VARIABLE _torch_err RESULT_VARIABLE _torch_rc)
if(NOT _torch_rc EQUAL 0)
  message(FATAL_ERROR "Cannot import torch with ${TRANSAXX_PYTHON}:\n${_torch_err}\n"
                      "Run ./run deps to (re)create the virtual environment.")
endif()
string(REPLACE "\n" ";" _torch_info "${_torch_info}")
list(GET _torch_info 0 TRANSAXX_TORCH_CMAKE_PREFIX)
list(GET _torch_info 1 TRANSAXX_TORCH_VERSION)
list(LENGTH _torch_info _n)
set(TRANSAXX_TORCH_CUDA "")
if(_n GREATER 2)
  list(GET _torch_info 2 TRANSAXX_TORCH_CUDA)
endif()
message(STATUS "torch wheel ${TRANSAXX_TORCH_VERSION}, CUDA '${TRANSAXX_TORCH_CUDA}'")

if(TRANSAXX_WITH_CUDA)
  if(NOT TRANSAXX_TORCH_CUDA)
    message(FATAL_ERROR "The torch wheel ${TRANSAXX_TORCH_VERSION} was built without CUDA; "
                        "TRANSAXX_WITH_CUDA needs the CUDA-enabled wheel.")
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(NOT CMAKE_CUDA_COMPILER)
    message(FATAL_ERROR "No CUDA compiler (nvcc) found. Install the CUDA ${TRANSAXX_TORCH_CUDA} "
                        "toolkit (or put its nvcc on PATH / set CUDACXX), or configure with "
                        "-DTRANSAXX_WITH_CUDA=OFF for a CPU-only build.")
  endif()
  # Kernels are built for Ampere and Hopper (A100, H100/H200) unless the user
  # says otherwise; naming them also spares Caffe2 from probing for a GPU.
  set(CMAKE_CUDA_ARCHITECTURES "80;90" CACHE STRING "CUDA architectures of our kernels")
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0" CACHE STRING "CUDA architectures for LibTorch's flags")
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  # CMake 3.25 knows no CUDA 20 dialect for nvcc; kernels need only C++17.
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  set(CMAKE_CUDA_EXTENSIONS OFF)
  string(REGEX MATCH "^[0-9]+" _nvcc_major "${CMAKE_CUDA_COMPILER_VERSION}")
  string(REGEX MATCH "^[0-9]+" _torch_major "${TRANSAXX_TORCH_CUDA}")
  if(NOT _nvcc_major STREQUAL _torch_major)
    message(FATAL_ERROR "CUDA mismatch: nvcc ${CMAKE_COMPILER_VERSION} is CUDA "
                        "${CMAKE_CUDA_COMPILER_VERSION}, but the torch wheel "
                        "${TRANSAXX_TORCH_VERSION} was built for CUDA ${TRANSAXX_TORCH_CUDA}. "
                        "Kernels and LibTorch must share a CUDA major version: install a "
                        "CUDA ${_torch_major}.x toolkit or pin a matching torch in ./run.")
  endif()
  message(STATUS "CUDA toolkit ${CMAKE_CUDA_COMPILER_VERSION} agrees with torch CUDA ${TRANSAXX_TORCH_CUDA}")
  # The toolkit's nvcc is found by Caffe2's FindCUDA through these.
  get_filename_component(_cuda_bin "${CMAKE_CUDA_COMPILER}" DIRECTORY)
  get_filename_component(CUDA_TOOLKIT_ROOT_DIR "${_cuda_bin}" DIRECTORY CACHE)
  list(APPEND CMAKE_PREFIX_PATH ${TRANSAXX_TORCH_CMAKE_PREFIX})
  find_package(Torch REQUIRED CONFIG)
  if(NOT TARGET torch_cuda)
    message(FATAL_ERROR "LibTorch was found without its CUDA part (torch_cuda); check the "
                        "CUDA toolkit and the wheel's nvidia-* packages.")
  endif()
else()
  # The wheel's own CMake config insists on a CUDA toolkit, so a CPU-only
  # build links LibTorch's CPU libraries directly.
  message(STATUS "CUDA disabled (TRANSAXX_WITH_CUDA=OFF): CPU-only build against "
                 "libtorch_cpu of the wheel")
  get_filename_component(_torch_root "${TRANSAXX_TORCH_CMAKE_PREFIX}/../.." ABSOLUTE)
  set(TORCH_INCLUDE_DIRS ${_torch_root}/include ${_torch_root}/include/torch/csrc/api/include)
  set(TORCH_LIBRARY ${_torch_root}/lib/libtorch_cpu.so)
  add_library(torch INTERFACE IMPORTED)
  set_target_properties(torch PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${TORCH_INCLUDE_DIRS}"
    INTERFACE_LINK_LIBRARIES "${TORCH_LIBRARY};${_torch_root}/lib/libc10.so;protobuf::libprotobuf")
endif()
# LibTorch's headers are third-party: never subject them to our warnings.
set_property(TARGET torch APPEND PROPERTY INTERFACE_SYSTEM_INCLUDE_DIRECTORIES
             ${TORCH_INCLUDE_DIRS})
get_filename_component(TRANSAXX_TORCH_LIB_DIR "${TORCH_LIBRARY}" DIRECTORY)

# The wheel's CUDA libraries (NCCL, cuDNN, cuBLAS, … under site-packages/nvidia)
# must win over any older copies on the system, both when linking (LibTorch
# needs symbols only its own NCCL has) and when running.
if(TRANSAXX_WITH_CUDA)
  file(GLOB _nvidia_lib_dirs LIST_DIRECTORIES true
       "${TRANSAXX_TORCH_LIB_DIR}/../../nvidia/*/lib")
  foreach(_dir IN LISTS _nvidia_lib_dirs)
    get_filename_component(_dir "${_dir}" REALPATH)
    set_property(TARGET torch APPEND PROPERTY INTERFACE_LINK_OPTIONS
                 "LINKER:-rpath-link,${_dir}" "LINKER:-rpath,${_dir}")
  endforeach()
endif()
