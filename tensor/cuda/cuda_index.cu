/* cuda_index.cu - CUDA kernels that move elements: PAD, PAD_ADJOINT, GATHER, SCATTER_ADD,
 * and PDIST (pairwise distances).
 *
 * One thread per output element everywhere but PDIST. PAD_ADJOINT gathers instead of
 * scattering: each output cell adds the cells that replicate padding copied from it, in the
 * order the CPU adds them, so results match it bit for bit. SCATTER_ADD has two paths: a
 * deterministic one where each output element scans its line of indices and adds matching
 * sources in index order (the CPU's order), and atomics for lines too long to scan. A bad
 * index (not an integer in range) is never used to address memory: the kernel records the
 * first one in a mapped host struct and the host aborts naming the op (cuda_backend.c).
 */
#include <cuda_runtime.h>
#include <stdint.h>

extern "C" {
#include "cuda_launch.h"
}
#include "cuda_grid.cuh"

namespace {

__device__ __forceinline__ int64_t clamp_index(int64_t i, int64_t n) {
    return i < 0 ? 0 : (i >= n ? n - 1 : i);
}

/* Offset of plane p (row-major over the leading dims) in a strided tensor. */
__device__ __forceinline__ int64_t plane_offset(const cuda_pad &P, int64_t p) {
    int64_t off = 0;
    for (int d = P.n_lead - 1; d >= 0; d--) {
        off += (p % P.lead_shape[d]) * P.lead_stride[d];
        p /= P.lead_shape[d];
    }
    return off;
}

/* CPU reference: cpu_kernel_pad (cpu_index.c), out[p, i, j] = x[p, i - top, j - left], 0 or
 * the nearest border cell outside x. */
__global__ void pad_kernel(const cuda_pad P, const float *x, float *out) {
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < P.numel; e += step) {
        int64_t j = e % P.out_w, i = (e / P.out_w) % P.out_h, p = e / (P.out_w * P.out_h);
        int64_t si = i - P.top, sj = j - P.left;
        bool inside = si >= 0 && si < P.in_h && sj >= 0 && sj < P.in_w;
        float v = 0.0f;
        if (inside || P.replicate)
            v = x[plane_offset(P, p) + clamp_index(si, P.in_h) * P.in_sh +
                  clamp_index(sj, P.in_w) * P.in_sw];
        out[e] = v;
    }
}

/* Output cell (i, j) of the cropped image receives padded cells [lo, hi] of each dim: its own
 * cell, plus the whole border band for the first and last row or column under replicate.
 * CPU reference: cpu_kernel_pad_adjoint (cpu_index.c), which adds the same cells in this order. */
__global__ void pad_adjoint_kernel(const cuda_pad P, const float *g, float *out) {
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < P.numel; e += step) {
        int64_t j = e % P.out_w, i = (e / P.out_w) % P.out_h, p = e / (P.out_w * P.out_h);
        const float *gp = g + plane_offset(P, p);
        int64_t ilo = i + P.top, ihi = ilo, jlo = j + P.left, jhi = jlo;
        if (P.replicate) {
            if (i == 0) ilo = 0;
            if (i == P.out_h - 1) ihi = P.in_h - 1;
            if (j == 0) jlo = 0;
            if (j == P.out_w - 1) jhi = P.in_w - 1;
        }
        float acc = 0.0f;
        for (int64_t gi = ilo; gi <= ihi; gi++)
            for (int64_t gj = jlo; gj <= jhi; gj++) acc += gp[gi * P.in_sh + gj * P.in_sw];
        out[e] = acc;
    }
}

/* Offset of line l of operand k. */
__device__ __forceinline__ int64_t line_offset(const cuda_lines &L, int k, int64_t l) {
    int64_t off = 0;
    for (int d = L.n_rest - 1; d >= 0; d--) {
        off += (l % L.rest_shape[d]) * L.rest_stride[k][d];
        l /= L.rest_shape[d];
    }
    return off;
}

/* The integer an index element holds, or -1 when it is not an integer in [0, bound). */
__device__ __forceinline__ int64_t index_value(float v, int64_t bound) {
    if (!(v >= 0.0f && v < 16777216.0f)) return -1; /* also rejects NaN */
    int64_t k = (int64_t)v;
    return ((float)k == v && k < bound) ? k : -1;
}

__device__ void report(cuda_index_error *err, int op, float v, int64_t bound) {
    if (atomicCAS(&err->code, 0, op + 1) == 0) {
        err->value = v;
        err->bound = bound;
    }
}

/* operands: 0 out, 1 x, 2 idx; lines over idx's shape.
 * CPU reference: cpu_kernel_gather (cpu_index.c), out[l, j] = x[l, idx[l, j]]. */
__global__ void gather_kernel(const cuda_lines L, int64_t x_len, float *out, const float *x,
                              const float *idx, cuda_index_error *err) {
    const int64_t n = L.lines * L.len, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += step) {
        int64_t l = e / L.len, j = e % L.len;
        float v = idx[line_offset(L, 2, l) + j * L.axis_stride[2]];
        int64_t k = index_value(v, x_len);
        float r = 0.0f;
        if (k >= 0) r = x[line_offset(L, 1, l) + k * L.axis_stride[1]];
        else report(err, CUDA_IDX_GATHER, v, x_len);
        out[line_offset(L, 0, l) + j * L.axis_stride[0]] = r;
    }
}

/* operands: 0 out, 1 idx, 2 src; one thread per output element (l, k).
 * CPU reference: cpu_kernel_scatter_add (cpu_index.c), out[l, idx[l, j]] += src[l, j] for j
 * ascending, the order of this scan. */
__global__ void scatter_scan_kernel(const cuda_lines L, int64_t out_len, float *out,
                                    const float *idx, const float *src) {
    const int64_t n = L.lines * out_len, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += step) {
        int64_t l = e / out_len, k = e % out_len;
        const float *ip = idx + line_offset(L, 1, l);
        const float *sp = src + line_offset(L, 2, l);
        const float target = (float)k;
        float acc = 0.0f;
        for (int64_t j = 0; j < L.len; j++)
            if (ip[j * L.axis_stride[1]] == target) acc += sp[j * L.axis_stride[2]];
        out[line_offset(L, 0, l) + k * L.axis_stride[0]] = acc;
    }
}

/* Checks every index of SCATTER_ADD once (the scan path skips bad ones silently). */
__global__ void scatter_check_kernel(const cuda_lines L, int64_t out_len, const float *idx,
                                     cuda_index_error *err) {
    const int64_t n = L.lines * L.len, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += step) {
        int64_t l = e / L.len, j = e % L.len;
        float v = idx[line_offset(L, 1, l) + j * L.axis_stride[1]];
        if (index_value(v, out_len) < 0) report(err, CUDA_IDX_SCATTER_ADD, v, out_len);
    }
}

/* one thread per source element; out zeroed before */
__global__ void scatter_atomic_kernel(const cuda_lines L, int64_t out_len, float *out,
                                      const float *idx, const float *src,
                                      cuda_index_error *err) {
    const int64_t n = L.lines * L.len, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += step) {
        int64_t l = e / L.len, j = e % L.len;
        float v = idx[line_offset(L, 1, l) + j * L.axis_stride[1]];
        int64_t k = index_value(v, out_len);
        if (k < 0) {
            report(err, CUDA_IDX_SCATTER_ADD, v, out_len);
            continue;
        }
        atomicAdd(out + line_offset(L, 0, l) + k * L.axis_stride[0],
                  src[line_offset(L, 2, l) + j * L.axis_stride[2]]);
    }
}

constexpr int kTile = 16;

/* out[i, j] = sqrt(sum_k (x[i,k] - x[j,k])^2) in double, k ascending, rounded without fused
 * multiply-adds: the CPU's operations in its order, and out[i, j] == out[j, i] exactly.
 * CPU reference: cpu_kernel_pdist and squared_distance (cpu_distance.c). */
__global__ void pdist_kernel(const float *x, int64_t rows, int64_t dim, float *out) {
    __shared__ float xi[kTile][kTile + 1], xj[kTile][kTile + 1];
    const int ty = threadIdx.y, tx = threadIdx.x;
    const int64_t i0 = (int64_t)blockIdx.y * kTile, j0 = (int64_t)blockIdx.x * kTile;
    double acc = 0.0;
    for (int64_t k0 = 0; k0 < dim; k0 += kTile) {
        int64_t k = k0 + tx;
        xi[ty][tx] = (i0 + ty < rows && k < dim) ? x[(i0 + ty) * dim + k] : 0.0f;
        xj[ty][tx] = (j0 + ty < rows && k < dim) ? x[(j0 + ty) * dim + k] : 0.0f;
        __syncthreads();
        int kmax = dim - k0 < kTile ? (int)(dim - k0) : kTile;
        for (int kk = 0; kk < kmax; kk++) {
            double d = __dsub_rn((double)xi[ty][kk], (double)xj[tx][kk]);
            acc = __dadd_rn(acc, __dmul_rn(d, d));
        }
        __syncthreads();
    }
    int64_t i = i0 + ty, j = j0 + tx;
    if (i < rows && j < rows) out[i * rows + j] = i == j ? 0.0f : (float)sqrt(acc);
}

} // namespace

extern "C" cudaError_t cuda_launch_pad(const struct cuda_pad *pad, const float *x, float *out,
                                       cudaStream_t stream) {
    if (pad->numel == 0) return cudaSuccess;
    pad_kernel<<<blocks_for(pad->numel), kThreads, 0, stream>>>(*pad, x, out);
    return cudaGetLastError();
}

extern "C" cudaError_t cuda_launch_pad_adjoint(const struct cuda_pad *pad, const float *g,
                                               float *out, cudaStream_t stream) {
    if (pad->numel == 0) return cudaSuccess;
    pad_adjoint_kernel<<<blocks_for(pad->numel), kThreads, 0, stream>>>(*pad, g, out);
    return cudaGetLastError();
}

extern "C" cudaError_t cuda_launch_gather(const struct cuda_lines *lines, int64_t x_len,
                                          float *out, const float *x, const float *idx,
                                          struct cuda_index_error *err, cudaStream_t stream) {
    int64_t n = lines->lines * lines->len;
    if (n == 0) return cudaSuccess;
    gather_kernel<<<blocks_for(n), kThreads, 0, stream>>>(*lines, x_len, out, x, idx, err);
    return cudaGetLastError();
}

extern "C" cudaError_t cuda_launch_scatter_add(const struct cuda_lines *lines, int64_t out_len,
                                               float *out, const float *idx, const float *src,
                                               bool deterministic, struct cuda_index_error *err,
                                               cudaStream_t stream) {
    int64_t n_out = lines->lines * out_len, n_src = lines->lines * lines->len;
    if (n_out == 0) return cudaSuccess;
    if (deterministic) {
        if (n_src > 0)
            scatter_check_kernel<<<blocks_for(n_src), kThreads, 0, stream>>>(*lines, out_len, idx, err);
        scatter_scan_kernel<<<blocks_for(n_out), kThreads, 0, stream>>>(*lines, out_len, out, idx, src);
        return cudaGetLastError();
    }
    cudaError_t e = cudaMemsetAsync(out, 0, (size_t)n_out * sizeof(float), stream);
    if (e != cudaSuccess) return e;
    if (n_src > 0)
        scatter_atomic_kernel<<<blocks_for(n_src), kThreads, 0, stream>>>(*lines, out_len, out, idx, src, err);
    return cudaGetLastError();
}

extern "C" cudaError_t cuda_launch_pdist(const float *x, int64_t rows, int64_t dim, float *out,
                                         cudaStream_t stream) {
    if (rows == 0) return cudaSuccess;
    unsigned tiles = (unsigned)((rows + kTile - 1) / kTile);
    pdist_kernel<<<dim3(tiles, tiles), dim3(kTile, kTile), 0, stream>>>(x, rows, dim, out);
    return cudaGetLastError();
}
