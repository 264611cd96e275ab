/* cpu_elementwise.c - the CPU kernel of every elementwise op, compiled from the formulas of
 * the op list (tn_op_list.h): this file holds the loops, not the formulas.
 *
 * Every op runs the same loop: the plan of cpu_loop.c cut into pieces of at most CHUNK
 * elements of one row, spread over the OpenMP threads. The row body is instantiated once per
 * op by a macro, with stride-1 paths the compiler vectorises and a strided path.
 */
#include <math.h>

#include "../tn_elementwise.h"
#include "cpu_internal.h"

#define CHUNK 16384

/* Runs BODY(o, a, b, c, n, so, sa, sb, sc) over pieces of the loop. */
#define FOR_EACH_PIECE(loop, BODY)                                                         \
    do {                                                                                   \
        int64_t rows_ = cpu_loop_rows(&(loop)), len_ = cpu_loop_row_length(&(loop));       \
        int64_t per_row_ = (len_ + CHUNK - 1) / CHUNK, pieces_ = rows_ * per_row_;         \
        int last_ = (loop).ndim - 1;                                                       \
        int64_t so = (loop).strides[0][last_], sa = (loop).strides[1][last_];              \
        int64_t sb = (loop).n_operands > 2 ? (loop).strides[2][last_] : 0;                 \
        int64_t sc = (loop).n_operands > 3 ? (loop).strides[3][last_] : 0;                 \
        CPU_PARALLEL_FOR(rows_ * len_ >= CPU_PARALLEL_MIN && pieces_ > 1, p_, pieces_,      \
            int64_t off_[CPU_MAX_OPERANDS] = {0};                                          \
            cpu_loop_row_offsets(&(loop), p_ / per_row_, off_);                            \
            int64_t start_ = (p_ % per_row_) * CHUNK;                                      \
            int64_t n = len_ - start_ < CHUNK ? len_ - start_ : CHUNK;                     \
            float *o = (loop).base[0] + off_[0] + start_ * so;                             \
            const float *a = (loop).base[1] + off_[1] + start_ * sa;                       \
            const float *b = (loop).n_operands > 2 ? (loop).base[2] + off_[2] + start_ * sb \
                                                   : NULL;                                 \
            const float *c = (loop).n_operands > 3 ? (loop).base[3] + off_[3] + start_ * sc \
                                                   : NULL;                                 \
            (void)b;                                                                       \
            (void)c;                                                                       \
            BODY;);                                                                        \
    } while (0)

/* out[j] = EXPR(x, y) over one piece, with a dense path. */
#define BINARY_BODY(EXPR)                                                                  \
    if (so == 1 && sa == 1 && sb == 1) {                                                   \
        for (int64_t j = 0; j < n; j++) { float x = a[j], y = b[j]; o[j] = (EXPR); }       \
    } else if (so == 1 && sa == 1 && sb == 0) {                                            \
        float y = b[0];                                                                    \
        for (int64_t j = 0; j < n; j++) { float x = a[j]; o[j] = (EXPR); }                 \
    } else {                                                                               \
        for (int64_t j = 0; j < n; j++) { float x = a[j * sa], y = b[j * sb]; o[j * so] = (EXPR); } \
    }

/* out[j] = EXPR(x) over one piece, with a dense path. */
#define UNARY_BODY(EXPR)                                                                   \
    if (so == 1 && sa == 1) {                                                              \
        for (int64_t j = 0; j < n; j++) { float x = a[j]; o[j] = (EXPR); }                 \
    } else {                                                                               \
        for (int64_t j = 0; j < n; j++) { float x = a[j * sa]; o[j * so] = (EXPR); }       \
    }

/* out[j] = EXPR(x, y, z) over one piece. */
#define TERNARY_BODY(EXPR)                                                                 \
    for (int64_t j = 0; j < n; j++) {                                                      \
        float x = a[j * sa], y = b[j * sb], z = c[j * sc];                                 \
        o[j * so] = (EXPR);                                                                \
    }

#define BODY_1 UNARY_BODY
#define BODY_2 BINARY_BODY
#define BODY_3 TERNARY_BODY

void cpu_kernel_elementwise(const struct tn_kernel_args *args) {
    struct cpu_loop loop;
    cpu_loop_init(&loop, args->out, args->n_inputs, args->in);
    const float s0 = args->params->scalar[0], s1 = args->params->scalar[1];
    switch (args->op) {
#define CASE(name, n, flags, formula)                                                      \
    case TN_OP_##name: FOR_EACH_PIECE(loop, BODY_##n(formula)); break;
        TN_OP_LIST_ELEMENTWISE(CASE)
#undef CASE
    default: TN_FATAL(tn_op_name(args->op), "not an elementwise op");
    }
}
