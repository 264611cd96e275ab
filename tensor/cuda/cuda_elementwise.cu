/* cuda_elementwise.cu - CUDA kernels of the elementwise ops, the strided copy and fill.
 *
 * One grid-stride kernel per arity, templated on the addressing: dense (the loop merged to
 * one dim: offset = i * stride, stride 1 or 0) or strided (offsets from the linear index by
 * division over the merged shape, in 32-bit arithmetic when every offset fits). The function
 * is a switch on the op (enum tn_op), a value uniform across the grid, so it costs no
 * divergence. Its cases are compiled from the formulas of the op list (tn_op_list.h), the
 * very expressions cpu_elementwise.c compiles, with the functions of tn_elementwise.h; this
 * file is built with --fmad=false (cmake/cuda.cmake), so each multiply and add rounds as it
 * does on the CPU. Broadcasting is stride 0. Holds no plan building: cuda_ops.c merges dims.
 */
#include <cuda_runtime.h>
#include <stdint.h>

extern "C" {
#include "cuda_launch.h"
}
#include "../tn_elementwise.h"
#include "cuda_grid.cuh"

namespace {

/* out = the op's formula; the CPU reference is the same line of the op list, compiled by
 * cpu_kernel_elementwise. CONTIGUOUS is the strided copy (CONTIGUOUS, UNSLICE, CONCAT). */
__device__ __forceinline__ float apply(int op, float x, float y, float z, float s0, float s1) {
    switch (op) {
    case TN_OP_CONTIGUOUS: return x;
#define CASE(name, n, flags, formula) \
    case TN_OP_##name: return formula;
        TN_OP_LIST_ELEMENTWISE(CASE)
#undef CASE
    default: return __int_as_float(0x7fc00000); /* unreachable: the host passes list ops */
    }
}

/* Operand offsets of linear index i; Index is uint32_t when every offset fits in 32 bits. */
template <typename Index, int N>
__device__ __forceinline__ void offsets_of(const cuda_loop &L, Index i, Index *off) {
#pragma unroll
    for (int k = 0; k < N; k++) off[k] = 0;
    for (int d = L.ndim - 1; d >= 0; d--) {
        Index size = (Index)L.shape[d];
        Index c = i % size;
        i /= size;
#pragma unroll
        for (int k = 0; k < N; k++) off[k] += c * (Index)L.strides[k][d];
    }
}

/* N operands (output + N-1 inputs). Dense: ndim 1, offset = i * stride. */
template <int N, bool Dense, typename Index>
__global__ void __launch_bounds__(kThreads)
    ew_kernel(const cuda_loop L, float *out, const float *a, const float *b, const float *c,
              int op, float s0, float s1) {
    const Index n = (Index)L.numel;
    const Index step = (Index)gridDim.x * (Index)blockDim.x;
    for (Index i = (Index)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        Index off[N];
        if (Dense) {
#pragma unroll
            for (int k = 0; k < N; k++) off[k] = i * (Index)L.strides[k][0];
        } else {
            offsets_of<Index, N>(L, i, off);
        }
        float x = a[off[1]];
        float y = N > 2 ? b[off[N > 2 ? 2 : 0]] : 0.0f;
        float z = N > 3 ? c[off[N > 3 ? 3 : 0]] : 0.0f;
        out[off[0]] = apply(op, x, y, z, s0, s1);
    }
}

__global__ void fill_kernel(float *dst, float value, int64_t n) {
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step)
        dst[i] = value;
}

/* Largest element offset any operand reaches, to choose the index width. */
bool fits_32(const cuda_loop &L) {
    if (L.numel >= ((int64_t)1 << 31)) return false;
    for (int k = 0; k < L.n_operands; k++) {
        int64_t reach = 0;
        for (int d = 0; d < L.ndim; d++) {
            int64_t s = L.strides[k][d] < 0 ? -L.strides[k][d] : L.strides[k][d];
            reach += (L.shape[d] - 1) * s;
        }
        if (reach >= ((int64_t)1 << 31)) return false;
    }
    return true;
}

template <int N>
void launch_n(const cuda_loop &L, float *out, const float *a, const float *b, const float *c,
              int op, float s0, float s1, cudaStream_t stream) {
    unsigned blocks = blocks_for(L.numel);
    bool dense = L.ndim == 1;
    if (fits_32(L)) {
        if (dense)
            ew_kernel<N, true, uint32_t><<<blocks, kThreads, 0, stream>>>(L, out, a, b, c, op, s0, s1);
        else
            ew_kernel<N, false, uint32_t><<<blocks, kThreads, 0, stream>>>(L, out, a, b, c, op, s0, s1);
    } else {
        if (dense)
            ew_kernel<N, true, int64_t><<<blocks, kThreads, 0, stream>>>(L, out, a, b, c, op, s0, s1);
        else
            ew_kernel<N, false, int64_t><<<blocks, kThreads, 0, stream>>>(L, out, a, b, c, op, s0, s1);
    }
}

} // namespace

extern "C" cudaError_t cuda_launch_elementwise(enum tn_op op, const struct cuda_loop *loop,
                                               float *out, const float *a, const float *b,
                                               const float *c, float s0, float s1,
                                               cudaStream_t stream) {
    if (loop->numel == 0) return cudaSuccess;
    switch (loop->n_operands) {
    case 2: launch_n<2>(*loop, out, a, b, c, (int)op, s0, s1, stream); break;
    case 3: launch_n<3>(*loop, out, a, b, c, (int)op, s0, s1, stream); break;
    case 4: launch_n<4>(*loop, out, a, b, c, (int)op, s0, s1, stream); break;
    default: return cudaErrorInvalidValue;
    }
    return cudaGetLastError();
}

extern "C" cudaError_t cuda_launch_fill(float *dst, float value, int64_t n, cudaStream_t stream) {
    if (n == 0) return cudaSuccess;
    fill_kernel<<<blocks_for(n), kThreads, 0, stream>>>(dst, value, n);
    return cudaGetLastError();
}
