/* cuda_grid.cuh - the launch geometry every .cu file of the backend shares: threads per
 * block, and blocks for n elements. The kernels loop with a grid stride, so the block count
 * is capped and every element is still visited. Not here: the kernels themselves.
 */
#ifndef CUDA_GRID_CUH
#define CUDA_GRID_CUH

#include <stdint.h>

/* Threads per block of the elementwise, index, sort and update kernels. */
constexpr int kThreads = 256;

/* Blocks of `threads` for n elements: at least 1, at most 65536 (a grid stride covers more). */
static inline unsigned blocks_for(int64_t n, int threads = kThreads) {
    int64_t blocks = (n + threads - 1) / threads;
    return (unsigned)(blocks < 1 ? 1 : (blocks > 65536 ? 65536 : blocks));
}

#endif
