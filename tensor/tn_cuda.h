/* tn_cuda.h - the CUDA device: availability, options, synchronisation.
 *
 * Tensors live on a CUDA device when made with (struct tn_device){TN_DEVICE_CUDA, i}
 * (TN_CUDA(i)); every op then runs through the CUDA backend (tensor/cuda/, docs/cuda.md).
 * Nothing here starts CUDA until a device is used or asked about. In a build without the
 * backend (GWAE_CUDA=OFF, GWAE_HAVE_CUDA undefined) the same calls exist as inline stubs that
 * report no device, so callers need no #ifdef.
 *
 * Options (each also read once from the environment, "1" meaning on):
 *  - TF32 (GWAE_CUDA_TF32): lets cuBLAS and cuDNN use TF32 tensor cores for float32 products
 *    (about 10 bits of mantissa in the multiplies). Off by default: results then match the
 *    CPU to float32 rounding.
 *  - deterministic (GWAE_CUDA_DETERMINISTIC): cuDNN may only pick algorithms it reports as
 *    deterministic, and SCATTER_ADD never uses atomics, so reruns are bitwise identical.
 *  - sync (GWAE_CUDA_SYNC): synchronise after every kernel, so an asynchronous error (a bad
 *    access, a bad index) aborts naming the op that caused it. Slow; for debugging.
 */
#ifndef TN_CUDA_H
#define TN_CUDA_H

#include <stdbool.h>
#include <stddef.h>

#include "tn_alloc.h"

/* The CUDA device with index i. */
#define TN_CUDA(i) ((struct tn_device){TN_DEVICE_CUDA, (i)})

#ifdef GWAE_HAVE_CUDA

struct tn_backend;

/* True when the backend is built and at least one CUDA device can be used. */
bool tn_cuda_available(void);

/* Number of usable CUDA devices (0 without a driver or a device). */
int tn_cuda_device_count(void);

/* Why no device can be used ("" when one can): the CUDA runtime's own message. */
const char *tn_cuda_unavailable_reason(void);

/* Options; see the header comment. Setters take effect for the next op. */
void tn_cuda_set_tf32(bool enabled);
bool tn_cuda_tf32(void);
void tn_cuda_set_deterministic(bool enabled);
bool tn_cuda_deterministic(void);
void tn_cuda_set_sync(bool enabled);
bool tn_cuda_sync(void);

/* Waits for all work queued on device index; TN_ERR_DEVICE with the CUDA message when a
 * kernel failed, TN_ERR_NO_DEVICE when there is no such device. */
enum tn_status tn_cuda_synchronize(int index);

/* Free and total memory of device index, as the driver reports them. */
enum tn_status tn_cuda_mem_info(int index, size_t *free_bytes, size_t *total_bytes);

/* Why the last cudaMalloc failed, with the device's free and total memory ("" if none did).
 * The allocator's TN_ERR_OOM message gives the requested and in-use sizes. */
const char *tn_cuda_last_alloc_failure(void);

/* The CUDA backend's table. Reading it starts nothing, so it can be inspected without a
 * device (the tests check that every op with a CPU kernel has a CUDA one). */
const struct tn_backend *tn_cuda_backend(void);

#else /* no CUDA backend in this build */

static inline bool tn_cuda_available(void) { return false; }
static inline int tn_cuda_device_count(void) { return 0; }
static inline const char *tn_cuda_unavailable_reason(void) {
    return "the CUDA backend is not built (configure with -DGWAE_CUDA=ON)";
}
static inline void tn_cuda_set_tf32(bool enabled) { (void)enabled; }
static inline bool tn_cuda_tf32(void) { return false; }
static inline void tn_cuda_set_deterministic(bool enabled) { (void)enabled; }
static inline bool tn_cuda_deterministic(void) { return false; }
static inline void tn_cuda_set_sync(bool enabled) { (void)enabled; }
static inline bool tn_cuda_sync(void) { return false; }
static inline enum tn_status tn_cuda_synchronize(int index) {
    return tn_error(TN_ERR_NO_DEVICE, "CUDA device %d: the CUDA backend is not built", index);
}
static inline enum tn_status tn_cuda_mem_info(int index, size_t *free_bytes,
                                              size_t *total_bytes) {
    *free_bytes = *total_bytes = 0;
    return tn_error(TN_ERR_NO_DEVICE, "CUDA device %d: the CUDA backend is not built", index);
}
static inline const char *tn_cuda_last_alloc_failure(void) { return ""; }

#endif

#endif
