/* cuda_update.cu - the fused optimizer updates of tn_update.h: one grid-stride kernel that
 * reads the gradient and updates the parameter and its state slots in one pass.
 *
 * Every multiply, add, divide and square root is written with its round-to-nearest intrinsic
 * (__fmul_rn, __fadd_rn, ...), which nvcc never contracts into a fused multiply-add, in the
 * order of nn_optim.c's host loops; the CPU build does not contract either (ISO C mode), so
 * both devices compute the same floats. Holds no checks: tn_update.c makes them.
 */
#include <cuda_runtime.h>
#include <stdint.h>

extern "C" {
#include "cuda_launch.h"
}
#include "cuda_grid.cuh"

namespace {

__device__ __forceinline__ float rn_mul(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ float rn_add(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ float rn_sub(float a, float b) { return __fsub_rn(a, b); }
__device__ __forceinline__ float rn_div(float a, float b) { return __fdiv_rn(a, b); }

/* CPU reference: the host loops of nn_optim.c, with the formulas of tn_update.h. */
__global__ void update_kernel(tn_update u, int64_t n, float *p, const float *g, float *s0,
                              float *s1) {
    int64_t step = (int64_t)gridDim.x * blockDim.x;
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
        float gi = g[i];
        switch (u.kind) {
        case TN_UPDATE_SGD: {
            float d = gi;
            if (s0) {
                s0[i] = u.first ? gi : rn_add(rn_mul(s0[i], u.momentum), gi);
                d = s0[i];
            }
            p[i] = rn_add(p[i], rn_mul(u.neg_lr, d));
            break;
        }
        case TN_UPDATE_ADAM: {
            float m = s0[i];
            m = u.small ? rn_add(m, rn_mul(u.w, rn_sub(gi, m)))
                        : rn_sub(gi, rn_mul(rn_sub(gi, m), rn_sub(1.0f, u.w)));
            float v = rn_add(rn_mul(s1[i], u.decay), rn_mul(rn_mul(u.rest, gi), gi));
            s0[i] = m;
            s1[i] = v;
            float denom = rn_add(rn_div(__fsqrt_rn(v), u.bias2_sqrt), u.eps);
            p[i] = rn_add(p[i], rn_div(rn_mul(u.neg_lr, m), denom));
            break;
        }
        case TN_UPDATE_RMSPROP: {
            float v = rn_add(rn_mul(s0[i], u.decay), rn_mul(rn_mul(u.rest, gi), gi));
            s0[i] = v;
            float avg = rn_add(__fsqrt_rn(v), u.eps);
            if (s1) {
                s1[i] = rn_add(rn_mul(s1[i], u.momentum), rn_div(gi, avg));
                p[i] = rn_add(p[i], rn_mul(u.neg_lr, s1[i]));
            } else {
                p[i] = rn_add(p[i], rn_div(rn_mul(u.neg_lr, gi), avg));
            }
            break;
        }
        }
    }
}

} // namespace

cudaError_t cuda_launch_update(const struct tn_update *u, int64_t n, float *p, const float *g,
                               float *s0, float *s1, cudaStream_t stream) {
    update_kernel<<<blocks_for(n), kThreads, 0, stream>>>(*u, n, p, g, s0, s1);
    return cudaGetLastError();
}
