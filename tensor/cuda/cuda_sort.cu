/* cuda_sort.cu - CUDA kernel of ARGSORT: a stable sort of every line along an axis, by CUB.
 *
 * All lines are sorted in one cub::DeviceRadixSort::SortPairs over 64-bit keys: the line
 * number in the high 32 bits, the value's order-preserving bit pattern in the low 32, and the
 * position along the axis as the payload. Radix sort is stable, so equal values keep their
 * order; the line bits keep lines apart, and only the bits in use are sorted (a single line
 * costs four 8-bit passes). The value keys reproduce the CPU's order (cpu_index.c): -0 and +0
 * are equal, every NaN sorts last in both directions, descending reverses only the non-NaN
 * keys. The workspace comes from the caller (the caching allocator).
 */
#include <cuda_runtime.h>
#include <stdint.h>

#include <cub/device/device_radix_sort.cuh>

extern "C" {
#include "cuda_launch.h"
}
#include "cuda_grid.cuh"

namespace {

size_t align_up(size_t n) { return (n + 255) & ~(size_t)255; }

/* Sorting key of v: unsigned order equals float order; NaN above everything. */
__device__ __forceinline__ uint32_t value_key(float v, bool descending) {
    if (v != v) return 0xFFFFFFFFu;
    uint32_t u = v == 0.0f ? 0u : __float_as_uint(v); /* -0 sorts as +0 */
    uint32_t key = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return descending ? ~key : key; /* never 0xFFFFFFFF: that is a NaN bit pattern */
}

__device__ __forceinline__ int64_t line_offset(const cuda_lines &L, int k, int64_t l) {
    int64_t off = 0;
    for (int d = L.n_rest - 1; d >= 0; d--) {
        off += (l % L.rest_shape[d]) * L.rest_stride[k][d];
        l /= L.rest_shape[d];
    }
    return off;
}

/* CPU reference: cpu_kernel_argsort (cpu_index.c), a stable sort of each line with NaN last
 * and -0 == +0; here the sort is CUB's on these keys, the line number above the value's key. */
__global__ void make_keys(const cuda_lines L, const float *x, bool descending, uint64_t *keys,
                          int32_t *positions) {
    const int64_t n = L.lines * L.len, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += step) {
        int64_t l = e / L.len, j = e % L.len;
        float v = x[line_offset(L, 0, l) + j * L.axis_stride[0]];
        keys[e] = ((uint64_t)l << 32) | value_key(v, descending);
        positions[e] = (int32_t)j;
    }
}

__global__ void write_positions(const cuda_lines L, const int32_t *positions, float *out) {
    const int64_t n = L.lines * L.len, step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t e = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += step) {
        int64_t l = e / L.len, j = e % L.len;
        out[line_offset(L, 1, l) + j * L.axis_stride[1]] = (float)positions[e];
    }
}

int end_bit_of(int64_t lines) {
    int bits = 0;
    while (bits < 32 && ((int64_t)1 << bits) < lines) bits++;
    return 32 + bits;
}

/* The workspace: two key buffers, two position buffers, then CUB's temporary storage. */
struct layout {
    size_t keys, positions, temp, total;
};

void plan(const cuda_lines &L, layout *lay, size_t temp_bytes) {
    int64_t n = L.lines * L.len;
    lay->keys = align_up((size_t)n * sizeof(uint64_t));
    lay->positions = align_up((size_t)n * sizeof(int32_t));
    lay->temp = align_up(temp_bytes);
    lay->total = 2 * lay->keys + 2 * lay->positions + lay->temp;
}

} // namespace

extern "C" cudaError_t cuda_argsort_workspace(const struct cuda_lines *lines, size_t *bytes) {
    int64_t n = lines->lines * lines->len;
    cub::DoubleBuffer<uint64_t> keys(nullptr, nullptr);
    cub::DoubleBuffer<int32_t> positions(nullptr, nullptr);
    size_t temp = 0;
    cudaError_t e = cub::DeviceRadixSort::SortPairs(nullptr, temp, keys, positions, n, 0,
                                                    end_bit_of(lines->lines));
    if (e != cudaSuccess) return e;
    layout lay;
    plan(*lines, &lay, temp);
    *bytes = lay.total;
    return cudaSuccess;
}

extern "C" cudaError_t cuda_launch_argsort(const struct cuda_lines *lines, const float *x,
                                           float *out, bool descending, void *workspace,
                                           size_t workspace_bytes, cudaStream_t stream) {
    const cuda_lines &L = *lines;
    int64_t n = L.lines * L.len;
    if (n == 0) return cudaSuccess;
    if (L.lines > ((int64_t)1 << 32) || L.len > ((int64_t)1 << 30)) return cudaErrorInvalidValue;
    int end_bit = end_bit_of(L.lines);
    cub::DoubleBuffer<uint64_t> keys(nullptr, nullptr);
    cub::DoubleBuffer<int32_t> positions(nullptr, nullptr);
    size_t temp = 0;
    cudaError_t e = cub::DeviceRadixSort::SortPairs(nullptr, temp, keys, positions, n, 0, end_bit);
    if (e != cudaSuccess) return e;
    layout lay;
    plan(L, &lay, temp);
    if (workspace_bytes < lay.total) return cudaErrorInvalidValue;
    char *base = static_cast<char *>(workspace);
    uint64_t *k0 = reinterpret_cast<uint64_t *>(base);
    uint64_t *k1 = reinterpret_cast<uint64_t *>(base + lay.keys);
    int32_t *p0 = reinterpret_cast<int32_t *>(base + 2 * lay.keys);
    int32_t *p1 = reinterpret_cast<int32_t *>(base + 2 * lay.keys + lay.positions);
    void *temp_storage = base + 2 * lay.keys + 2 * lay.positions;
    make_keys<<<blocks_for(n), kThreads, 0, stream>>>(L, x, descending, k0, p0);
    e = cudaGetLastError();
    if (e != cudaSuccess) return e;
    keys = cub::DoubleBuffer<uint64_t>(k0, k1);
    positions = cub::DoubleBuffer<int32_t>(p0, p1);
    e = cub::DeviceRadixSort::SortPairs(temp_storage, temp, keys, positions, n, 0, end_bit,
                                        stream);
    if (e != cudaSuccess) return e;
    write_positions<<<blocks_for(n), kThreads, 0, stream>>>(L, positions.Current(), out);
    return cudaGetLastError();
}
