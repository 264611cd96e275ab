/* tn_dispatch.c - tn_op_run: the one path from an op call to a kernel, and the view ops.
 *
 * Steps: check arity and devices, infer the output shape, then either build a view (view ops
 * have no kernel; they only compute strides) or allocate the output and call the kernel of
 * the inputs' backend. Nothing here records a graph; autograd wraps this function.
 */
#include <stdio.h>
#include <string.h>

#include "tn_backend.h"
#include "tn_profile.h"

/* Strides for viewing x as shape without a copy, or false when x's layout does not allow it
 * (the usual rule: each run of merged output dims must lie in one contiguous chunk of x). */
static bool reshape_strides(const struct tn_tensor *x, int ndim, const int64_t *shape,
                            int64_t *strides) {
    if (tn_is_contiguous(x)) {
        tn_contiguous_strides(ndim, shape, strides);
        return true;
    }
    /* Drop x's size-1 dims, then match chunks of x dims to chunks of output dims. */
    int64_t xs[TN_MAX_DIMS], xt[TN_MAX_DIMS];
    int xn = 0;
    for (int d = 0; d < x->ndim; d++)
        if (x->shape[d] != 1) {
            xs[xn] = x->shape[d];
            xt[xn++] = x->strides[d];
        }
    int xi = 0, oi = 0;
    while (oi < ndim) {
        if (shape[oi] == 1) {
            strides[oi++] = 1;
            continue;
        }
        if (xi >= xn) return false;
        /* Take x dims [xi, xj) whose product equals the product of output dims [oi, oj). */
        int64_t xprod = xs[xi], oprod = shape[oi];
        int xj = xi + 1, oj = oi + 1;
        while (xprod != oprod) {
            if (xprod < oprod) {
                if (xj >= xn) return false;
                if (xt[xj - 1] != xt[xj] * xs[xj]) return false; /* not one chunk */
                xprod *= xs[xj++];
            } else {
                if (oj >= ndim) return false;
                oprod *= shape[oj++];
            }
        }
        for (int k = xi + 1; k < xj; k++)
            if (xt[k - 1] != xt[k] * xs[k]) return false;
        int64_t s = xt[xj - 1];
        for (int k = oj - 1; k >= oi; k--) {
            strides[k] = s;
            s *= shape[k];
        }
        xi = xj;
        oi = oj;
    }
    return xi == xn;
}

static struct tn_tensor *run_view(enum tn_op op, struct tn_tensor *x,
                                  const struct tn_op_params *p, int ndim, const int64_t *shape) {
    int64_t strides[TN_MAX_DIMS];
    int64_t offset = x->offset;
    switch (op) {
    case TN_OP_RESHAPE:
        if (!reshape_strides(x, ndim, shape, strides)) {
            struct tn_op_params none = {0};
            struct tn_tensor *dense = tn_op_run(TN_OP_CONTIGUOUS, 1, &x, &none);
            tn_contiguous_strides(ndim, shape, strides);
            return tn_view(dense, ndim, shape, strides, dense->offset); /* both in the scope */
        }
        break;
    case TN_OP_PERMUTE:
        for (int d = 0; d < ndim; d++) strides[d] = x->strides[p->perm[d]];
        break;
    case TN_OP_EXPAND:
        for (int d = 0; d < ndim; d++) {
            int dx = d - (ndim - x->ndim);
            strides[d] = (dx < 0 || x->shape[dx] != shape[d]) ? 0 : x->strides[dx];
        }
        break;
    case TN_OP_SLICE:
        memcpy(strides, x->strides, sizeof(int64_t) * (size_t)ndim);
        offset += p->start * x->strides[p->axis];
        break;
    default:
        TN_FATAL(tn_op_name(op), "not a view op");
    }
    return tn_view(x, ndim, shape, strides, offset);
}

void tn_backend_check(const struct tn_backend *backend) {
    char faults[1024] = "";
    size_t used = 0;
    for (int op = 0; op < TN_OP_COUNT; op++) {
        bool view = tn_op_info(op)->flags & TN_OPF_VIEW;
        if (view == (backend->kernels[op] != NULL) && used < sizeof faults)
            used += (size_t)snprintf(faults + used, sizeof faults - used, " %s (%s)",
                                     tn_op_name(op), view ? "a view, has a kernel" : "no kernel");
    }
    TN_CHECK(used == 0, "tn_backend_check", "the kernel table of backend %s does not match the "
             "op list:%s", backend->name, faults);
}

struct tn_tensor *tn_op_run(enum tn_op op, int n, struct tn_tensor *const *in,
                            const struct tn_op_params *p) {
    const struct tn_op_info *info = tn_op_info(op);
    if (info->flags & TN_OPF_VARIADIC)
        TN_CHECK(n >= info->n_inputs && n <= TN_MAX_INPUTS, info->name,
                 "takes 1 to %d inputs, got %d", TN_MAX_INPUTS, n);
    else
        TN_CHECK(n == info->n_inputs, info->name, "takes %d inputs, got %d", info->n_inputs, n);
    for (int i = 0; i < n; i++) {
        TN_CHECK(in[i] != NULL, info->name, "input %d is NULL", i);
        TN_CHECK(tn_device_equal(in[i]->storage->device, in[0]->storage->device), info->name,
                 "inputs on different devices (input %d); move them to one device first", i);
    }
    int ndim;
    int64_t shape[TN_MAX_DIMS];
    info->infer(op, n, in, p, &ndim, shape);
    if (info->flags & TN_OPF_VIEW) return run_view(op, in[0], p, ndim, shape);

    /* the kernel is the input's backend's; only TO_DEVICE writes to another device */
    struct tn_device device = op == TN_OP_TO_DEVICE ? p->device : in[0]->storage->device;
    const struct tn_backend *backend = tn_backend_of(in[0]->storage->device.type);
    tn_kernel_fn kernel = backend->kernels[op]; /* never NULL: tn_backend_of checked the table */
    struct tn_tensor *out = tn_empty(device, ndim, shape);
    if (out->numel == 0) return out;
    if (!tn_profile_enabled()) {
        kernel(&(struct tn_kernel_args){op, out, n, in, p});
        return out;
    }
    long long start = tn_profile_now_ns();
    kernel(&(struct tn_kernel_args){op, out, n, in, p});
    tn_profile_add(op, n, in, tn_profile_now_ns() - start, out->numel);
    return out;
}
