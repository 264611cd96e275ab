/* cpu_conv.c - CPU kernels of CONV2D and its two gradients (NCHW, groups, stride, zero
 * padding, dilation): the entry, the choice of path, and the im2col/sgemm path.
 *
 * im2col and sgemm: with the column matrix col [C*kh*kw, P] (P = Ho*Wo; row (c, i, j) holds
 * the pixels that tap (i, j) of channel c sees), per image and group
 *   y[n] = W x col,   dx[n] = col2im(W^T x gy[n]) (taps added back),   dW += gy[n] x col^T.
 * Images go in chunks of B, a chunk's col being [C*kh*kw, B*P], so small maps make one wide
 * product. Chunks run on OpenMP threads with buffers of their own (OpenBLAS then runs each
 * sgemm on one thread); with fewer chunks than threads, cpu_sgemm splits each product over
 * the threads. 1x1 kernels with stride 1 and no padding use x[n] as its own column matrix.
 * The direct path is in cpu_conv_direct.c, the cut of padding-only taps in cpu_conv_trim.c.
 */
#include "cpu_conv.h"

#define COLS_TARGET 256           /* columns per chunk below which images are batched */
#define COL_MAX_FLOATS (1 << 20)  /* cap on a batched chunk's column matrix (4 MiB) */

/* Fills cv from x's shape [N,C,H,W], w's shape [K,C/g,kh,kw] and the geometry. */
static void conv_init(struct conv *cv, const int64_t *xs, const int64_t *ws,
                      const struct tn_conv_geom *geom) {
    *cv = (struct conv){.n = xs[0], .c = xs[1], .h = xs[2], .w = xs[3], .k = ws[0],
                        .kh = ws[2], .kw = ws[3], .sh = geom->stride[0], .sw = geom->stride[1],
                        .ph = geom->padding[0], .pw = geom->padding[1],
                        .dh = geom->dilation[0], .dw = geom->dilation[1], .g = geom->groups};
    cv->ho = tn_conv_out_size(cv->h, (int)cv->kh, (int)cv->sh, (int)cv->ph, (int)cv->dh);
    cv->wo = tn_conv_out_size(cv->w, (int)cv->kw, (int)cv->sw, (int)cv->pw, (int)cv->dw);
    cv->kg = cv->k / cv->g;
    cv->rg = ws[1] * cv->kh * cv->kw;
    cv->hw = cv->h * cv->w;
    cv->p = cv->ho * cv->wo;
    cv->u0 = (cv->kh - 1) * cv->dh / cv->sh;
    cv->v0 = (cv->kw - 1) * cv->dw / cv->sw;
    cv->pointwise = cv->kh == 1 && cv->kw == 1 && cv->sh == 1 && cv->sw == 1 && cv->ph == 0 &&
                    cv->pw == 0;
    int64_t rows = cv->g * cv->rg, b = 1;
    if (cv->p < COLS_TARGET) b = (COLS_TARGET + cv->p - 1) / cv->p;
    if (b > 1 && rows * b * cv->p > COL_MAX_FLOATS) b = COL_MAX_FLOATS / (rows * cv->p);
    if (b > cv->n) b = cv->n;
    if (b < 1) b = 1;
    cv->batch = b;
    cv->chunks = (cv->n + b - 1) / b;
    int t = omp_get_max_threads();
    double flops = (double)cv->n * (double)cv->k * (double)cv->p * (double)cv->rg;
    cv->threads = t > 1 && cv->chunks >= t && flops >= PARALLEL_MIN_FLOPS ? t : 1;
}

/* col [C*kh*kw, nb*P] from x [nb, C, H, W]: rows (c, i, j), columns (b, oh, ow). */
static void im2col(const struct conv *cv, const float *x, int64_t nb, float *col, bool par) {
    int64_t taps = cv->kh * cv->kw, rows = cv->g * cv->rg, cols = nb * cv->p, wo = cv->wo;
    CPU_PARALLEL_FOR(par, r, rows,
        int64_t c = r / taps, i = r % taps / cv->kw, j = r % cv->kw;
        int64_t ylo, yhi, xlo, xhi;
        valid_range(cv->ho, cv->h, cv->sh, cv->ph, i * cv->dh, &ylo, &yhi);
        valid_range(wo, cv->w, cv->sw, cv->pw, j * cv->dw, &xlo, &xhi);
        for (int64_t b = 0; b < nb; b++) {
            const float *xc = x + (b * cv->c + c) * cv->hw;
            float *d = col + r * cols + b * cv->p;
            memset(d, 0, sizeof(float) * (size_t)(ylo * wo));
            for (int64_t oh = ylo; oh < yhi; oh++)
                copy_row(d + oh * wo, wo, xc + (oh * cv->sh - cv->ph + i * cv->dh) * cv->w,
                         xlo, xhi, cv->sw, j * cv->dw - cv->pw);
            memset(d + yhi * wo, 0, sizeof(float) * (size_t)((cv->ho - yhi) * wo));
        });
}

/* dx [nb, C, H, W] = col2im(col [C*kh*kw, nb*P]): every tap added back to its pixel. */
static void col2im(const struct conv *cv, const float *col, int64_t nb, float *dx, bool par) {
    int64_t cols = nb * cv->p, wo = cv->wo;
    CPU_PARALLEL_FOR(par, bc, nb * cv->c,
        int64_t b = bc / cv->c, c = bc % cv->c;
        float *xc = dx + bc * cv->hw;
        memset(xc, 0, sizeof(float) * (size_t)cv->hw);
        for (int64_t i = 0; i < cv->kh; i++) {
            int64_t ylo, yhi;
            valid_range(cv->ho, cv->h, cv->sh, cv->ph, i * cv->dh, &ylo, &yhi);
            for (int64_t j = 0; j < cv->kw; j++) {
                int64_t xlo, xhi, base = j * cv->dw - cv->pw;
                valid_range(wo, cv->w, cv->sw, cv->pw, j * cv->dw, &xlo, &xhi);
                const float *s = col + ((c * cv->kh + i) * cv->kw + j) * cols + b * cv->p;
                for (int64_t oh = ylo; oh < yhi; oh++) {
                    float *dr = xc + (oh * cv->sh - cv->ph + i * cv->dh) * cv->w;
                    const float *sr = s + oh * wo;
                    if (cv->sw == 1)
                        for (int64_t ow = xlo; ow < xhi; ow++) dr[ow + base] += sr[ow];
                    else
                        for (int64_t ow = xlo; ow < xhi; ow++) dr[ow * cv->sw + base] += sr[ow];
                }
            }
        });
}

/* stage [K, nb*P] <- t [nb, K, P] (to_stage) or back, for a chunk of nb > 1 images. */
static void restage(const struct conv *cv, float *t, float *stage, int64_t nb, bool to_stage) {
    int64_t p = cv->p, cols = nb * p;
    for (int64_t k = 0; k < cv->k; k++)
        for (int64_t b = 0; b < nb; b++) {
            float *a = t + (b * cv->k + k) * p, *s = stage + k * cols + b * p;
            if (to_stage) memcpy(s, a, sizeof(float) * (size_t)p);
            else memcpy(a, s, sizeof(float) * (size_t)p);
        }
}

/* One chunk of nb images of op (a, b and out at the chunk's data, as in run_chunks): the
 * sgemm of each group on the chunk's col [G*rg, nb*P], with gy or y staged as [K, nb*P]. */
static void run_chunk(const struct conv *cv, enum tn_op op, float *a, float *b, float *out,
                      float beta, int64_t nb, float *col, float *stage, bool par) {
    int cols = (int)(nb * cv->p), kg = (int)cv->kg, rg = (int)cv->rg;
    bool own = cv->pointwise && nb == 1; /* x is its own col */
    float *gy = op == TN_OP_CONV2D_GRAD_INPUT ? a : b, *x = a;
    if (op != TN_OP_CONV2D && nb > 1) {
        restage(cv, gy, stage, nb, true);
        gy = stage;
    }
    if (op != TN_OP_CONV2D_GRAD_INPUT && !own) {
        im2col(cv, a, nb, col, par);
        x = col;
    }
    for (int64_t g = 0; g < cv->g; g++) {
        if (op == TN_OP_CONV2D) /* y = W x col */
            cpu_sgemm(false, false, kg, cols, rg, b + g * kg * rg, rg, x + g * rg * cols, cols,
                      0.0f, (nb > 1 ? stage : out) + g * kg * cols, cols);
        else if (op == TN_OP_CONV2D_GRAD_INPUT) /* col = W^T x gy */
            cpu_sgemm(true, false, rg, cols, kg, b + g * kg * rg, rg, gy + g * kg * cols, cols,
                      0.0f, (own ? out : col) + g * rg * cols, cols);
        else /* dW = beta dW + gy x col^T */
            cpu_sgemm(false, true, kg, rg, cols, gy + g * kg * cols, cols, x + g * rg * cols,
                      cols, beta, out + g * kg * rg, rg);
    }
    if (op == TN_OP_CONV2D && nb > 1) restage(cv, out, stage, nb, false);
    if (op == TN_OP_CONV2D_GRAD_INPUT && !own) col2im(cv, col, nb, out, par);
}

/* What each thread of run_chunks needs: the operands and the per-thread scratch. */
struct chunk_team {
    const struct conv *cv;
    enum tn_op op;
    float *a, *b, *out;
    float *cols, *stages, *partial;
    int64_t col_n, stage_n, dw_n;
    int nt;
};

/* One thread's share of the chunks (all of them when run without a team). */
static void chunks_in_team(void *arg) {
    const struct chunk_team *c = arg;
    const struct conv *cv = c->cv;
    int64_t in_img = cv->c * cv->hw, out_img = cv->k * cv->p;
    /* alone, im2col and sgemm may use the threads themselves */
    bool par = c->nt == 1 && !omp_in_parallel();
    float *col = piece(c->cols, c->col_n, false), *stage = piece(c->stages, c->stage_n, false);
    float *acc = omp_get_thread_num() == 0 ? c->out : piece(c->partial, c->dw_n, false);
    bool first = true;
#pragma omp for schedule(static)
    for (int64_t ch = 0; ch < cv->chunks; ch++) {
        int64_t n0 = ch * cv->batch, nb = cv->n - n0 < cv->batch ? cv->n - n0 : cv->batch;
        if (c->op == TN_OP_CONV2D)
            run_chunk(cv, c->op, c->a + n0 * in_img, c->b, c->out + n0 * out_img, 0, nb, col,
                      stage, par);
        else if (c->op == TN_OP_CONV2D_GRAD_INPUT)
            run_chunk(cv, c->op, c->a + n0 * out_img, c->b, c->out + n0 * in_img, 0, nb, col,
                      stage, par);
        if (c->op != TN_OP_CONV2D_GRAD_WEIGHT)
            add_bias(cv, c->op, c->out, n0, nb);
        else
            run_chunk(cv, c->op, c->a + n0 * in_img, c->b + n0 * out_img, acc,
                      first ? 0.0f : 1.0f, nb, col, stage, par);
        first = false;
    }
    if (c->op == TN_OP_CONV2D_GRAD_WEIGHT && first)
        memset(acc, 0, sizeof(float) * (size_t)c->dw_n);
}

/* Runs the chunks of op: a = x or gy, b = w or gy, out = y, dx or dw (all dense). */
static void run_chunks(const struct conv *cv, enum tn_op op, float *a, float *b, float *out) {
    int nt = cv->threads;
    int64_t col_n = cv->pointwise && cv->batch == 1 ? 0 : cv->g * cv->rg * cv->batch * cv->p;
    int64_t stage_n = cv->batch > 1 ? cv->k * cv->batch * cv->p : 0;
    int64_t dw_n = cv->k * cv->rg;
    float *partial = op == TN_OP_CONV2D_GRAD_WEIGHT && nt > 1 ? scratch(dw_n, nt) : NULL;
    if (partial) /* zeroed: a thread the runtime does not start adds nothing */
        memset(partial, 0, sizeof(float) * (size_t)(nt * ((dw_n + 15) / 16 * 16)));
    struct chunk_team team = {cv, op, a, b, out, scratch(col_n, nt), scratch(stage_n, nt),
                              partial, col_n, stage_n, dw_n, nt};
    cpu_in_team(nt, chunks_in_team, &team);
    if (partial) {
        CPU_PARALLEL_FOR(dw_n >= CPU_PARALLEL_MIN, i, dw_n,
            for (int t = 1; t < nt; t++) out[i] += partial[t * ((dw_n + 15) / 16 * 16) + i];);
    }
}


/* Shared entry of the three kernels once the shapes of x and w are known. */
static void conv_kernel(const struct tn_kernel_args *args, const int64_t *x_shape,
                        const int64_t *w_shape) {
    struct tn_tensor *out = args->out;
    if (out->numel == 0 || cpu_conv_trim(args, x_shape, w_shape)) return;
    struct conv cv;
    conv_init(&cv, x_shape, w_shape, &args->params->conv);
    float *o = tn_data(out);
    tn_scope_begin();
    cv.bias = args->n_inputs == 3 ? tn_data(cpu_dense(args->in[2])) : NULL;
    if (cv.rg == 0 || cv.n == 0 || cv.k == 0) { /* empty sums: zeros, plus the bias */
        memset(o, 0, sizeof(float) * (size_t)out->numel);
        if (args->op != TN_OP_CONV2D_GRAD_WEIGHT) add_bias(&cv, args->op, o, 0, cv.n);
        tn_scope_end();
        return;
    }
    struct tn_tensor *a = cpu_dense(args->in[0]), *b = cpu_dense(args->in[1]);
#ifdef CONV_TILES
    if (cpu_conv_use_direct(&cv, args->op)) {
        if (args->op == TN_OP_CONV2D) cpu_conv_direct_forward(&cv, tn_data(a), tn_data(b), o);
        else if (args->op == TN_OP_CONV2D_GRAD_INPUT)
            cpu_conv_direct_grad_input(&cv, tn_data(a), tn_data(b), o);
        else cpu_conv_direct_grad_weight(&cv, tn_data(a), tn_data(b), o);
        tn_scope_end();
        return;
    }
#endif
    run_chunks(&cv, args->op, tn_data(a), tn_data(b), o);
    tn_scope_end();
}

/* y [N,K,Ho,Wo] = conv2d(x [N,C,H,W], w [K,C/g,kh,kw]). */
void cpu_kernel_conv2d(const struct tn_kernel_args *a) {
    conv_kernel(a, a->in[0]->shape, a->in[1]->shape);
}

/* dx [N,C,H,W] (params.shape) from gy [N,K,Ho,Wo] and w [K,C/g,kh,kw]. */
void cpu_kernel_conv2d_grad_input(const struct tn_kernel_args *a) {
    conv_kernel(a, a->params->shape, a->in[1]->shape);
}

/* dw [K,C/g,kh,kw] (params.shape) from x [N,C,H,W] and gy [N,K,Ho,Wo]. */
void cpu_kernel_conv2d_grad_weight(const struct tn_kernel_args *a) {
    conv_kernel(a, a->in[0]->shape, a->params->shape);
}
