/* tn_alloc.c - the caching allocator: size classes, per-device free lists, counters.
 *
 * Size classes: multiples of 512 bytes up to 1 MiB; above 1 MiB,
 * multiples of 1/8 of the next power of two, which keeps waste under 12.5% while letting
 * blocks of the same shape meet again. Not thread-safe by design: tensors are created by the
 * thread that runs the graph; kernels only use memory they are handed.
 */
#include "tn_alloc.h"

#include <stdlib.h>
#include <string.h>

#define MAX_DEVICES 8

struct free_block {
    void *ptr;
    size_t bytes;
};

struct device_pool {
    struct free_block *free;      /* cached blocks, any order */
    int64_t n_free, cap_free;
    struct tn_mem_stats stats;
};

static struct tn_raw_memory raw_memory[TN_DEVICE_TYPE_COUNT];
static struct device_pool pools[TN_DEVICE_TYPE_COUNT][MAX_DEVICES];
static int64_t live_tensors;

static void *cpu_raw_alloc(int index, size_t bytes) {
    (void)index;
    return aligned_alloc(64, bytes);
}

static void cpu_raw_free(int index, void *ptr) {
    (void)index;
    free(ptr);
}

static struct device_pool *pool_of(struct tn_device device) {
    TN_CHECK(device.type >= 0 && device.type < TN_DEVICE_TYPE_COUNT && device.index >= 0 &&
                 device.index < MAX_DEVICES,
             "tn_alloc", "bad device (%d, %d)", (int)device.type, device.index);
    if (device.type == TN_DEVICE_CPU && !raw_memory[TN_DEVICE_CPU].alloc)
        raw_memory[TN_DEVICE_CPU] = (struct tn_raw_memory){cpu_raw_alloc, cpu_raw_free};
    return &pools[device.type][device.index];
}

void tn_alloc_register(enum tn_device_type type, const struct tn_raw_memory *raw) {
    raw_memory[type] = *raw;
}

/* Rounds a request up to its size class. */
static size_t size_class(size_t bytes) {
    if (bytes == 0) bytes = 1;
    if (bytes <= ((size_t)1 << 20)) return (bytes + 511) & ~(size_t)511;
    size_t pow2 = (size_t)1 << 20;
    while (pow2 < bytes) pow2 <<= 1;
    size_t step = pow2 / 8;
    return (bytes + step - 1) / step * step;
}

static void pool_empty(struct device_pool *pool, struct tn_device device) {
    for (int64_t i = 0; i < pool->n_free; i++)
        raw_memory[device.type].free(device.index, pool->free[i].ptr);
    pool->n_free = 0;
    pool->stats.bytes_cached = 0;
}

enum tn_status tn_alloc(struct tn_device device, size_t bytes, void **ptr, size_t *block_bytes) {
    struct device_pool *pool = pool_of(device);
    if (!raw_memory[device.type].alloc)
        return tn_error(TN_ERR_NO_DEVICE, "no backend registered for device type %d",
                        (int)device.type);
    size_t want = size_class(bytes);
    void *found = NULL;
    for (int64_t i = pool->n_free - 1; i >= 0; i--) {
        if (pool->free[i].bytes == want) {
            found = pool->free[i].ptr;
            pool->free[i] = pool->free[--pool->n_free];
            pool->stats.bytes_cached -= (int64_t)want;
            break;
        }
    }
    if (!found) {
        found = raw_memory[device.type].alloc(device.index, want);
        if (!found) {
            pool_empty(pool, device);
            found = raw_memory[device.type].alloc(device.index, want);
        }
        if (!found)
            return tn_error(TN_ERR_OOM,
                            "out of memory on device %d:%d: requested %zu bytes, %lld in use, "
                            "cache emptied",
                            (int)device.type, device.index, want,
                            (long long)pool->stats.bytes_in_use);
        pool->stats.system_allocs++;
    }
    pool->stats.live_blocks++;
    pool->stats.bytes_in_use += (int64_t)want;
    if (pool->stats.bytes_in_use > pool->stats.peak_bytes)
        pool->stats.peak_bytes = pool->stats.bytes_in_use;
    *ptr = found;
    *block_bytes = want;
    return TN_OK;
}

void tn_alloc_release(struct tn_device device, void *ptr, size_t block_bytes) {
    struct device_pool *pool = pool_of(device);
    if (pool->n_free == pool->cap_free) {
        int64_t cap = pool->cap_free ? 2 * pool->cap_free : 64;
        struct free_block *grown = realloc(pool->free, (size_t)cap * sizeof *grown);
        if (!grown) { /* cannot cache: give the block straight back */
            raw_memory[device.type].free(device.index, ptr);
            pool->stats.live_blocks--;
            pool->stats.bytes_in_use -= (int64_t)block_bytes;
            return;
        }
        pool->free = grown;
        pool->cap_free = cap;
    }
    pool->free[pool->n_free++] = (struct free_block){ptr, block_bytes};
    pool->stats.live_blocks--;
    pool->stats.bytes_in_use -= (int64_t)block_bytes;
    pool->stats.bytes_cached += (int64_t)block_bytes;
}

void tn_alloc_empty_cache(struct tn_device device) { pool_empty(pool_of(device), device); }

struct tn_mem_stats tn_mem_stats(struct tn_device device) {
    struct tn_mem_stats stats = pool_of(device)->stats;
    stats.live_tensors = live_tensors;
    return stats;
}

void tn_mem_reset_peak(struct tn_device device) {
    struct device_pool *pool = pool_of(device);
    pool->stats.peak_bytes = pool->stats.bytes_in_use;
}

void tn_mem_count_tensor(int delta) { live_tensors += delta; }
