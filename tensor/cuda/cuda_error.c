/* cuda_error.c - CUDA runtime statuses as the engine's errors.
 *
 * An environment failure of a call that can return a status becomes TN_ERR_DEVICE with the
 * runtime's own name and message and the file:line of the call, in the thread's last error
 * (tn_error). Inside a kernel, which returns nothing, the same message aborts naming the op
 * (cuda_fatal). The cuBLAS and cuDNN equivalents are in cuda_blas.c and cuda_dnn.c, the only
 * files that include those libraries.
 */
#include "cuda_internal.h"

enum tn_status cuda_error(cudaError_t e, const char *call, const char *file, int line) {
    return tn_error(TN_ERR_DEVICE, "%s:%d: %s: %s: %s", file, line, call, cudaGetErrorName(e),
                    cudaGetErrorString(e));
}

void cuda_fatal(const char *what, const char *file, int line) {
    tn_fatal(file, line, what, "CUDA error: %s", tn_last_error());
}
