/* cpu_internal.h - shared pieces of the CPU kernels: the strided loop plan and the kernel
 * declarations that cpu_backend.c puts in its table. Not a public header.
 */
#ifndef CPU_INTERNAL_H
#define CPU_INTERNAL_H

#include "../tn_backend.h"

#define CPU_MAX_OPERANDS 4

/* Elements below which a loop stays on one thread (a parallel region costs microseconds). */
#define CPU_PARALLEL_MIN 32768

/* for (int64_t VAR = 0; VAR < N; VAR++) { ... } on the OpenMP threads when COND holds, else
 * inline. An `if` clause that is false still calls into the OpenMP runtime, which builds a
 * team of one: a GWAE training iteration made ~36,000 such calls before this macro. */
#define CPU_PARALLEL_FOR(COND, VAR, N, ...)                                                 \
    do {                                                                                    \
        if (COND) {                                                                         \
            _Pragma("omp parallel for schedule(static)")                                    \
            for (int64_t VAR = 0; VAR < (N); VAR++) { __VA_ARGS__ }                         \
        } else {                                                                            \
            for (int64_t VAR = 0; VAR < (N); VAR++) { __VA_ARGS__ }                         \
        }                                                                                   \
    } while (0)

/* A loop over an output shape with each operand's strides broadcast to it (stride 0 on
 * broadcast dims), size-1 dims dropped and adjacent dims merged where every operand allows.
 * Operand 0 is the output. The innermost dim is the one loops run over. */
struct cpu_loop {
    int ndim;
    int n_operands;
    int64_t shape[TN_MAX_DIMS];
    int64_t strides[CPU_MAX_OPERANDS][TN_MAX_DIMS];
    float *base[CPU_MAX_OPERANDS];
};

/* Multiply-adds from which cpu_sgemm splits one product over the threads. */
#define CPU_SGEMM_SPLIT_MIN 4e6

/* Row-major C [m, n] = op(A) op(B) + beta C, op = transpose when ta / tb (cblas_sgemm's
 * arguments). Outside a parallel region a product of CPU_SGEMM_SPLIT_MIN multiply-adds or
 * more is split in row or column blocks over the OpenMP threads, one-thread sgemm each. */
void cpu_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
               const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* Runs fn(ctx) on a team of nt OpenMP threads, or directly on this thread when nt is 1;
 * worksharing loops in fn bind to that team or run whole. A team of one would still be a
 * parallel region, and a region or an OpenBLAS call inside it is then nested: libgomp starts
 * fresh threads for nested teams (the conv chunks made 200 per GWAE iteration that way). */
void cpu_in_team(int nt, void (*fn)(void *), void *ctx);

/* Builds the loop of out and the n inputs broadcast to out's shape. */
void cpu_loop_init(struct cpu_loop *loop, struct tn_tensor *out, int n,
                   struct tn_tensor *const *in);

/* Element offsets of each operand at the start of row `row` (rows = all dims but the last). */
void cpu_loop_row_offsets(const struct cpu_loop *loop, int64_t row, int64_t *offsets);

/* Number of rows and the row length of a loop. */
int64_t cpu_loop_rows(const struct cpu_loop *loop);
int64_t cpu_loop_row_length(const struct cpu_loop *loop);

/* t itself when contiguous, else a dense copy of it owned by the open scope. */
struct tn_tensor *cpu_dense(struct tn_tensor *t);

/* Copies src (any strides) into dst (any strides) of the same shape. */
void cpu_copy_strided(struct tn_tensor *dst, const struct tn_tensor *src);

/* Kernels, one per op family file. */
/* every op of TN_OP_LIST_ELEMENTWISE */
void cpu_kernel_elementwise(const struct tn_kernel_args *a);
void cpu_kernel_reduce(const struct tn_kernel_args *a);
void cpu_kernel_argmax(const struct tn_kernel_args *a);
void cpu_kernel_matmul(const struct tn_kernel_args *a);
void cpu_kernel_contiguous(const struct tn_kernel_args *a);
void cpu_kernel_unslice(const struct tn_kernel_args *a);
void cpu_kernel_concat(const struct tn_kernel_args *a);
void cpu_kernel_pad(const struct tn_kernel_args *a);
void cpu_kernel_pad_adjoint(const struct tn_kernel_args *a);
void cpu_kernel_conv2d(const struct tn_kernel_args *a);
void cpu_kernel_conv2d_grad_input(const struct tn_kernel_args *a);
void cpu_kernel_conv2d_grad_weight(const struct tn_kernel_args *a);
void cpu_kernel_gather(const struct tn_kernel_args *a);
void cpu_kernel_scatter_add(const struct tn_kernel_args *a);
void cpu_kernel_argsort(const struct tn_kernel_args *a);
void cpu_kernel_pdist(const struct tn_kernel_args *a);

/* Runs a conv op (x of x_shape, w of w_shape) on the taps that meet the image when the others
 * never do (cpu_conv_trim.c); false when it does not apply and nothing was done. */
bool cpu_conv_trim(const struct tn_kernel_args *a, const int64_t *x_shape, const int64_t *w_shape);

#endif
