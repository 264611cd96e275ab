/* tn_tensor.h - float32 strided tensors over refcounted storage, and scopes.
 *
 * A tensor is a view: a storage (one device block with a version counter), an element offset,
 * a shape and strides in elements (outermost first, NCHW for images; stride 0 broadcasts).
 * Views share storage and cost no copy. The autograd fields (requires_grad, grad, grad_fn)
 * live here so that a tensor is one object, but this layer never looks inside a node.
 *
 * Ownership, one rule: every function that returns a new tensor puts it in the innermost
 * open scope (tn_scope_begin), and tn_scope_end drops it. To hold a tensor longer, take a
 * reference of your own with tn_keep() and drop it with tn_release(). Making a tensor with
 * no scope open is a programmer error. So chained expressions and composite ops never leak.
 * This file holds no math: ops are in tn_op.h and run through tn_dispatch.c.
 */
#ifndef TN_TENSOR_H
#define TN_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tn_alloc.h"

#define TN_MAX_DIMS 8

struct ag_node; /* defined by the autograd layer; opaque here */

/* One device block, shared by every view of it. */
struct tn_storage {
    int refcount;
    struct tn_device device;
    float *data;
    size_t bytes;     /* size of the block from the allocator */
    int64_t numel;    /* floats the block was asked for */
    uint64_t version; /* bumped by every in-place write; autograd checks it */
};

struct tn_tensor {
    int refcount;
    struct tn_storage *storage;
    int64_t offset;                  /* in elements, into storage->data */
    int ndim;                        /* 0 for a scalar */
    int64_t shape[TN_MAX_DIMS];
    int64_t strides[TN_MAX_DIMS];    /* in elements; 0 on a broadcast dimension */
    int64_t numel;
    bool requires_grad;
    struct tn_tensor *grad;          /* accumulated by backward() on leaves */
    struct ag_node *grad_fn;         /* the node that produced this tensor; NULL for leaves */
    uint64_t id;                     /* unique, increasing: names tensors in graph dumps */
};

/* ---- lifetime ---- */

/* Adds a reference to t and returns it. */
struct tn_tensor *tn_retain(struct tn_tensor *t);

/* Drops a reference; frees the handle (and its storage, grad and node) at zero. NULL is fine. */
void tn_release(struct tn_tensor *t);

/* Takes a reference of the caller's own, so t outlives the scope it was made in. */
struct tn_tensor *tn_keep(struct tn_tensor *t);

/* Opens a scope: tensors made until the matching tn_scope_end belong to it. */
void tn_scope_begin(void);

/* Closes the innermost scope, dropping its references. */
void tn_scope_end(void);

/* Internal: hands a new reference to the innermost scope (aborts if none is open). */
struct tn_tensor *tn_scope_adopt(struct tn_tensor *t);

/* Installed by autograd: drops a tensor's reference to its node. */
void tn_set_node_release(void (*release)(struct ag_node *node));

/* ---- creation (values are not differentiable leaves until requires_grad is set) ---- */

/* Uninitialised contiguous tensor of the given shape on device. */
struct tn_tensor *tn_empty(struct tn_device device, int ndim, const int64_t *shape);

/* Like tn_empty but returns a status instead of aborting when memory runs out. */
enum tn_status tn_try_empty(struct tn_device device, int ndim, const int64_t *shape,
                            struct tn_tensor **out);

/* Contiguous tensor filled with value. */
struct tn_tensor *tn_full(struct tn_device device, int ndim, const int64_t *shape, float value);

/* Contiguous zeros. */
struct tn_tensor *tn_zeros(struct tn_device device, int ndim, const int64_t *shape);

/* 0-dim tensor holding value. */
struct tn_tensor *tn_scalar(struct tn_device device, float value);

/* Contiguous tensor with a copy of numel(shape) host floats. */
struct tn_tensor *tn_from_host(struct tn_device device, int ndim, const int64_t *shape,
                               const float *values);

/* New tensor of the same shape and device as like, filled with value. */
struct tn_tensor *tn_full_like(const struct tn_tensor *like, float value);

/* Copies t's elements to host memory in row-major order (out holds t->numel floats). */
void tn_to_host(const struct tn_tensor *t, float *out);

/* The single element of a tensor with one element. */
float tn_item(const struct tn_tensor *t);

/* Writes host values into t (contiguous or not) and bumps its storage version. */
void tn_write_host(struct tn_tensor *t, const float *values);

/* Copies src's elements into dst in place (same shape; any strides; any two devices, through
 * the host when they differ) and bumps dst's version. Not recorded by autograd. */
void tn_copy_into(struct tn_tensor *dst, const struct tn_tensor *src);

/* t itself when it already lives on device, else a dense copy of it there (in the current
 * scope). Not recorded by autograd: for data and constants, not for values that need gradients. */
struct tn_tensor *tn_to_device(struct tn_tensor *t, struct tn_device device);

/* Moves a leaf tensor's elements to device in place: the handle stays the same (so every
 * pointer to it stays valid), its storage is replaced by a dense copy on the new device.
 * Refused for a tensor with a grad_fn. TN_ERR_OOM if the device has no room. */
enum tn_status tn_move_to_device(struct tn_tensor *t, struct tn_device device);

/* Marks t as a leaf that wants gradients; returns t. */
struct tn_tensor *tn_set_requires_grad(struct tn_tensor *t, bool requires_grad);

/* ---- views and shape helpers (no autograd: see ag_ops.h for the differentiable ones) ---- */

/* New handle over t's storage with the given shape, strides and offset. */
struct tn_tensor *tn_view(const struct tn_tensor *t, int ndim, const int64_t *shape,
                          const int64_t *strides, int64_t offset);

/* True when t's elements are dense in row-major order. */
bool tn_is_contiguous(const struct tn_tensor *t);

/* Product of shape[0..ndim). */
int64_t tn_numel_of(int ndim, const int64_t *shape);

/* Row-major strides for shape. */
void tn_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides);

/* Pointer to t's first element (device memory for device tensors). */
float *tn_data(const struct tn_tensor *t);

/* True when a and b have the same shape. */
bool tn_same_shape(const struct tn_tensor *a, const struct tn_tensor *b);

/* Writes "[2, 3, 4]" into buf. */
const char *tn_shape_str(int ndim, const int64_t *shape, char *buf, size_t size);

/* Bumps the version of t's storage (call after writing t's memory in place). */
void tn_bump_version(struct tn_tensor *t);

/* True when both devices are the same. */
bool tn_device_equal(struct tn_device a, struct tn_device b);

#endif
