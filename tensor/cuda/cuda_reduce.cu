/* cuda_reduce.cu - CUDA kernels of the reductions: SUM and AMAX over an axes plan, ARGMAX.
 *
 * SUM and AMAX: few elements per output run one thread per output; otherwise a block per
 * output walks its reduced elements and reduces in shared memory, and when there are too few
 * outputs to fill the device each output is split over several blocks whose partial results
 * (double) a second kernel adds in a fixed order, so results do not depend on timing. Sums
 * accumulate in double as on the CPU (the order differs, so the last bits may). AMAX
 * propagates NaN, as cpu_reduce.c does. ARGMAX returns the first maximum, or the first NaN.
 */
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

extern "C" {
#include "cuda_launch.h"
}
#include "cuda_grid.cuh"

namespace {

constexpr int kMaxThreads = 256;
constexpr int64_t kThreadPerOutput = 16; /* reduced elements below which a thread does one */

__device__ __forceinline__ int64_t kept_offset(const cuda_reduce_plan &P, int64_t o) {
    int64_t off = 0;
    for (int d = P.n_kept - 1; d >= 0; d--) {
        off += (o % P.kept_shape[d]) * P.kept_stride[d];
        o /= P.kept_shape[d];
    }
    return off;
}

__device__ __forceinline__ int64_t red_offset(const cuda_reduce_plan &P, int64_t j) {
    if (P.n_red == 1) return j * P.red_stride[0];
    int64_t off = 0;
    for (int d = P.n_red - 1; d >= 0; d--) {
        off += (j % P.red_shape[d]) * P.red_stride[d];
        j /= P.red_shape[d];
    }
    return off;
}

/* max that keeps a NaN once seen (the CPU's rule: v > best or v is NaN) */
__device__ __forceinline__ float max_nan(float best, float v) {
    return (v > best || v != v || best != best) ? (best != best ? best : v) : best;
}

/* CPU reference: cpu_kernel_reduce (cpu_reduce.c), out[o] = the sum (in double) or the max
 * (NaN kept) of the reduced elements of output o; sums here run in another order. */
template <bool Sum>
__global__ void reduce_thread(const cuda_reduce_plan P, const float *x, float *out) {
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t o = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; o < P.n_out; o += step) {
        const float *base = x + kept_offset(P, o);
        if (Sum) {
            double acc = 0.0;
            for (int64_t j = 0; j < P.red_count; j++) acc += (double)base[red_offset(P, j)];
            out[o] = (float)acc;
        } else {
            float best = -INFINITY;
            for (int64_t j = 0; j < P.red_count; j++) best = max_nan(best, base[red_offset(P, j)]);
            out[o] = best;
        }
    }
}

/* Block (o, s) reduces elements [s * per_split, (s + 1) * per_split) of output o. */
template <bool Sum>
__global__ void reduce_block(const cuda_reduce_plan P, const float *x, float *out,
                             double *partial, int64_t per_split) {
    __shared__ double shared[kMaxThreads];
    const int64_t o = blockIdx.x;
    const int s = blockIdx.y, splits = gridDim.y;
    const float *base = x + kept_offset(P, o);
    int64_t begin = (int64_t)s * per_split, end = begin + per_split;
    if (end > P.red_count) end = P.red_count;
    double acc = Sum ? 0.0 : (double)-INFINITY;
    for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) {
        float v = base[red_offset(P, j)];
        if (Sum) acc += (double)v;
        else acc = (double)max_nan((float)acc, v);
    }
    shared[threadIdx.x] = acc;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) {
            double a = shared[threadIdx.x], b = shared[threadIdx.x + half];
            shared[threadIdx.x] = Sum ? a + b : (double)max_nan((float)a, (float)b);
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        if (splits == 1) out[o] = (float)shared[0];
        else partial[o * splits + s] = shared[0];
    }
}

template <bool Sum>
__global__ void reduce_finish(const double *partial, float *out, int64_t n_out, int splits) {
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t o = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; o < n_out; o += step) {
        double acc = partial[o * splits];
        for (int s = 1; s < splits; s++) {
            double v = partial[o * splits + s];
            acc = Sum ? acc + v : (double)max_nan((float)acc, (float)v);
        }
        out[o] = (float)acc;
    }
}

/* Threads per block and splits per output of the block kernel (splits 0: thread kernel). */
void reduce_shape(const cuda_reduce_plan &P, int *threads, int *splits) {
    if (P.red_count <= kThreadPerOutput || P.n_out > ((int64_t)1 << 30)) {
        *threads = kMaxThreads;
        *splits = 0;
        return;
    }
    int t = 32;
    while (t < kMaxThreads && t < P.red_count) t *= 2;
    *threads = t;
    int device = 0, sms = 132;
    if (cudaGetDevice(&device) == cudaSuccess)
        cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    int64_t want = 1;
    const int64_t per_block_min = (int64_t)t * 64; /* at least 64 elements per thread */
    if (P.n_out < 2 * (int64_t)sms && P.red_count >= 2 * per_block_min) {
        int64_t by_device = (2 * (int64_t)sms + P.n_out - 1) / P.n_out;
        int64_t by_size = P.red_count / per_block_min;
        want = by_device < by_size ? by_device : by_size;
        if (want > 65535) want = 65535;
    }
    *splits = (int)want;
}

} // namespace

extern "C" int64_t cuda_reduce_workspace(const struct cuda_reduce_plan *plan) {
    int threads, splits;
    reduce_shape(*plan, &threads, &splits);
    return splits > 1 ? plan->n_out * splits : 0;
}

extern "C" cudaError_t cuda_launch_reduce(bool is_sum, const struct cuda_reduce_plan *plan,
                                          const float *x, float *out, double *partial,
                                          cudaStream_t stream) {
    const cuda_reduce_plan &P = *plan;
    if (P.n_out == 0) return cudaSuccess;
    int threads, splits;
    reduce_shape(P, &threads, &splits);
    if (splits == 0) {
        if (is_sum) reduce_thread<true><<<blocks_for(P.n_out, kMaxThreads), kMaxThreads, 0, stream>>>(P, x, out);
        else reduce_thread<false><<<blocks_for(P.n_out, kMaxThreads), kMaxThreads, 0, stream>>>(P, x, out);
        return cudaGetLastError();
    }
    int64_t per_split = (P.red_count + splits - 1) / splits;
    dim3 grid((unsigned)P.n_out, (unsigned)splits);
    if (is_sum) reduce_block<true><<<grid, threads, 0, stream>>>(P, x, out, partial, per_split);
    else reduce_block<false><<<grid, threads, 0, stream>>>(P, x, out, partial, per_split);
    if (splits > 1) {
        if (is_sum) reduce_finish<true><<<blocks_for(P.n_out, 256), 256, 0, stream>>>(partial, out, P.n_out, splits);
        else reduce_finish<false><<<blocks_for(P.n_out, 256), 256, 0, stream>>>(partial, out, P.n_out, splits);
    }
    return cudaGetLastError();
}

/* ---- ARGMAX ---- */

namespace {

__device__ __forceinline__ int64_t line_offset(const cuda_lines &L, int64_t l) {
    int64_t off = 0;
    for (int d = L.n_rest - 1; d >= 0; d--) {
        off += (l % L.rest_shape[d]) * L.rest_stride[0][d];
        l /= L.rest_shape[d];
    }
    return off;
}

/* true when candidate (v, j) beats the current best (b, k): the first NaN, else the first max */
__device__ __forceinline__ bool better(float v, int64_t j, float b, int64_t k) {
    bool vn = v != v, bn = b != b;
    if (vn || bn) return vn && (!bn || j < k);
    return v > b || (v == b && j < k);
}

/* CPU reference: cpu_kernel_argmax (cpu_reduce.c), out[l] = the index of the first maximum of
 * line l, or of its first NaN. */
__global__ void argmax_thread(const cuda_lines L, const float *x, float *out) {
    const int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t l = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; l < L.lines; l += step) {
        const float *p = x + line_offset(L, l);
        const int64_t st = L.axis_stride[0];
        int64_t best = 0;
        for (int64_t j = 1; j < L.len; j++)
            if (p[j * st] > p[best * st] || (p[j * st] != p[j * st] && p[best * st] == p[best * st]))
                best = j;
        out[l] = (float)best;
    }
}

__global__ void argmax_block(const cuda_lines L, const float *x, float *out) {
    __shared__ float values[kMaxThreads];
    __shared__ int64_t index[kMaxThreads];
    const int64_t l = blockIdx.x;
    const float *p = x + line_offset(L, l);
    const int64_t st = L.axis_stride[0];
    float b = p[0];
    int64_t k = 0;
    for (int64_t j = threadIdx.x; j < L.len; j += blockDim.x)
        if (better(p[j * st], j, b, k)) {
            b = p[j * st];
            k = j;
        }
    values[threadIdx.x] = b;
    index[threadIdx.x] = k;
    __syncthreads();
    for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
        if (threadIdx.x < half &&
            better(values[threadIdx.x + half], index[threadIdx.x + half], values[threadIdx.x],
                   index[threadIdx.x])) {
            values[threadIdx.x] = values[threadIdx.x + half];
            index[threadIdx.x] = index[threadIdx.x + half];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) out[l] = (float)index[0];
}

} // namespace

extern "C" cudaError_t cuda_launch_argmax(const struct cuda_lines *lines, const float *x,
                                          float *out, cudaStream_t stream) {
    const cuda_lines &L = *lines;
    if (L.lines == 0) return cudaSuccess;
    if (L.len < 256 || L.lines > ((int64_t)1 << 30))
        argmax_thread<<<blocks_for(L.lines, 256), 256, 0, stream>>>(L, x, out);
    else
        argmax_block<<<(unsigned)L.lines, kMaxThreads, 0, stream>>>(L, x, out);
    return cudaGetLastError();
}
