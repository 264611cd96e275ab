# cmake/cuda.cmake - the optional CUDA backend (tensor/cuda/), included by the root
# CMakeLists.txt right after the `tensor` target:   include(cmake/cuda.cmake)
#
# GWAE_CUDA (cache STRING): AUTO (default) builds the backend when CMake's CUDAToolkit (with
# nvcc) and cuDNN 9 (cudnn.h, libcudnn) are found; ON requires them (configure fails
# otherwise); OFF never looks. The decision is printed: "CUDA backend: ON (nvcc 13.0,
# cuDNN 9.19, arch 90)" or "CUDA backend: OFF (reason)". When off, this file returns before
# touching anything, so the CPU-only build is exactly what it was without it.
# When on: enable_language(CUDA), a static library `tensor_cuda` linked PUBLIC into `tensor`,
# and GWAE_HAVE_CUDA defined for `tensor` and everything that links it (tensor/tn_cuda.h
# then declares the real functions instead of its no-device stubs).
# GWAE_CUDA_ARCH (cache STRING, default 90: H100/H200) sets the CUDA architectures.
# cuDNN elsewhere (PyTorch's nvidia-cudnn Python package, say): -DGWAE_CUDNN_INCLUDE_DIR=<the
# folder of cudnn.h> -DGWAE_CUDNN_LIBRARY=<libcudnn.so or libcudnn.so.9>; set on the command
# line, find_path/find_library keep them and search nothing (scripts/gpu_check.sh does so).

set(GWAE_CUDA "AUTO" CACHE STRING "CUDA backend: AUTO (if CUDA and cuDNN are found), ON or OFF")
set_property(CACHE GWAE_CUDA PROPERTY STRINGS AUTO ON OFF)
set(GWAE_CUDA_ARCH "90" CACHE STRING "CUDA architectures of the backend (90: H100/H200)")

string(TOUPPER "${GWAE_CUDA}" _gwae_cuda_mode)
if(NOT _gwae_cuda_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "GWAE_CUDA must be AUTO, ON or OFF, not '${GWAE_CUDA}'")
endif()

# ---- look for nvcc, the CUDA libraries and cuDNN 9 (nothing is enabled yet) ----
set(_gwae_cuda_off_reason "")
if(_gwae_cuda_mode STREQUAL "OFF")
  set(_gwae_cuda_off_reason "GWAE_CUDA=OFF")
else()
  find_package(CUDAToolkit QUIET)
  if(NOT CUDAToolkit_FOUND)
    set(_gwae_cuda_off_reason "no CUDA toolkit found")
  elseif(NOT CUDAToolkit_NVCC_EXECUTABLE OR NOT EXISTS "${CUDAToolkit_NVCC_EXECUTABLE}")
    set(_gwae_cuda_off_reason "CUDA toolkit ${CUDAToolkit_VERSION} found but not nvcc")
  elseif(NOT TARGET CUDA::cudart OR NOT TARGET CUDA::cublas)
    set(_gwae_cuda_off_reason "CUDA toolkit ${CUDAToolkit_VERSION} found without cudart or cuBLAS")
  else()
    find_path(GWAE_CUDNN_INCLUDE_DIR cudnn.h cudnn_version.h
              HINTS ${CUDAToolkit_INCLUDE_DIRS}
              PATHS /usr/local/cuda/include /usr/include /usr/include/x86_64-linux-gnu)
    find_library(GWAE_CUDNN_LIBRARY cudnn
                 HINTS ${CUDAToolkit_LIBRARY_DIR}
                 PATHS /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/lib/x86_64-linux-gnu)
    if(NOT GWAE_CUDNN_INCLUDE_DIR OR NOT GWAE_CUDNN_LIBRARY)
      set(_gwae_cuda_off_reason "cuDNN not found (cudnn.h: ${GWAE_CUDNN_INCLUDE_DIR}, libcudnn: ${GWAE_CUDNN_LIBRARY})")
    else()
      set(_gwae_cudnn_version_file "${GWAE_CUDNN_INCLUDE_DIR}/cudnn_version.h")
      if(NOT EXISTS "${_gwae_cudnn_version_file}")
        set(_gwae_cudnn_version_file "${GWAE_CUDNN_INCLUDE_DIR}/cudnn.h")
      endif()
      file(STRINGS "${_gwae_cudnn_version_file}" _gwae_cudnn_major REGEX "^#define CUDNN_MAJOR +[0-9]+")
      file(STRINGS "${_gwae_cudnn_version_file}" _gwae_cudnn_minor REGEX "^#define CUDNN_MINOR +[0-9]+")
      string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _gwae_cudnn_major "${_gwae_cudnn_major}")
      string(REGEX REPLACE ".* ([0-9]+)$" "\\1" _gwae_cudnn_minor "${_gwae_cudnn_minor}")
      if(NOT _gwae_cudnn_major MATCHES "^[0-9]+$" OR _gwae_cudnn_major LESS 9)
        set(_gwae_cuda_off_reason "cuDNN 9 needed, found '${_gwae_cudnn_major}' in ${GWAE_CUDNN_INCLUDE_DIR}")
      endif()
    endif()
  endif()
endif()

if(_gwae_cuda_off_reason)
  if(_gwae_cuda_mode STREQUAL "ON")
    message(FATAL_ERROR "CUDA backend: GWAE_CUDA=ON, but ${_gwae_cuda_off_reason}")
  endif()
  message(STATUS "CUDA backend: OFF (${_gwae_cuda_off_reason})")
  return()
endif()

# ---- the backend ----
if(NOT CMAKE_CUDA_COMPILER)
  set(CMAKE_CUDA_COMPILER "${CUDAToolkit_NVCC_EXECUTABLE}")
endif()
if(NOT CMAKE_CUDA_ARCHITECTURES)
  set(CMAKE_CUDA_ARCHITECTURES "${GWAE_CUDA_ARCH}")
endif()
# Programs that link `tensor` link the shared CUDA runtime (not a second, static copy).
set(CMAKE_CUDA_RUNTIME_LIBRARY Shared)
enable_language(CUDA)

file(GLOB TENSOR_CUDA_SOURCES CONFIGURE_DEPENDS
     ${CMAKE_SOURCE_DIR}/tensor/cuda/*.c ${CMAKE_SOURCE_DIR}/tensor/cuda/*.cu)
add_library(tensor_cuda STATIC ${TENSOR_CUDA_SOURCES})
set_target_properties(tensor_cuda PROPERTIES
  CUDA_STANDARD 17 CUDA_STANDARD_REQUIRED ON CUDA_EXTENSIONS OFF
  CUDA_ARCHITECTURES "${GWAE_CUDA_ARCH}" CUDA_RUNTIME_LIBRARY Shared)

# The root's add_compile_options (-Wall -Wextra -Werror, -march) are meant for C: nvcc rejects
# them. Keep them for this target's .c files only, and give .cu files nvcc's equivalents.
get_property(_gwae_dir_options DIRECTORY ${CMAKE_SOURCE_DIR} PROPERTY COMPILE_OPTIONS)
set(_gwae_c_options "")
foreach(_gwae_opt IN LISTS _gwae_dir_options)
  list(APPEND _gwae_c_options "$<$<COMPILE_LANGUAGE:C>:${_gwae_opt}>")
endforeach()
set_property(TARGET tensor_cuda PROPERTY COMPILE_OPTIONS ${_gwae_c_options})
target_compile_options(tensor_cuda PRIVATE
  "$<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-Wall,-Wextra,-Werror>"
  "$<$<COMPILE_LANGUAGE:CUDA>:--Werror=all-warnings>")
# Every use of cuDNN's deprecated legacy API is a warning, hence an error, except in
# cuda_dnn.c, the one file that is meant to use it.
target_compile_definitions(tensor_cuda PRIVATE CUDNN_WARN_DEPRECATED)
set_source_files_properties(${CMAKE_SOURCE_DIR}/tensor/cuda/cuda_dnn.c PROPERTIES
  COMPILE_OPTIONS "-Wno-deprecated-declarations")
# The elementwise kernels compile the CPU's formulas (tensor/tn_op_list.h); without fused
# multiply-adds every product and sum rounds as it does in ISO C on the CPU.
set_source_files_properties(${CMAKE_SOURCE_DIR}/tensor/cuda/cuda_elementwise.cu PROPERTIES
  COMPILE_OPTIONS "--fmad=false")

target_include_directories(tensor_cuda PRIVATE ${GWAE_CUDNN_INCLUDE_DIR})
# tensor_cuda calls into tensor (allocator, errors, tn_op_run) and tensor into tensor_cuda
# (tn_backend_of): a cycle CMake resolves for static libraries by repeating them on the line.
target_link_libraries(tensor_cuda PRIVATE tensor PUBLIC CUDA::cudart ${GWAE_CUDNN_LIBRARY} ${CMAKE_DL_LIBS})
# cuBLAS is opened with dlopen at the first GPU matmul (cuda_blas.c says why); this is where
# to find it when its soname is not on the loader's path.
target_compile_definitions(tensor_cuda PRIVATE
  "GWAE_CUBLAS_PATH=\"$<TARGET_FILE:CUDA::cublas>\"")
target_link_libraries(tensor PUBLIC tensor_cuda)
target_compile_definitions(tensor PUBLIC GWAE_HAVE_CUDA)
# `tensor` predates enable_language(CUDA) but now links CUDA code: give it what later
# targets get from CMAKE_CUDA_ARCHITECTURES and CMAKE_CUDA_RUNTIME_LIBRARY.
set_target_properties(tensor PROPERTIES
  CUDA_ARCHITECTURES "${GWAE_CUDA_ARCH}" CUDA_RUNTIME_LIBRARY Shared)

string(REGEX MATCH "^[0-9]+\\.[0-9]+" _gwae_nvcc_version "${CMAKE_CUDA_COMPILER_VERSION}")
message(STATUS "CUDA backend: ON (nvcc ${_gwae_nvcc_version}, cuDNN ${_gwae_cudnn_major}.${_gwae_cudnn_minor}, arch ${GWAE_CUDA_ARCH})")
