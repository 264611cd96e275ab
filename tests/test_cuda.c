/* test_cuda.c - the CUDA backend against the CPU.
 *
 * Without a GPU: the CUDA kernel table covers every op that is not a view (and every op with
 * a CPU kernel), tn_backend_of reaches it, availability and options are consistent. These
 * read the table without starting CUDA. With a GPU: every case of the op table
 * (tests/helpers/cases_*.c) runs on the CPU and on the device from identical host-made inputs
 * (strided layouts kept) and the forward values, first-order gradients and second-order
 * gradients (of <grad, v> for a random v) must agree by normalised error; plus host copies,
 * fill, TF32 on and off, OOM reporting and the bad-index abort. Those skip themselves, saying why, when no device can be used, as on a build
 * machine. In a build without the backend (GWAE_CUDA=OFF) every test skips.
 */
#define _POSIX_C_SOURCE 200809L /* fork, waitpid */

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers/op_cases.h"
#include "tensor/tn_backend.h"
#include "tensor/tn_cuda.h"

#include <criterion/parameterized.h>

#define NEED_GPU()                                                                   \
    do {                                                                             \
        if (!tn_cuda_available())                                                    \
            cr_skip_test("no CUDA device: %s", tn_cuda_unavailable_reason());        \
    } while (0)

#define GPU TN_CUDA(0)

/* the leak check of test_support.c covers the CPU and device 0 */
LEAK_CHECKED_SUITE(cuda);

/* ---- helpers ---- */

static float *host_copy(const struct tn_tensor *t) {
    float *h = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
    cr_assert(h);
    tn_to_host(t, h);
    return h;
}

/* A device copy of the CPU tensor t with the same values; a transposed input keeps its
 * layout (stored with the last two dims swapped, viewed back), so strided kernels run. */
static struct tn_tensor *to_device(struct tn_tensor *t, bool transposed) {
    float *h = host_copy(t);
    struct tn_tensor *d;
    if (!transposed || t->ndim < 2) {
        d = tn_from_host(GPU, t->ndim, t->shape, h);
    } else {
        int nd = t->ndim;
        int64_t rows = t->shape[nd - 2], cols = t->shape[nd - 1], plane = rows * cols;
        int64_t swapped[TN_MAX_DIMS], strides[TN_MAX_DIMS];
        memcpy(swapped, t->shape, sizeof swapped);
        swapped[nd - 2] = cols;
        swapped[nd - 1] = rows;
        float *s = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
        cr_assert(s);
        for (int64_t p = 0; p < t->numel / (plane ? plane : 1); p++)
            for (int64_t i = 0; i < rows; i++)
                for (int64_t j = 0; j < cols; j++)
                    s[p * plane + j * rows + i] = h[p * plane + i * cols + j];
        struct tn_tensor *base = tn_from_host(GPU, nd, swapped, s);
        free(s);
        memcpy(strides, base->strides, sizeof strides);
        strides[nd - 2] = base->strides[nd - 1];
        strides[nd - 1] = base->strides[nd - 2];
        d = tn_view(base, nd, t->shape, strides, base->offset);
    }
    free(h);
    return tn_set_requires_grad(d, t->requires_grad);
}

/* max |got - want| / max(1, max |want|), NaN and infinities matching exactly or failing. */
static void assert_close_normalised(const struct tn_tensor *want_t, const struct tn_tensor *got_t,
                                    double tol, const char *what) {
    cr_assert(tn_same_shape(want_t, got_t), "%s: shapes differ", what);
    float *want = host_copy(want_t), *got = host_copy(got_t);
    double scale = 1.0, worst = 0.0;
    int64_t worst_at = -1;
    for (int64_t i = 0; i < want_t->numel; i++)
        if (isfinite(want[i]) && fabs(want[i]) > scale) scale = fabs(want[i]);
    for (int64_t i = 0; i < want_t->numel; i++) {
        bool same_special = (isnan(want[i]) && isnan(got[i])) ||
                            (isinf(want[i]) && want[i] == got[i]);
        double err = same_special ? 0.0
                     : (isfinite(want[i]) && isfinite(got[i])) ? fabs((double)got[i] - want[i])
                                                               : INFINITY;
        if (err > worst) {
            worst = err;
            worst_at = i;
        }
    }
    float w = worst_at >= 0 ? want[worst_at] : 0.0f, g = worst_at >= 0 ? got[worst_at] : 0.0f;
    free(want);
    free(got);
    cr_assert(worst / scale <= tol,
              "%s: normalised error %.3g > %.3g (element %lld: cuda %.8g, cpu %.8g)", what,
              worst / scale, tol, (long long)worst_at, (double)g, (double)w);
}

static bool on_gpu(const struct tn_tensor *t) { return t->storage->device.type == TN_DEVICE_CUDA; }

/* ---- without a device ---- */

/* Every op that is not a view has a CUDA kernel, and so does every op with a CPU kernel. */
Test(cuda, kernel_table_covers_every_op) {
#ifdef GWAE_HAVE_CUDA
    const struct tn_backend *cuda = tn_cuda_backend(), *cpu = tn_cpu_backend();
    cr_assert_eq(cuda->type, TN_DEVICE_CUDA);
    cr_assert(cuda->copy_from_host && cuda->copy_to_host && cuda->fill);
    int missing = 0;
#define CHECK_OP(name, n, flags, extra)                                              \
    if (!((flags) & TN_OPF_VIEW) && !cuda->kernels[TN_OP_##name]) {                  \
        cr_log_error("op %s has no CUDA kernel", #name);                             \
        missing++;                                                                   \
    }
    TN_OP_LIST(CHECK_OP)
#undef CHECK_OP
    for (int op = 0; op < TN_OP_COUNT; op++) {
        if (cpu->kernels[op] && !cuda->kernels[op]) {
            cr_log_error("op %s has a CPU kernel but no CUDA kernel", tn_op_name(op));
            missing++;
        }
        if ((tn_op_info(op)->flags & TN_OPF_VIEW) && cuda->kernels[op])
            cr_log_error("view op %s has a CUDA kernel that never runs", tn_op_name(op));
    }
    cr_assert_eq(missing, 0, "%d ops lack a CUDA kernel (see the log above)", missing);
#else
    cr_skip_test("the CUDA backend is not built (configure with -DGWAE_CUDA=ON)");
#endif
}

Test(cuda, backend_of_cuda_is_the_cuda_table) {
#ifdef GWAE_HAVE_CUDA
    cr_assert_eq(tn_backend_of(TN_DEVICE_CUDA), tn_cuda_backend());
    cr_assert_str_eq(tn_backend_of(TN_DEVICE_CUDA)->name, "cuda");
#else
    cr_skip_test("the CUDA backend is not built (configure with -DGWAE_CUDA=ON)");
#endif
}

Test(cuda, availability_is_consistent) {
    int n = tn_cuda_device_count();
    cr_assert(n >= 0);
    cr_assert_eq(tn_cuda_available(), n > 0);
    if (n == 0) cr_assert(strlen(tn_cuda_unavailable_reason()) > 0, "no device, yet no reason");
    else cr_assert_str_eq(tn_cuda_unavailable_reason(), "");
}

Test(cuda, options_can_be_set_and_read) {
#ifdef GWAE_HAVE_CUDA
    bool tf32 = tn_cuda_tf32(), det = tn_cuda_deterministic(), sync = tn_cuda_sync();
    tn_cuda_set_tf32(!tf32);
    tn_cuda_set_deterministic(!det);
    tn_cuda_set_sync(!sync);
    cr_assert(tn_cuda_tf32() == !tf32 && tn_cuda_deterministic() == !det &&
              tn_cuda_sync() == !sync);
    tn_cuda_set_tf32(tf32);
    tn_cuda_set_deterministic(det);
    tn_cuda_set_sync(sync);
#else
    cr_skip_test("the CUDA backend is not built (configure with -DGWAE_CUDA=ON)");
#endif
}

/* ---- on a device: every op case against the CPU ---- */

static double forward_tolerance(const struct op_case *c) {
    double tol = c->atol > c->rtol ? c->atol : c->rtol;
    return tol > 1e-4 ? tol : 1e-4;
}

ParameterizedTestParameters(cuda, forward_matches_cpu) {
    size_t n;
    int *cases = op_case_indices(&n);
    return cr_make_param_array(int, cases, n, op_case_free_indices);
}

ParameterizedTest(int *index, cuda, forward_matches_cpu) {
    NEED_GPU();
    const struct op_case *c = op_case_at(index);
    if (!(c->checks & CHECK_FORWARD)) cr_skip_test("%s: no forward check", c->name);
    tn_cuda_set_deterministic(true);
    struct tn_rng rng = tn_rng_new(7);
    struct tn_tensor *in[4], *dev[4];
    op_case_inputs(c, &rng, in);
    for (int i = 0; i < c->n_inputs; i++) dev[i] = to_device(in[i], c->in[i].kind == IN_TRANSPOSED);
    struct tn_tensor *want = c->apply(in, NULL);
    struct tn_tensor *got = c->apply(dev, NULL);
    cr_assert(on_gpu(got), "%s: the result is not on the device", c->name);
    assert_close_normalised(want, got, forward_tolerance(c), c->name);
}

ParameterizedTestParameters(cuda, gradient_matches_cpu) {
    size_t n;
    int *cases = op_case_indices(&n);
    return cr_make_param_array(int, cases, n, op_case_free_indices);
}

/* The gradients of <f(inputs), w> for a random w, on both devices. */
ParameterizedTest(int *index, cuda, gradient_matches_cpu) {
    NEED_GPU();
    const struct op_case *c = op_case_at(index);
    if (!(c->checks & CHECK_GRAD)) cr_skip_test("%s: not differentiable", c->name);
    tn_cuda_set_deterministic(true);
    struct tn_rng rng = tn_rng_new(11);
    struct tn_tensor *in[4], *dev[4], *wrt_cpu[4], *wrt_gpu[4], *g_cpu[4], *g_gpu[4];
    op_case_inputs(c, &rng, in);
    int n_wrt = 0;
    for (int i = 0; i < c->n_inputs; i++) {
        dev[i] = to_device(in[i], c->in[i].kind == IN_TRANSPOSED);
        if (c->in[i].grad) {
            wrt_cpu[n_wrt] = in[i];
            wrt_gpu[n_wrt++] = dev[i];
        }
    }
    struct tn_tensor *out_cpu = c->apply(in, NULL), *out_gpu = c->apply(dev, NULL);
    float *w = malloc((size_t)(out_cpu->numel ? out_cpu->numel : 1) * sizeof(float));
    cr_assert(w);
    tn_rng_normal_host(&rng, w, out_cpu->numel);
    struct tn_tensor *w_cpu = tn_from_host(TN_CPU, out_cpu->ndim, out_cpu->shape, w);
    struct tn_tensor *w_gpu = tn_from_host(GPU, out_cpu->ndim, out_cpu->shape, w);
    free(w);
    ag_grad(1, &out_cpu, &w_cpu, n_wrt, wrt_cpu, g_cpu, 0);
    ag_grad(1, &out_gpu, &w_gpu, n_wrt, wrt_gpu, g_gpu, 0);
    for (int k = 0; k < n_wrt; k++) {
        cr_assert(on_gpu(g_gpu[k]), "%s: gradient %d is not on the device", c->name, k);
        assert_close_normalised(g_cpu[k], g_gpu[k], 1e-4, c->name);
    }
}

ParameterizedTestParameters(cuda, second_order_matches_cpu) {
    size_t n;
    int *cases = op_case_indices(&n);
    return cr_make_param_array(int, cases, n, op_case_free_indices);
}

/* Random host values shaped like t, on device. */
static struct tn_tensor *random_like(struct tn_rng *rng, const struct tn_tensor *t,
                                     struct tn_device device) {
    float *h = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
    cr_assert(h);
    tn_rng_normal_host(rng, h, t->numel);
    struct tn_tensor *out = tn_from_host(device, t->ndim, t->shape, h);
    free(h);
    return out;
}

/* Second order: g = d<f(x), w>/dx recorded (AG_CREATE_GRAPH), then d(sum_k <g_k, v_k>)/dx,
 * with the same random w and v on both devices. */
ParameterizedTest(int *index, cuda, second_order_matches_cpu) {
    NEED_GPU();
    const struct op_case *c = op_case_at(index);
    if (!(c->checks & CHECK_GRADGRAD)) cr_skip_test("%s: no second-order check", c->name);
    tn_cuda_set_deterministic(true);
    struct tn_rng rng = tn_rng_new(17);
    struct tn_tensor *in[4], *dev[4], *wrt[2][4], *g[2][4], *h[2][4], *v[2][4];
    op_case_inputs(c, &rng, in);
    int n_wrt = 0;
    for (int i = 0; i < c->n_inputs; i++) {
        dev[i] = to_device(in[i], c->in[i].kind == IN_TRANSPOSED);
        if (c->in[i].grad) {
            wrt[0][n_wrt] = in[i];
            wrt[1][n_wrt++] = dev[i];
        }
    }
    struct tn_tensor *out[2] = {c->apply(in, NULL), c->apply(dev, NULL)};
    struct tn_rng draws = tn_rng_new(19);
    struct tn_tensor *w_cpu = random_like(&draws, out[0], TN_CPU);
    struct tn_tensor *w[2] = {w_cpu, to_device(w_cpu, false)};
    for (int k = 0; k < n_wrt; k++) {
        v[0][k] = random_like(&draws, wrt[0][k], TN_CPU);
        v[1][k] = to_device(v[0][k], false);
    }
    for (int d = 0; d < 2; d++) {
        ag_grad(1, &out[d], &w[d], n_wrt, wrt[d], g[d], AG_CREATE_GRAPH);
        ag_grad(n_wrt, g[d], v[d], n_wrt, wrt[d], h[d], 0);
    }
    for (int k = 0; k < n_wrt; k++) {
        cr_assert(on_gpu(h[1][k]), "%s: second-order gradient %d is not on the device", c->name, k);
        assert_close_normalised(h[0][k], h[1][k], 1e-4, c->name);
    }
}

/* ---- on a device: memory, copies, options, errors ---- */

Test(cuda, host_copies_fill_and_strided_reads) {
    NEED_GPU();
    float v[6] = {1, 2, 3, 4, 5, 6}, back[6];
    int64_t shape[2] = {2, 3};
    struct tn_tensor *t = tn_from_host(GPU, 2, shape, v);
    tn_to_host(t, back);
    cr_assert_arr_eq(back, v, sizeof v);
    int64_t tshape[2] = {3, 2}, tstrides[2] = {1, 3};
    tn_to_host(tn_view(t, 2, tshape, tstrides, 0), back); /* through the CONTIGUOUS kernel */
    float want[6] = {1, 4, 2, 5, 3, 6};
    cr_assert_arr_eq(back, want, sizeof want);
    cr_assert_float_eq(tn_item(tn_full(GPU, 0, NULL, 2.5f)), 2.5f, 0.0f);
    float w[6] = {6, 5, 4, 3, 2, 1};
    tn_write_host(t, w);
    tn_to_host(t, back);
    cr_assert_arr_eq(back, w, sizeof w);
}

/* tn_write_host into a strided device view, tn_copy_into between devices and on the device,
 * and tn_to_device, each checked through a host read */
Test(cuda, strided_writes_and_copies_between_devices) {
    NEED_GPU();
    float v[6] = {1, 2, 3, 4, 5, 6}, back[6];
    int64_t shape[2] = {2, 3}, tshape[2] = {3, 2}, tstrides[2] = {1, 3};
    struct tn_tensor *t = tn_zeros(GPU, 2, shape);
    tn_write_host(tn_view(t, 2, tshape, tstrides, 0), v); /* the transpose of t gets v */
    tn_to_host(t, back);
    float want[6] = {1, 3, 5, 2, 4, 6};
    cr_assert_arr_eq(back, want, sizeof want);
    struct tn_tensor *cpu = tn_zeros(TN_CPU, 2, shape);
    tn_copy_into(cpu, t); /* device to host */
    tn_to_host(cpu, back);
    cr_assert_arr_eq(back, want, sizeof want);
    struct tn_tensor *d = tn_to_device(make_tensor(2, shape, v), GPU);
    cr_assert(on_gpu(d));
    tn_copy_into(t, d); /* on the device */
    tn_to_host(t, back);
    cr_assert_arr_eq(back, v, sizeof v);
}

Test(cuda, matmul_tf32_is_opt_in) {
    NEED_GPU();
    struct tn_rng rng = tn_rng_new(3);
    int64_t shape[2] = {256, 256};
    struct tn_tensor *a = make_random(&rng, 2, shape, -1, 1), *b = make_random(&rng, 2, shape, -1, 1);
    struct tn_tensor *in[2] = {a, b}, *dev[2] = {to_device(a, false), to_device(b, false)};
    struct tn_op_params p = {0};
    struct tn_tensor *want = tn_op_run(TN_OP_MATMUL, 2, in, &p);
    bool tf32 = tn_cuda_tf32();
    tn_cuda_set_tf32(false);
    assert_close_normalised(want, tn_op_run(TN_OP_MATMUL, 2, dev, &p), 1e-5, "fp32 matmul");
    tn_cuda_set_tf32(true);
    assert_close_normalised(want, tn_op_run(TN_OP_MATMUL, 2, dev, &p), 2e-2, "tf32 matmul");
    tn_cuda_set_tf32(tf32);
}

Test(cuda, out_of_memory_is_reported_with_sizes) {
    NEED_GPU();
    size_t free_b, total_b;
    cr_assert_eq(tn_cuda_mem_info(0, &free_b, &total_b), TN_OK, "%s", tn_last_error());
    int64_t small = 1024;
    tn_scope_begin();
    tn_empty(GPU, 1, &small); /* released at scope end: a cached block */
    tn_scope_end();
    cr_assert(tn_mem_stats(GPU).bytes_cached > 0);
    int64_t huge = (int64_t)(total_b / sizeof(float)) * 4; /* four times the device */
    struct tn_tensor *t = NULL;
    enum tn_status st = tn_try_empty(GPU, 1, &huge, &t);
    cr_assert_eq(st, TN_ERR_OOM, "got %s", tn_status_name(st));
    cr_assert_null(t);
    cr_assert(strstr(tn_last_error(), "requested") && strstr(tn_last_error(), "in use"),
              "message lacks sizes: %s", tn_last_error());
    cr_assert(strstr(tn_cuda_last_alloc_failure(), "cudaMalloc"), "no CUDA reason: %s",
              tn_cuda_last_alloc_failure());
    cr_assert_eq(tn_mem_stats(GPU).bytes_cached, 0, "the cache was not emptied before the retry");
}

/* A bad index is never used to address memory; the host aborts naming the op. The op runs in
 * a child process that alone touches CUDA (a process must not use CUDA after a fork if its
 * parent did), so that without a device the test can skip instead of expecting an abort. */
Test(cuda, gather_with_a_bad_index_aborts) {
    int fds[2];
    cr_assert_eq(pipe(fds), 0, "pipe failed");
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork failed");
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO); /* the abort message goes to the parent */
        if (!tn_cuda_available()) _exit(77);
        tn_cuda_set_sync(true);
        tn_scope_begin();
        float x[4] = {1, 2, 3, 4}, idx[2] = {1, 7};
        int64_t xs[1] = {4}, is[1] = {2};
        struct tn_tensor *in[2] = {tn_from_host(GPU, 1, xs, x), tn_from_host(GPU, 1, is, idx)};
        struct tn_op_params p = {.axis = 0};
        tn_op_run(TN_OP_GATHER, 2, in, &p);
        _exit(0); /* not reached when the index is caught */
    }
    close(fds[1]);
    char message[1024] = "";
    size_t used = 0;
    ssize_t got;
    while (used + 1 < sizeof message &&
           (got = read(fds[0], message + used, sizeof message - 1 - used)) > 0)
        used += (size_t)got;
    message[used] = '\0';
    close(fds[0]);
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
        cr_skip_test("no CUDA device: %s", tn_cuda_unavailable_reason());
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
              "a GATHER index out of range did not abort (status 0x%x)", status);
    cr_assert(strstr(message, "GATHER") && strstr(message, "out of range"),
              "the abort does not name the op and the index: %s", message);
}

/* ag_to_device is an op with a rule: a loss computed on the GPU from x on the CPU gives x a
 * gradient on the CPU, and the gradient of that gradient crosses back as well. */
Test(cuda, to_device_carries_gradients_across_devices) {
    NEED_GPU();
    float xv[3] = {1.0f, -2.0f, 0.5f};
    int64_t shape[1] = {3};
    struct tn_tensor *x = tn_set_requires_grad(tn_from_host(TN_CPU, 1, shape, xv), true);
    struct tn_tensor *on_gpu = ag_to_device(x, GPU);
    cr_assert(on_gpu->storage->device.type == TN_DEVICE_CUDA);
    struct tn_tensor *loss = ag_sum_all(ag_pow_scalar(on_gpu, 3.0f)); /* sum x^3 */
    struct tn_tensor *g;
    ag_grad(1, &loss, NULL, 1, &x, &g, AG_CREATE_GRAPH);
    cr_assert(g->storage->device.type == TN_DEVICE_CPU, "dL/dx is not on x's device");
    float gh[3], hh[3];
    tn_to_host(g, gh);
    for (int i = 0; i < 3; i++) cr_assert_float_eq(gh[i], 3.0f * xv[i] * xv[i], 1e-5f);
    struct tn_tensor *h;
    struct tn_tensor *gsum = ag_sum_all(g); /* d/dx sum 3x^2 = 6x */
    ag_grad(1, &gsum, NULL, 1, &x, &h, 0);
    tn_to_host(h, hh);
    for (int i = 0; i < 3; i++) cr_assert_float_eq(hh[i], 6.0f * xv[i], 1e-5f);
}
