/* tn_backend.h - what a backend supplies: memory copies and one kernel per op.
 *
 * A kernel gets an allocated output and the inputs, all on the backend's device, and
 * computes; it never touches autograd and never calls tn_op_run (a kernel that needs another
 * op's work calls that kernel, or a helper of its backend, directly). It may make temporaries
 * (a dense copy of a strided input) inside a scope of its own that it closes before returning.
 * Every op that is not a view has a kernel in every backend, and a view op has none:
 * tn_backend_of checks a backend's table against the op list when it first hands it out, and
 * aborts naming every op at fault. There is no silent fallback to another device.
 */
#ifndef TN_BACKEND_H
#define TN_BACKEND_H

#include "tn_op.h"
#include "tn_update.h"

struct tn_kernel_args {
    enum tn_op op; /* lets one kernel serve a family of ops */
    struct tn_tensor *out;
    int n_inputs;
    struct tn_tensor *const *in;
    const struct tn_op_params *params;
};

typedef void (*tn_kernel_fn)(const struct tn_kernel_args *args);

/* TO_DEVICE on every backend: out (on params.device) = a dense copy of in[0] (tn_copy_into,
 * through the host between two devices). */
void tn_kernel_to_device(const struct tn_kernel_args *args);

struct tn_backend {
    const char *name;
    enum tn_device_type type;
    /* bytes from host memory to device memory, and back */
    void (*copy_from_host)(int index, void *dst, const void *src, size_t bytes);
    void (*copy_to_host)(int index, void *dst, const void *src, size_t bytes);
    /* n floats of dst set to value */
    void (*fill)(int index, float *dst, float value, int64_t n);
    /* src's elements into dst's, same shape, any strides, both on this device */
    void (*copy)(struct tn_tensor *dst, const struct tn_tensor *src);
    /* a fused optimizer step over n dense elements (tn_update.h); NULL on the CPU */
    void (*update)(int index, const struct tn_update *u, int64_t n, float *p, const float *g,
                   float *s0, float *s1);
    tn_kernel_fn kernels[TN_OP_COUNT];
};

/* The backend of a device type (aborts if that backend was not built); its table is checked
 * with tn_backend_check the first time. */
const struct tn_backend *tn_backend_of(enum tn_device_type type);

/* Aborts, naming every op at fault, when backend lacks the kernel of an op that is not a view
 * or has one for a view op (which never runs). */
void tn_backend_check(const struct tn_backend *backend);

/* The CPU backend. */
const struct tn_backend *tn_cpu_backend(void);

#endif
