/* test_tensor.c - the tensor layer under the autograd engine: views (reshape, permute, expand,
 * slice share storage, with the expected strides and offsets; a reshape that no strides can
 * express copies), contiguity, NumPy broadcasting of shapes, reference counts and scopes, the
 * caching allocator and its counters, host transfers of strided views and storage versions,
 * the Philox generator, and programmer errors that abort with a message.
 *
 * Every test is leak-checked: live tensors and bytes in use must be back at their start
 * values when the test's scope closes. Tests that expect an abort declare .signal = SIGABRT.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>

#include "helpers/test_support.h"
#include "tensor/tn_backend.h"

LEAK_CHECKED_SUITE(tensor);

/* A contiguous tensor of shape holding 0, 1, 2, ... in row-major order. */
static struct tn_tensor *iota(int ndim, const int64_t *shape) {
    int64_t n = tn_numel_of(ndim, shape);
    float *v = malloc(sizeof(float) * (size_t)(n ? n : 1));
    cr_assert(v);
    for (int64_t i = 0; i < n; i++) v[i] = (float)i;
    struct tn_tensor *t = make_tensor(ndim, shape, v);
    free(v);
    return t;
}

static void assert_strides(const struct tn_tensor *t, const int64_t *strides) {
    for (int d = 0; d < t->ndim; d++)
        cr_assert_eq(t->strides[d], strides[d], "dim %d: stride %lld, expected %lld", d,
                     (long long)t->strides[d], (long long)strides[d]);
}

/* ---- views share storage ---- */

Test(tensor, reshape_of_contiguous_tensor_is_a_view) {
    struct tn_tensor *x = iota(3, (int64_t[]){2, 3, 4});
    struct tn_tensor *y = ag_reshape(x, 2, (int64_t[]){6, 4});
    cr_assert_neq(y, x, "a reshape is a new handle");
    cr_assert_eq(y->storage, x->storage, "a reshape of a contiguous tensor must not copy");
    assert_shape(y, 2, (int64_t[]){6, 4});
    assert_strides(y, (int64_t[]){4, 1});
    cr_assert_eq(y->offset, 0);
    cr_assert(tn_is_contiguous(y));
}

Test(tensor, permute_is_a_view_with_permuted_strides) {
    struct tn_tensor *x = iota(3, (int64_t[]){2, 3, 4}); /* strides 12, 4, 1 */
    struct tn_tensor *y = ag_permute(x, (int[]){2, 0, 1});
    cr_assert_eq(y->storage, x->storage);
    assert_shape(y, 3, (int64_t[]){4, 2, 3});
    assert_strides(y, (int64_t[]){1, 12, 4});
    cr_assert_eq(y->offset, 0);
    cr_assert_not(tn_is_contiguous(y));
}

Test(tensor, transpose_is_a_view) {
    struct tn_tensor *x = iota(2, (int64_t[]){3, 5});
    struct tn_tensor *y = ag_transpose(x, 0, 1);
    cr_assert_eq(y->storage, x->storage);
    assert_shape(y, 2, (int64_t[]){5, 3});
    assert_strides(y, (int64_t[]){1, 5});
}

Test(tensor, expand_is_a_view_with_zero_strides) {
    struct tn_tensor *x = iota(2, (int64_t[]){3, 1});
    struct tn_tensor *y = ag_expand(x, 3, (int64_t[]){2, 3, 4});
    cr_assert_eq(y->storage, x->storage);
    assert_shape(y, 3, (int64_t[]){2, 3, 4});
    assert_strides(y, (int64_t[]){0, 1, 0});
    cr_assert_eq(y->offset, 0);
    cr_assert_eq(y->numel, 24);
}

Test(tensor, slice_is_a_view_with_an_offset) {
    struct tn_tensor *x = iota(2, (int64_t[]){4, 6});
    struct tn_tensor *cols = ag_slice(x, 1, 2, 3); /* x[:, 2:5] */
    cr_assert_eq(cols->storage, x->storage);
    assert_shape(cols, 2, (int64_t[]){4, 3});
    assert_strides(cols, (int64_t[]){6, 1});
    cr_assert_eq(cols->offset, 2);
    struct tn_tensor *rows = ag_slice(x, 0, 1, 2); /* x[1:3] */
    cr_assert_eq(rows->storage, x->storage);
    assert_strides(rows, (int64_t[]){6, 1});
    cr_assert_eq(rows->offset, 6);
    struct tn_tensor *both = ag_slice(rows, 1, 2, 3); /* x[1:3, 2:5]: offsets add up */
    cr_assert_eq(both->storage, x->storage);
    cr_assert_eq(both->offset, 8);
    assert_close(both, (float[]){8, 9, 10, 14, 15, 16}, 0, 0);
}

Test(tensor, view_chain_of_reshape_permute_slice_shares_one_storage) {
    struct tn_tensor *x = iota(1, (int64_t[]){24});
    struct tn_tensor *a = ag_reshape(x, 3, (int64_t[]){2, 3, 4});
    struct tn_tensor *b = ag_permute(a, (int[]){1, 0, 2}); /* [3, 2, 4], strides 4, 12, 1 */
    struct tn_tensor *c = ag_slice(b, 0, 1, 2);            /* [2, 2, 4], offset 4 */
    cr_assert_eq(c->storage, x->storage);
    assert_strides(c, (int64_t[]){4, 12, 1});
    cr_assert_eq(c->offset, 4);
    float expected[16];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 4; k++) expected[i * 8 + j * 4 + k] = (float)(j * 12 + (i + 1) * 4 + k);
    assert_close(c, expected, 0, 0);
}

Test(tensor, reshape_of_a_viewable_strided_tensor_is_a_view) {
    struct tn_tensor *x = iota(2, (int64_t[]){4, 6});
    struct tn_tensor *cols = ag_slice(x, 1, 2, 3); /* [4, 3], strides 6, 1, offset 2 */
    struct tn_tensor *y = ag_reshape(cols, 3, (int64_t[]){2, 2, 3});
    cr_assert_eq(y->storage, x->storage, "splitting a dim of a strided tensor needs no copy");
    assert_strides(y, (int64_t[]){12, 6, 1});
    cr_assert_eq(y->offset, 2);
    struct tn_tensor *z = ag_reshape(cols, 3, (int64_t[]){4, 1, 3}); /* inserting a size-1 dim */
    cr_assert_eq(z->storage, x->storage);
    cr_assert_eq(z->strides[0], 6);
    cr_assert_eq(z->strides[2], 1);
}

Test(tensor, reshape_of_a_non_viewable_strided_tensor_copies) {
    struct tn_tensor *x = iota(2, (int64_t[]){3, 4});
    struct tn_tensor *t = ag_transpose(x, 0, 1); /* [4, 3], strides 1, 4 */
    struct tn_tensor *flat = ag_reshape(t, 1, (int64_t[]){12});
    cr_assert_neq(flat->storage, x->storage, "merging transposed dims cannot be a view");
    cr_assert(tn_is_contiguous(flat));
    assert_close(flat, (float[]){0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, 0, 0);
    /* a slice whose rows are not adjacent cannot be flattened in place either */
    struct tn_tensor *cols = ag_slice(x, 1, 1, 2);
    struct tn_tensor *flat2 = ag_reshape(cols, 1, (int64_t[]){6});
    cr_assert_neq(flat2->storage, x->storage);
    assert_close(flat2, (float[]){1, 2, 5, 6, 9, 10}, 0, 0);
}

Test(tensor, detach_shares_storage) {
    struct tn_tensor *x = tn_set_requires_grad(iota(2, (int64_t[]){2, 2}), true);
    struct tn_tensor *d = ag_detach(x);
    cr_assert_eq(d->storage, x->storage);
    cr_assert_not(d->requires_grad);
    cr_assert_null(d->grad_fn);
}

/* ---- contiguity ---- */

Test(tensor, is_contiguous_on_various_layouts) {
    struct tn_tensor *x = iota(3, (int64_t[]){2, 3, 4});
    cr_assert(tn_is_contiguous(x), "a fresh tensor");
    cr_assert(tn_is_contiguous(tn_scalar(TN_CPU, 1.0f)), "a 0-dim tensor");
    cr_assert_not(tn_is_contiguous(ag_transpose(x, 1, 2)), "a transpose");
    cr_assert(tn_is_contiguous(ag_slice(x, 0, 1, 1)), "a slice of the outermost dim");
    cr_assert_not(tn_is_contiguous(ag_slice(x, 2, 0, 2)), "a slice of the innermost dim");
    cr_assert_not(tn_is_contiguous(ag_expand(ag_slice(x, 0, 0, 1), 3, (int64_t[]){5, 3, 4})),
                  "an expanded dim (stride 0)");
    /* size-1 dims do not matter, whatever their stride */
    cr_assert(tn_is_contiguous(tn_view(x, 4, (int64_t[]){2, 3, 1, 4},
                                       (int64_t[]){12, 4, 99, 1}, 0)));
    cr_assert(tn_is_contiguous(ag_transpose(ag_reshape(x, 4, (int64_t[]){2, 1, 3, 4}), 0, 1)),
              "swapping a size-1 dim leaves the order of the elements unchanged");
    cr_assert_not(tn_is_contiguous(tn_view(x, 2, (int64_t[]){3, 4}, (int64_t[]){8, 1}, 0)),
                  "rows with a gap between them");
}

/* ---- broadcasting ---- */

static void assert_broadcast(int na, const int64_t *a, int nb, const int64_t *b, int n,
                             const int64_t *expected) {
    int ndim = -1;
    int64_t shape[TN_MAX_DIMS];
    tn_broadcast_shape("test", na, a, nb, b, &ndim, shape);
    cr_assert_eq(ndim, n, "ndim %d, expected %d", ndim, n);
    for (int d = 0; d < n; d++)
        cr_assert_eq(shape[d], expected[d], "dim %d: %lld, expected %lld", d,
                     (long long)shape[d], (long long)expected[d]);
}

Test(tensor, broadcast_shape_follows_numpy_rules) {
    assert_broadcast(3, (int64_t[]){3, 1, 5}, 2, (int64_t[]){4, 1}, 3, (int64_t[]){3, 4, 5});
    assert_broadcast(2, (int64_t[]){4, 1}, 3, (int64_t[]){3, 1, 5}, 3, (int64_t[]){3, 4, 5});
    assert_broadcast(0, NULL, 2, (int64_t[]){2, 3}, 2, (int64_t[]){2, 3});
    assert_broadcast(2, (int64_t[]){2, 3}, 0, NULL, 2, (int64_t[]){2, 3});
    assert_broadcast(1, (int64_t[]){5}, 1, (int64_t[]){1}, 1, (int64_t[]){5});
    assert_broadcast(2, (int64_t[]){1, 1}, 1, (int64_t[]){7}, 2, (int64_t[]){1, 7});
    assert_broadcast(4, (int64_t[]){8, 1, 6, 1}, 3, (int64_t[]){7, 1, 5}, 4,
                     (int64_t[]){8, 7, 6, 5});
    assert_broadcast(2, (int64_t[]){2, 0}, 1, (int64_t[]){1}, 2, (int64_t[]){2, 0});
}

Test(tensor, broadcast_shape_mismatch_aborts, .signal = SIGABRT) {
    int ndim;
    int64_t shape[TN_MAX_DIMS];
    tn_broadcast_shape("test", 2, (int64_t[]){2, 3}, 2, (int64_t[]){2, 4}, &ndim, shape);
}

Test(tensor, elementwise_op_on_shapes_that_do_not_broadcast_aborts, .signal = SIGABRT) {
    struct tn_tensor *a = tn_zeros(TN_CPU, 2, (int64_t[]){3, 4});
    struct tn_tensor *b = tn_zeros(TN_CPU, 1, (int64_t[]){3});
    ag_add(a, b);
}

Test(tensor, elementwise_op_broadcasts_values) {
    struct tn_tensor *col = make_tensor(2, (int64_t[]){2, 1}, (float[]){10, 20});
    struct tn_tensor *row = make_tensor(1, (int64_t[]){3}, (float[]){1, 2, 3});
    struct tn_tensor *sum = ag_add(col, row);
    assert_shape(sum, 2, (int64_t[]){2, 3});
    assert_close(sum, (float[]){11, 12, 13, 21, 22, 23}, 0, 0);
}

/* ---- reference counts and scopes ---- */

Test(tensor, retain_and_release_count_references) {
    struct tn_tensor *t = tn_zeros(TN_CPU, 1, (int64_t[]){4});
    cr_assert_eq(t->refcount, 1, "a new tensor has the scope's reference");
    cr_assert_eq(tn_retain(t), t);
    cr_assert_eq(t->refcount, 2);
    tn_release(t);
    cr_assert_eq(t->refcount, 1);
    tn_release(NULL); /* allowed */
}

Test(tensor, view_shares_and_counts_the_storage) {
    struct tn_tensor *x = tn_zeros(TN_CPU, 1, (int64_t[]){8});
    cr_assert_eq(x->storage->refcount, 1);
    struct tn_tensor *v = ag_reshape(x, 2, (int64_t[]){2, 4});
    cr_assert_eq(x->storage->refcount, 2, "each handle holds its storage");
    cr_assert_eq(v->refcount, 1);
}

Test(tensor, keep_survives_scope_end) {
    struct tn_mem_stats before = tn_mem_stats(TN_CPU);
    tn_scope_begin();
    struct tn_tensor *kept = tn_keep(make_tensor(1, (int64_t[]){3}, (float[]){1, 2, 3}));
    tn_zeros(TN_CPU, 1, (int64_t[]){3}); /* not kept: dropped at the scope's end */
    cr_assert_eq(tn_mem_stats(TN_CPU).live_tensors, before.live_tensors + 2);
    tn_scope_end();
    cr_assert_eq(tn_mem_stats(TN_CPU).live_tensors, before.live_tensors + 1);
    cr_assert_eq(kept->refcount, 1, "only the caller's reference is left");
    assert_close(kept, (float[]){1, 2, 3}, 0, 0);
    tn_release(kept);
    cr_assert_eq(tn_mem_stats(TN_CPU).live_tensors, before.live_tensors);
    cr_assert_eq(tn_mem_stats(TN_CPU).bytes_in_use, before.bytes_in_use);
}

Test(tensor, nested_scopes_release_only_the_innermost) {
    struct tn_mem_stats before = tn_mem_stats(TN_CPU);
    tn_scope_begin();
    struct tn_tensor *outer = tn_full(TN_CPU, 1, (int64_t[]){2}, 7.0f);
    tn_scope_begin();
    tn_zeros(TN_CPU, 1, (int64_t[]){2});
    tn_zeros(TN_CPU, 1, (int64_t[]){2});
    cr_assert_eq(tn_mem_stats(TN_CPU).live_tensors, before.live_tensors + 3);
    tn_scope_end();
    cr_assert_eq(tn_mem_stats(TN_CPU).live_tensors, before.live_tensors + 1);
    assert_close(outer, (float[]){7, 7}, 0, 0); /* still alive */
    tn_scope_end();
    cr_assert_eq(tn_mem_stats(TN_CPU).live_tensors, before.live_tensors);
}

Test(tensor, view_keeps_storage_alive_after_base_is_released) {
    struct tn_mem_stats before = tn_mem_stats(TN_CPU);
    tn_scope_begin();
    struct tn_tensor *base = iota(1, (int64_t[]){6});
    struct tn_tensor *view = tn_keep(ag_slice(base, 0, 3, 3));
    tn_scope_end(); /* base's handle dies; the storage lives on in the view */
    cr_assert_eq(tn_mem_stats(TN_CPU).live_tensors, before.live_tensors + 1);
    cr_assert_gt(tn_mem_stats(TN_CPU).bytes_in_use, before.bytes_in_use);
    cr_assert_eq(view->storage->refcount, 1);
    assert_close(view, (float[]){3, 4, 5}, 0, 0);
    tn_release(view);
    cr_assert_eq(tn_mem_stats(TN_CPU).bytes_in_use, before.bytes_in_use);
}

/* ---- caching allocator ---- */

/* An unusual size, so no other allocation of the test process shares its size class. */
#define ODD_FLOATS 3001 /* 12004 bytes: the 512-byte class of 12288 */
#define ODD_BLOCK 12288

Test(tensor, allocator_reuses_a_cached_block_of_the_same_size) {
    tn_alloc_empty_cache(TN_CPU);
    struct tn_mem_stats s0 = tn_mem_stats(TN_CPU);
    cr_assert_eq(s0.bytes_cached, 0);
    tn_scope_begin();
    struct tn_tensor *a = tn_empty(TN_CPU, 1, (int64_t[]){ODD_FLOATS});
    float *first = a->storage->data;
    struct tn_mem_stats s1 = tn_mem_stats(TN_CPU);
    cr_assert_eq(s1.system_allocs, s0.system_allocs + 1);
    cr_assert_eq(s1.bytes_in_use, s0.bytes_in_use + ODD_BLOCK);
    cr_assert_eq(s1.live_blocks, s0.live_blocks + 1);
    tn_scope_end();
    struct tn_mem_stats s2 = tn_mem_stats(TN_CPU);
    cr_assert_eq(s2.bytes_in_use, s0.bytes_in_use);
    cr_assert_eq(s2.bytes_cached, ODD_BLOCK, "the freed block is kept for reuse");
    cr_assert_eq(s2.live_blocks, s0.live_blocks);
    tn_scope_begin();
    /* a different shape of the same size class gets the same block, from the cache */
    struct tn_tensor *b = tn_empty(TN_CPU, 2, (int64_t[]){50, 60});
    struct tn_mem_stats s3 = tn_mem_stats(TN_CPU);
    cr_assert_eq(s3.system_allocs, s1.system_allocs, "no new system allocation");
    cr_assert_eq(s3.bytes_cached, 0);
    cr_assert_eq(b->storage->data, first, "the cached block itself is handed out");
    cr_assert_eq(b->storage->bytes, (size_t)ODD_BLOCK);
    tn_scope_end();
}

Test(tensor, allocator_rounds_requests_to_size_classes) {
    struct tn_mem_stats s0 = tn_mem_stats(TN_CPU);
    tn_scope_begin();
    struct tn_tensor *small = tn_empty(TN_CPU, 1, (int64_t[]){1});
    cr_assert_eq(small->storage->bytes, (size_t)512, "4 bytes use one 512-byte block");
    struct tn_tensor *edge = tn_empty(TN_CPU, 1, (int64_t[]){128});
    cr_assert_eq(edge->storage->bytes, (size_t)512);
    struct tn_tensor *next = tn_empty(TN_CPU, 1, (int64_t[]){129});
    cr_assert_eq(next->storage->bytes, (size_t)1024);
    struct tn_tensor *empty = tn_empty(TN_CPU, 1, (int64_t[]){0});
    cr_assert_eq(empty->storage->bytes, (size_t)512, "even an empty tensor gets a block");
    /* above 1 MiB: steps of 1/8 of the next power of two (2 MiB / 8 = 256 KiB) */
    struct tn_tensor *big = tn_empty(TN_CPU, 1, (int64_t[]){(1 << 18) + 1});
    cr_assert_eq(big->storage->bytes, (size_t)(1 << 20) + (1 << 18));
    cr_assert_eq(tn_mem_stats(TN_CPU).bytes_in_use,
                 s0.bytes_in_use + 512 + 512 + 1024 + 512 + (1 << 20) + (1 << 18));
    tn_scope_end();
}

Test(tensor, allocator_tracks_peak_and_cached_bytes) {
    tn_alloc_empty_cache(TN_CPU);
    tn_mem_reset_peak(TN_CPU);
    struct tn_mem_stats s0 = tn_mem_stats(TN_CPU);
    cr_assert_eq(s0.peak_bytes, s0.bytes_in_use);
    tn_scope_begin();
    tn_empty(TN_CPU, 1, (int64_t[]){ODD_FLOATS});
    tn_scope_begin();
    tn_empty(TN_CPU, 1, (int64_t[]){2 * ODD_FLOATS}); /* 24004 bytes: class 24064 */
    struct tn_mem_stats s1 = tn_mem_stats(TN_CPU);
    cr_assert_eq(s1.bytes_in_use, s0.bytes_in_use + ODD_BLOCK + 24064);
    cr_assert_eq(s1.peak_bytes, s1.bytes_in_use);
    tn_scope_end();
    struct tn_mem_stats s2 = tn_mem_stats(TN_CPU);
    cr_assert_eq(s2.bytes_in_use, s0.bytes_in_use + ODD_BLOCK);
    cr_assert_eq(s2.peak_bytes, s1.peak_bytes, "the peak stays after a release");
    cr_assert_eq(s2.bytes_cached, 24064);
    tn_mem_reset_peak(TN_CPU);
    cr_assert_eq(tn_mem_stats(TN_CPU).peak_bytes, s2.bytes_in_use);
    tn_scope_end();
    cr_assert_eq(tn_mem_stats(TN_CPU).bytes_cached, 24064 + ODD_BLOCK);
}

Test(tensor, empty_cache_returns_blocks_to_the_system) {
    tn_scope_begin();
    tn_empty(TN_CPU, 1, (int64_t[]){ODD_FLOATS});
    tn_scope_end();
    cr_assert_geq(tn_mem_stats(TN_CPU).bytes_cached, ODD_BLOCK);
    tn_alloc_empty_cache(TN_CPU);
    struct tn_mem_stats s1 = tn_mem_stats(TN_CPU);
    cr_assert_eq(s1.bytes_cached, 0);
    tn_scope_begin();
    tn_empty(TN_CPU, 1, (int64_t[]){ODD_FLOATS});
    cr_assert_eq(tn_mem_stats(TN_CPU).system_allocs, s1.system_allocs + 1,
                 "after emptying the cache the block comes from the system again");
    tn_scope_end();
}

/* ---- host transfers and versions ---- */

Test(tensor, write_host_bumps_the_storage_version) {
    struct tn_tensor *x = tn_zeros(TN_CPU, 1, (int64_t[]){4});
    struct tn_tensor *v = ag_slice(x, 0, 1, 2);
    uint64_t v0 = x->storage->version;
    tn_write_host(x, (float[]){1, 2, 3, 4});
    cr_assert_eq(x->storage->version, v0 + 1);
    tn_write_host(v, (float[]){20, 30});
    cr_assert_eq(x->storage->version, v0 + 2, "a write through a view is seen by every view");
    assert_close(x, (float[]){1, 20, 30, 4}, 0, 0);
}

Test(tensor, write_host_through_a_strided_view) {
    struct tn_tensor *x = tn_zeros(TN_CPU, 2, (int64_t[]){2, 3});
    struct tn_tensor *t = ag_transpose(x, 0, 1); /* [3, 2] */
    tn_write_host(t, (float[]){1, 2, 3, 4, 5, 6});
    assert_close(x, (float[]){1, 3, 5, 2, 4, 6}, 0, 0);
}

Test(tensor, to_host_of_a_permuted_view) {
    struct tn_tensor *x = iota(3, (int64_t[]){2, 3, 2});
    struct tn_tensor *p = ag_permute(x, (int[]){2, 0, 1}); /* [2, 2, 3] */
    float got[12];
    tn_to_host(p, got);
    float expected[12];
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 3; c++) expected[a * 6 + b * 3 + c] = (float)(b * 6 + c * 2 + a);
    for (int i = 0; i < 12; i++)
        cr_assert_eq(got[i], expected[i], "element %d: %g, expected %g", i, (double)got[i],
                     (double)expected[i]);
}

Test(tensor, to_host_of_a_slice_with_an_offset) {
    struct tn_tensor *x = iota(2, (int64_t[]){3, 4});
    float got[6];
    tn_to_host(ag_slice(x, 1, 1, 2), got); /* x[:, 1:3] */
    float expected[6] = {1, 2, 5, 6, 9, 10};
    for (int i = 0; i < 6; i++) cr_assert_eq(got[i], expected[i], "element %d", i);
    tn_to_host(ag_slice(x, 0, 2, 1), got); /* x[2:3]: contiguous, with an offset */
    for (int i = 0; i < 4; i++) cr_assert_eq(got[i], (float)(8 + i), "element %d", i);
}

Test(tensor, to_host_of_an_expanded_view) {
    struct tn_tensor *x = make_tensor(2, (int64_t[]){1, 3}, (float[]){1, 2, 3});
    float got[6];
    tn_to_host(ag_expand(x, 2, (int64_t[]){2, 3}), got);
    float expected[6] = {1, 2, 3, 1, 2, 3};
    for (int i = 0; i < 6; i++) cr_assert_eq(got[i], expected[i], "element %d", i);
    cr_assert_eq(tn_item(ag_slice(ag_slice(x, 1, 2, 1), 0, 0, 1)), 3.0f);
}

Test(tensor, item_of_a_tensor_with_several_elements_aborts, .signal = SIGABRT) {
    tn_item(tn_zeros(TN_CPU, 1, (int64_t[]){2}));
}

/* ---- Philox ---- */

Test(tensor, philox_matches_the_random123_known_answer) {
    /* Philox4x32-10 with counter 0 and key 0 gives 6627e8d5 e169c58d bc57ac4c 9b00dbd8
     * (Random123 kat_vectors); uniforms keep the top 24 bits of each word. */
    struct tn_rng rng = tn_rng_new(0);
    float u[4];
    tn_rng_uniform_host(&rng, u, 4);
    const uint32_t words[4] = {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(u[i], (float)(words[i] >> 8) / 16777216.0f, "word %d", i);
    cr_assert_eq(rng.offset, 4);
}

Test(tensor, philox_same_seed_and_offset_give_the_same_numbers) {
    struct tn_rng a = tn_rng_new(1234), b = tn_rng_new(1234), c = tn_rng_new(1235);
    float x[37], y[37], z[37];
    tn_rng_uniform_host(&a, x, 37);
    tn_rng_uniform_host(&b, y, 37);
    tn_rng_uniform_host(&c, z, 37);
    int same_as_other_seed = 0;
    for (int i = 0; i < 37; i++) {
        cr_assert_eq(x[i], y[i], "draw %d", i);
        same_as_other_seed += x[i] == z[i];
    }
    cr_assert_lt(same_as_other_seed, 3, "another seed gives another stream");
    /* a generator placed at offset 11 continues the stream from draw 11 */
    struct tn_rng d = {.seed = 1234, .offset = 11};
    float w[26];
    tn_rng_uniform_host(&d, w, 26);
    for (int i = 0; i < 26; i++) cr_assert_eq(w[i], x[11 + i], "draw %d", 11 + i);
    cr_assert_eq(d.offset, 37);
    /* drawing in two calls equals drawing in one */
    struct tn_rng e = tn_rng_new(1234);
    float first[5], rest[32];
    tn_rng_uniform_host(&e, first, 5);
    tn_rng_uniform_host(&e, rest, 32);
    for (int i = 0; i < 5; i++) cr_assert_eq(first[i], x[i]);
    for (int i = 0; i < 32; i++) cr_assert_eq(rest[i], x[5 + i]);
}

Test(tensor, philox_tensor_fills_are_reproducible) {
    struct tn_rng a = tn_rng_new(99), b = tn_rng_new(99);
    struct tn_tensor *x = tn_randn(TN_CPU, 2, (int64_t[]){5, 7}, &a);
    struct tn_tensor *y = tn_randn(TN_CPU, 2, (int64_t[]){5, 7}, &b);
    float hx[35];
    tn_to_host(x, hx);
    assert_close(y, hx, 0, 0);
    cr_assert_eq(a.offset, b.offset);
    struct tn_tensor *u = tn_rand_uniform(TN_CPU, 1, (int64_t[]){1000}, &a, -2.0f, 3.0f);
    float hu[1000];
    tn_to_host(u, hu);
    for (int i = 0; i < 1000; i++)
        cr_assert(hu[i] >= -2.0f && hu[i] < 3.0f, "element %d = %g outside [-2, 3)", i,
                  (double)hu[i]);
}

#define DRAWS 100000

Test(tensor, philox_uniform_lies_in_the_unit_interval) {
    struct tn_rng rng = tn_rng_new(2024);
    float *u = malloc(sizeof(float) * DRAWS);
    cr_assert(u);
    tn_rng_uniform_host(&rng, u, DRAWS);
    double sum = 0.0, lo = 1.0, hi = 0.0;
    for (int i = 0; i < DRAWS; i++) {
        cr_assert(u[i] >= 0.0f && u[i] < 1.0f, "draw %d = %.9g outside [0, 1)", i, (double)u[i]);
        sum += u[i];
        lo = fmin(lo, u[i]);
        hi = fmax(hi, u[i]);
    }
    free(u);
    /* mean of U(0,1): 0.5 with standard error 1/sqrt(12 * 1e5) = 0.0009 */
    cr_assert(fabs(sum / DRAWS - 0.5) < 0.005, "mean %g", sum / DRAWS);
    cr_assert(lo < 1e-3 && hi > 1.0 - 1e-3, "range [%g, %g] does not fill [0, 1)", lo, hi);
}

Test(tensor, philox_normal_has_mean_zero_and_std_one) {
    struct tn_rng rng = tn_rng_new(77);
    float *z = malloc(sizeof(float) * DRAWS);
    cr_assert(z);
    tn_rng_normal_host(&rng, z, DRAWS);
    double sum = 0.0, sq = 0.0;
    int beyond_2sd = 0;
    for (int i = 0; i < DRAWS; i++) {
        cr_assert(isfinite(z[i]), "draw %d is not finite", i);
        sum += z[i];
        sq += (double)z[i] * z[i];
        beyond_2sd += fabs(z[i]) > 2.0;
    }
    free(z);
    double mean = sum / DRAWS, std = sqrt(sq / DRAWS - mean * mean);
    /* standard errors: mean 0.0032, std 0.0022 */
    cr_assert(fabs(mean) < 0.02, "mean %g", mean);
    cr_assert(fabs(std - 1.0) < 0.02, "std %g", std);
    /* P(|z| > 2) = 0.0455 for a normal */
    cr_assert(fabs(beyond_2sd / (double)DRAWS - 0.0455) < 0.005, "tail fraction %g",
              beyond_2sd / (double)DRAWS);
    cr_assert_eq(rng.offset, DRAWS);
}

/* ---- programmer errors ---- */

Test(tensor, cpu_kernel_table_matches_the_op_list) {
    tn_backend_check(tn_cpu_backend()); /* returns: a kernel for every op but the views */
    cr_assert_null(tn_cpu_backend()->kernels[TN_OP_RESHAPE]);
    cr_assert_not_null(tn_cpu_backend()->kernels[TN_OP_SIGMOID]);
}

Test(tensor, a_kernel_table_missing_an_op_aborts, .signal = SIGABRT) {
    struct tn_backend partial = *tn_cpu_backend();
    partial.kernels[TN_OP_PDIST] = NULL;
    tn_backend_check(&partial);
}

Test(tensor, matmul_of_mismatched_shapes_aborts, .signal = SIGABRT) {
    struct tn_tensor *a = tn_zeros(TN_CPU, 2, (int64_t[]){2, 3});
    struct tn_tensor *b = tn_zeros(TN_CPU, 2, (int64_t[]){4, 5});
    ag_matmul(a, b);
}

Test(tensor, reshape_to_another_element_count_aborts, .signal = SIGABRT) {
    ag_reshape(tn_zeros(TN_CPU, 2, (int64_t[]){2, 3}), 1, (int64_t[]){7});
}

Test(tensor, slice_out_of_range_aborts, .signal = SIGABRT) {
    ag_slice(tn_zeros(TN_CPU, 1, (int64_t[]){4}), 0, 3, 2);
}

Test(tensor, expand_of_a_non_unit_dim_aborts, .signal = SIGABRT) {
    ag_expand(tn_zeros(TN_CPU, 1, (int64_t[]){3}), 2, (int64_t[]){2, 4});
}

/* tn_move_to_device keeps the handle, makes the data dense on the device and bumps the
 * version; here CPU to CPU, the one device every machine has (tests/test_cuda.c moves to a GPU) */
Test(tensor, move_to_device_keeps_the_handle_and_the_values) {
    float v[6] = {1, 2, 3, 4, 5, 6};
    int64_t shape[2] = {2, 3};
    struct tn_tensor *base = make_tensor(2, shape, v);
    struct tn_tensor *t = tn_keep(ag_transpose(base, 0, 1)); /* a strided leaf view, [3, 2] */
    uint64_t version = t->storage->version;
    struct tn_storage *before = t->storage;
    cr_assert_eq(tn_move_to_device(t, TN_CPU), TN_OK);
    cr_assert(tn_is_contiguous(t));
    cr_assert_neq(t->storage, before, "a strided tensor gets a storage of its own");
    cr_assert_gt(t->storage->version, version);
    float expected[6] = {1, 4, 2, 5, 3, 6};
    assert_close(t, expected, 0, 0);
    tn_release(t);
}

/* tn_copy_into writes through a strided destination view in place (the storage stays, its
 * version is bumped) from a strided source, on one device */
Test(tensor, copy_into_writes_a_strided_view_in_place) {
    float v[6] = {1, 2, 3, 4, 5, 6}, zero[6] = {0};
    int64_t shape[2] = {2, 3}, tshape[2] = {3, 2};
    struct tn_tensor *src = ag_transpose(make_tensor(2, shape, v), 0, 1); /* [3, 2] strided */
    struct tn_tensor *base = make_tensor(2, shape, zero);
    struct tn_tensor *dst = ag_transpose(base, 0, 1);                     /* [3, 2] strided */
    struct tn_storage *storage = base->storage;
    uint64_t version = storage->version;
    tn_copy_into(dst, src);
    cr_assert_eq(base->storage, storage, "the copy made a new storage");
    cr_assert_gt(storage->version, version);
    assert_close(base, v, 0, 0); /* both transposed: base holds src's own layout */
    assert_shape(dst, 2, tshape);
}

/* tn_to_device returns the tensor itself when it is already on the device */
Test(tensor, to_device_on_the_same_device_is_the_same_tensor) {
    int64_t shape[1] = {3};
    struct tn_tensor *t = make_tensor(1, shape, (float[]){1, 2, 3});
    cr_assert_eq(tn_to_device(t, TN_CPU), t);
}

/* the CPU backend has no fused update: nn_optim runs its own loops on CPU tensors, and a
 * direct call says so instead of computing something */
Test(tensor, fused_update_on_the_cpu_aborts, .signal = SIGABRT) {
    int64_t shape[1] = {2};
    struct tn_tensor *p = tn_zeros(TN_CPU, 1, shape), *g = tn_zeros(TN_CPU, 1, shape);
    struct tn_update u = {.kind = TN_UPDATE_SGD, .neg_lr = -0.1f};
    tn_update_apply(&u, p, g, NULL, NULL);
}
