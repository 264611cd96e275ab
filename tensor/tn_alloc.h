/* tn_alloc.h - devices and the caching allocator that every device's memory goes through.
 *
 * Blocks are rounded up to a size class and, when freed, kept on a per-class free list of
 * their device for the next request of that class, so a training step that allocates the
 * same shapes every iteration stops calling the system allocator after the first one. The
 * CPU uses the same allocator as a GPU would, so its logic is tested on machines without one.
 * Counters (live tensors, bytes in use, peak, cached) feed the leak checks of the tests.
 */
#ifndef TN_ALLOC_H
#define TN_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "tn_error.h"

enum tn_device_type { TN_DEVICE_CPU = 0, TN_DEVICE_CUDA = 1, TN_DEVICE_TYPE_COUNT };

/* Where a tensor's memory lives: a device type and its index (always 0 for the CPU). */
struct tn_device {
    enum tn_device_type type;
    int index;
};

#define TN_CPU ((struct tn_device){TN_DEVICE_CPU, 0})

/* Memory counters of one device; bytes are the rounded block sizes. */
struct tn_mem_stats {
    int64_t live_tensors;  /* tensor handles not yet freed (all devices) */
    int64_t live_blocks;   /* blocks handed out and not yet returned */
    int64_t bytes_in_use;  /* bytes in those blocks */
    int64_t peak_bytes;    /* highest bytes_in_use since start or the last reset */
    int64_t bytes_cached;  /* bytes kept on free lists for reuse */
    int64_t system_allocs; /* calls that reached the system (or device) allocator */
};

/* Raw memory functions a backend supplies to the allocator. */
struct tn_raw_memory {
    void *(*alloc)(int index, size_t bytes); /* NULL on failure */
    void (*free)(int index, void *ptr);
};

/* Registers the raw memory functions of a device type (backends call this once). */
void tn_alloc_register(enum tn_device_type type, const struct tn_raw_memory *raw);

/* Allocates at least bytes on device; on failure empties the cache, retries once, then
 * returns TN_ERR_OOM with in-use, cached and requested sizes in the message. */
enum tn_status tn_alloc(struct tn_device device, size_t bytes, void **ptr, size_t *block_bytes);

/* Returns a block from tn_alloc to its device's cache. */
void tn_alloc_release(struct tn_device device, void *ptr, size_t block_bytes);

/* Gives every cached block of the device back to the system. */
void tn_alloc_empty_cache(struct tn_device device);

/* The device's counters (live_tensors counts all devices). */
struct tn_mem_stats tn_mem_stats(struct tn_device device);

/* Sets the device's peak to its current bytes in use. */
void tn_mem_reset_peak(struct tn_device device);

/* Internal: counts tensor handles for the leak checks. */
void tn_mem_count_tensor(int delta);

#endif
