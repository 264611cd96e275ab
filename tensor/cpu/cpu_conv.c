/* cpu_conv.c - CPU kernels of CONV2D and its two gradients, through im2col/col2im and sgemm.
 *
 * A conv is one matrix product per image and group. With the column matrix col [C*kh*kw, P]
 * (P = Ho*Wo; row (c, i, j) holds the input pixels that tap (i, j) of channel c sees):
 *   y[n]  = W x col                    W [K, C/g*kh*kw] per group
 *   dx[n] = col2im(W^T x gy[n])        col2im scatter-adds each tap back to its pixel
 *   dW   += gy[n] x col^T
 * Images go in chunks of B: a chunk's column matrix is [C*kh*kw, B*P], so small feature maps
 * make one wide product instead of many thin ones. Chunks run on OpenMP threads with buffers
 * of their own (OpenBLAS then runs each sgemm on one thread); with fewer chunks than threads
 * they run one after another and sgemm uses every thread. 1x1 kernels with stride 1 and no
 * padding skip im2col: x[n] is its own column matrix.
 */
#include <cblas.h>
#include <omp.h>
#ifdef __AVX__
#include <immintrin.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <stdio.h> /* DEVTEMP */

#include "cpu_internal.h"

#define COLS_TARGET 256           /* columns per chunk below which images are batched */
#define COL_MAX_FLOATS (1 << 20)  /* cap on a batched chunk's column matrix (4 MiB) */
#define PARALLEL_MIN_FLOPS 4000000 /* multiply-adds below which one thread does everything */

/* The geometry of one convolution and how its images are split into chunks. */
struct conv {
    int64_t n, c, h, w;  /* x [N, C, H, W] */
    int64_t k, kh, kw;   /* w [K, C/g, kh, kw] */
    int64_t ho, wo;      /* y [N, K, Ho, Wo] */
    int64_t sh, sw, ph, pw, dh, dw;
    int64_t g, kg, rg;   /* groups, K/g, rows of a group's column matrix C/g*kh*kw */
    int64_t hw, p;       /* H*W, Ho*Wo */
    bool direct;         /* 1x1, stride 1, no padding: col = x[n] */
    int64_t batch;       /* images per chunk */
    int64_t chunks;
    int threads;         /* chunks run side by side on this many threads */
};

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
    cv->direct = cv->kh == 1 && cv->kw == 1 && cv->sh == 1 && cv->sw == 1 && cv->ph == 0 &&
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

/* Range [lo, hi) of output positions whose input position o*s - pad + off lies in [0, in). */
static void valid_range(int64_t out, int64_t in, int64_t s, int64_t pad, int64_t off,
                        int64_t *lo, int64_t *hi) {
    int64_t a = pad - off, b = in + pad - off; /* need a <= o*s < b */
    int64_t l = a > 0 ? (a + s - 1) / s : 0;
    int64_t h = b > 0 ? (b - 1) / s + 1 : 0;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* d[0..n) = s[0..n), for the short runs of rows where a call to memcpy costs more. */
static inline void copy_floats(float *d, const float *s, int64_t n) {
#ifdef __AVX__
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, _mm256_loadu_ps(s + i));
    for (; i < n; i++) d[i] = s[i];
#else
    memcpy(d, s, sizeof(float) * (size_t)n);
#endif
}

/* d[o] = src[o*s + base] for o in [lo, hi), zero for the rest of [0, n). */
static void copy_row(float *d, int64_t n, const float *src, int64_t lo, int64_t hi, int64_t s,
                     int64_t base) {
    for (int64_t o = 0; o < lo; o++) d[o] = 0.0f;
    const float *sb = src + base;
    if (s == 1) copy_floats(d + lo, sb + lo, hi - lo);
    else if (s == 2) /* a constant stride, which the compiler vectorises */
        for (int64_t o = lo; o < hi; o++) d[o] = sb[2 * o];
    else
        for (int64_t o = lo; o < hi; o++) d[o] = sb[o * s];
    for (int64_t o = hi; o < n; o++) d[o] = 0.0f;
}

/* col [C*kh*kw, nb*P] from x [nb, C, H, W]: rows (c, i, j), columns (b, oh, ow). */
static void im2col(const struct conv *cv, const float *x, int64_t nb, float *col, bool par) {
    int64_t taps = cv->kh * cv->kw, rows = cv->g * cv->rg, cols = nb * cv->p, wo = cv->wo;
#pragma omp parallel for if (par) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
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
        }
    }
}

/* dx [nb, C, H, W] = col2im(col [C*kh*kw, nb*P]): every tap added back to its pixel. */
static void col2im(const struct conv *cv, const float *col, int64_t nb, float *dx, bool par) {
    int64_t cols = nb * cv->p, wo = cv->wo;
#pragma omp parallel for if (par) schedule(static)
    for (int64_t bc = 0; bc < nb * cv->c; bc++) {
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
                    float *dr = xc + (oh * cv->sh - cv->ph + i * cv->dh) * cv->w + base;
                    const float *sr = s + oh * wo;
                    if (cv->sw == 1) {
                        for (int64_t ow = xlo; ow < xhi; ow++) dr[ow] += sr[ow];
                    } else {
                        for (int64_t ow = xlo; ow < xhi; ow++) dr[ow * cv->sw] += sr[ow];
                    }
                }
            }
        }
    }
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

/* y [nb, K, P] = conv(x [nb, C, H, W], w) for one chunk. */
static void forward_chunk(const struct conv *cv, const float *x, const float *w, float *y,
                          int64_t nb, float *col, float *stage, bool par) {
    int64_t cols = nb * cv->p;
    const float *src = x;
    if (!(cv->direct && nb == 1)) {
        im2col(cv, x, nb, col, par);
        src = col;
    }
    float *dst = nb == 1 ? y : stage;
    for (int64_t g = 0; g < cv->g; g++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)cv->kg, (int)cols,
                    (int)cv->rg, 1.0f, w + g * cv->kg * cv->rg, (int)cv->rg,
                    src + g * cv->rg * cols, (int)cols, 0.0f, dst + g * cv->kg * cols,
                    (int)cols);
    if (nb > 1) restage(cv, y, stage, nb, false);
}

/* dx [nb, C, H, W] from gy [nb, K, P] and w for one chunk. */
static void grad_input_chunk(const struct conv *cv, float *gy, const float *w, float *dx,
                             int64_t nb, float *col, float *stage, bool par) {
    int64_t cols = nb * cv->p;
    const float *src = gy;
    if (nb > 1) {
        restage(cv, gy, stage, nb, true);
        src = stage;
    }
    float *dst = cv->direct && nb == 1 ? dx : col;
    for (int64_t g = 0; g < cv->g; g++)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)cv->rg, (int)cols,
                    (int)cv->kg, 1.0f, w + g * cv->kg * cv->rg, (int)cv->rg,
                    src + g * cv->kg * cols, (int)cols, 0.0f, dst + g * cv->rg * cols,
                    (int)cols);
    if (dst == col) col2im(cv, col, nb, dx, par);
}

/* dw [K, C/g*kh*kw] = beta * dw + gy [nb, K, P] x col(x [nb, C, H, W])^T for one chunk. */
static void grad_weight_chunk(const struct conv *cv, const float *x, float *gy, float *dw,
                              float beta, int64_t nb, float *col, float *stage, bool par) {
    int64_t cols = nb * cv->p;
    const float *gsrc = gy, *src = x;
    if (nb > 1) {
        restage(cv, gy, stage, nb, true);
        gsrc = stage;
    }
    if (!(cv->direct && nb == 1)) {
        im2col(cv, x, nb, col, par);
        src = col;
    }
    for (int64_t g = 0; g < cv->g; g++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)cv->kg, (int)cv->rg,
                    (int)cols, 1.0f, gsrc + g * cv->kg * cols, (int)cols,
                    src + g * cv->rg * cols, (int)cols, beta, dw + g * cv->kg * cv->rg,
                    (int)cv->rg);
}

/* Host buffer of n floats, 64-byte aligned; aborts when memory runs out. */
static float *buffer(int64_t n) {
    if (n <= 0) return NULL;
    size_t bytes = ((size_t)n * sizeof(float) + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes);
    TN_CHECK(p, "cpu_conv", "out of host memory for a %zu-byte buffer", bytes);
    return p;
}

/* Runs the chunks of op: a = x or gy, b = w or gy, out = y, dx or dw (all dense). */
static void run_chunks(const struct conv *cv, enum tn_op op, float *a, float *b, float *out) {
    int nt = cv->threads;
    bool direct1 = cv->direct && cv->batch == 1;
    int64_t col_n = direct1 ? 0 : cv->g * cv->rg * cv->batch * cv->p;
    int64_t stage_n = cv->batch > 1 ? cv->k * cv->batch * cv->p : 0;
    int64_t dw_n = cv->k * cv->rg;
    float *partial = op == TN_OP_CONV2D_GRAD_WEIGHT && nt > 1 ? buffer((nt - 1) * dw_n) : NULL;
    if (partial) memset(partial, 0, sizeof(float) * (size_t)((nt - 1) * dw_n)); /* idle threads */
    int64_t in_img = cv->c * cv->hw, out_img = cv->k * cv->p;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int t = omp_get_thread_num();
        bool par = nt == 1 && !omp_in_parallel();
        float *col = buffer(col_n), *stage = buffer(stage_n);
        float *acc = t == 0 ? out : partial + (t - 1) * dw_n;
        bool first = true;
#pragma omp for schedule(static)
        for (int64_t ch = 0; ch < cv->chunks; ch++) {
            int64_t n0 = ch * cv->batch, nb = cv->n - n0 < cv->batch ? cv->n - n0 : cv->batch;
            switch (op) {
            case TN_OP_CONV2D:
                forward_chunk(cv, a + n0 * in_img, b, out + n0 * out_img, nb, col, stage, par);
                break;
            case TN_OP_CONV2D_GRAD_INPUT:
                grad_input_chunk(cv, a + n0 * out_img, b, out + n0 * in_img, nb, col, stage,
                                 par);
                break;
            default:
                grad_weight_chunk(cv, a + n0 * in_img, b + n0 * out_img, acc,
                                  first ? 0.0f : 1.0f, nb, col, stage, par);
                first = false;
                break;
            }
        }
        if (op == TN_OP_CONV2D_GRAD_WEIGHT && first)
            memset(acc, 0, sizeof(float) * (size_t)dw_n);
        free(col);
        free(stage);
    }
    if (partial) {
#pragma omp parallel for if (dw_n >= CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < dw_n; i++)
            for (int t = 0; t < nt - 1; t++) out[i] += partial[t * dw_n + i];
        free(partial);
    }
}

/* ---- the direct path: stride-phase planes and an AVX2 tile kernel, no column matrix ----
 *
 * Split the padded x into its sh*sw stride phases, plane (c, a, b) [u, v] = xpad[c][u*sh + a]
 * [v*sw + b]. Tap (i, j) reads plane (c, i*dh % sh, j*dw % sw) shifted by (i*dh / sh,
 * j*dw / sw) rows and columns, so on an extended output grid whose rows have the planes'
 * pitch (a few extra columns per row, thrown away) row (c, i, j) of the column matrix is a
 * contiguous run of one plane. The product reads B straight from the planes through a table
 * of row offsets. The input gradient does the same per phase of dx: a correlation of the
 * zero-padded gy with the taps of that phase. Used where the extra columns cost little.
 */
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define CONV_TILES 1
#endif

#ifdef CONV_TILES

#define KC 256            /* reduction rows per pass over a tile (its B rows stay in L1) */
/* The direct path is taken when (waste - 1) * M <= this, waste being the work of the extended
 * grid and padded tiles per useful output and M the rows of the product (the channels that
 * sgemm's im2col is spread over): im2col costs relatively less the larger M is. Measured on
 * the GWAE layers; the input gradient's scatter makes its bound smaller. */
#define DIRECT_EXCESS 48.0
#define DIRECT_EXCESS_GRAD_INPUT 16.0

/* c [MR, 8*NV] (+ c when add) = sum over r < n of a[r][0..MR) (x) b[boff[r] .. + 8*NV). */
typedef void (*tile_fn)(const float *a, const float *b, const int64_t *boff, int64_t n,
                        float *c, int64_t ldc, bool add);

/* The same with A's MR rows given by pointers and B packed: c (+)= sum a[m][r] b[r*ldb ..]. */
typedef void (*rows_fn)(const float *const *a, const float *b, int64_t ldb, int64_t n,
                        float *c, int64_t ldc, bool add);

/* The body of both: A_RM points at A's term r of row m, B_R at B's row r. The constant
 * loops are unrolled by pragma so that GCC keeps acc[][] in registers; at most 16 vector
 * registers are live: MR*NV sums, then either NV B vectors or MR broadcasts, plus one. */
#define UNROLL _Pragma("GCC unroll 8")
#define TILE_BODY(MR, NV, A_RM, B_R)                                                         \
    {                                                                                         \
        __m256 acc[MR][NV];                                                                   \
        UNROLL for (int m = 0; m < MR; m++)                                                   \
            UNROLL for (int v = 0; v < NV; v++) acc[m][v] = _mm256_setzero_ps();              \
        for (int64_t r = 0; r < n; r++) {                                                     \
            const float *br = B_R;                                                            \
            if (MR <= NV) { /* MR broadcasts held, one B vector at a time */                  \
                __m256 am[MR];                                                                \
                UNROLL for (int m = 0; m < MR; m++) am[m] = _mm256_broadcast_ss(A_RM);        \
                UNROLL for (int v = 0; v < NV; v++) {                                         \
                    __m256 bv = _mm256_loadu_ps(br + 8 * v);                                  \
                    __asm__("" : "+x"(bv)); /* one load, not one per FMA */                   \
                    UNROLL for (int m = 0; m < MR; m++)                                       \
                        acc[m][v] = _mm256_fmadd_ps(am[m], bv, acc[m][v]);                    \
                }                                                                             \
            } else { /* NV B vectors held, one broadcast at a time */                         \
                __m256 bv[NV];                                                                \
                UNROLL for (int v = 0; v < NV; v++) {                                         \
                    bv[v] = _mm256_loadu_ps(br + 8 * v);                                      \
                    __asm__("" : "+x"(bv[v]));                                                \
                }                                                                             \
                UNROLL for (int m = 0; m < MR; m++) {                                         \
                    __m256 am = _mm256_broadcast_ss(A_RM);                                    \
                    UNROLL for (int v = 0; v < NV; v++)                                       \
                        acc[m][v] = _mm256_fmadd_ps(am, bv[v], acc[m][v]);                    \
                }                                                                             \
            }                                                                                 \
        }                                                                                     \
        UNROLL for (int m = 0; m < MR; m++)                                                   \
            UNROLL for (int v = 0; v < NV; v++) {                                             \
                float *cm = c + m * ldc + 8 * v;                                              \
                _mm256_storeu_ps(cm, add ? _mm256_add_ps(acc[m][v], _mm256_loadu_ps(cm))      \
                                         : acc[m][v]);                                        \
            }                                                                                 \
    }
#define TILE_KERNEL(MR, NV)                                                                  \
    __attribute__((target("avx2,fma"))) static void tile_##MR##x##NV(                        \
        const float *a, const float *b, const int64_t *boff, int64_t n, float *c, int64_t ldc, \
        bool add) TILE_BODY(MR, NV, a + r * MR + m, b + boff[r])
#define ROWS_KERNEL(MR, NV)                                                                  \
    __attribute__((target("avx2,fma"))) static void rows_##MR##x##NV(                        \
        const float *const *a, const float *b, int64_t ldb, int64_t n, float *c, int64_t ldc,  \
        bool add) TILE_BODY(MR, NV, a[m] + r, b + r * ldb)
ROWS_KERNEL(8, 1)
ROWS_KERNEL(6, 2)
ROWS_KERNEL(4, 3)
TILE_KERNEL(6, 2)
TILE_KERNEL(4, 3)
TILE_KERNEL(3, 4)
TILE_KERNEL(2, 6)
TILE_KERNEL(1, 8)

/* The tile shape of products C [M, ldc] = A [M, R] x B done by MR x NR tiles; C has M
 * rounded up to MR rows, ldc columns (the useful ones rounded up to NR). */
struct tiled {
    int mr, nr;
    tile_fn fn;
    int64_t m_tiles, ldc, n_tiles;
};

/* One product: A packed as [M/MR][R][MR] (zero rows past M); B's row r at b + boff[r] with b
 * at b_off in the B buffer; C at c_off in the C buffer. */
struct product {
    const float *ap;
    const int64_t *boff;
    int64_t r, b_off, c_off;
};

static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/* Picks the tile shape that pads least, for M rows and cols useful columns. */
static void tiled_init(struct tiled *t, int64_t m, int64_t cols) {
    static const struct { int mr, nv; tile_fn fn; } shapes[] = {
        {6, 2, tile_6x2}, {4, 3, tile_4x3}, {3, 4, tile_3x4}, {2, 6, tile_2x6}, {1, 8, tile_1x8}};
    int best = 0;
    for (int s = 1; s < 4; s++)
        if (round_up(m, shapes[s].mr) * round_up(cols, 8 * shapes[s].nv) <
            round_up(m, shapes[best].mr) * round_up(cols, 8 * shapes[best].nv))
            best = s;
    if (m == 1) best = 4;
    t->mr = shapes[best].mr;
    t->nr = 8 * shapes[best].nv;
    t->fn = shapes[best].fn;
    t->m_tiles = (m + t->mr - 1) / t->mr;
    t->ldc = round_up(cols, t->nr);
    t->n_tiles = t->ldc / t->nr;
}

/* ap [m_tiles][r][MR] with ap[mt][k][i] = src[(mt*MR + i)*sm + aoff[k]] for rows < m. */
static void tiled_pack(const struct tiled *t, int64_t m, int64_t r, const float *src,
                       int64_t sm, const int64_t *aoff, float *ap) {
    for (int64_t mt = 0; mt < t->m_tiles; mt++)
        for (int64_t k = 0; k < r; k++)
            for (int i = 0; i < t->mr; i++) {
                int64_t row = mt * t->mr + i;
                ap[(mt * r + k) * t->mr + i] = row < m ? src[row * sm + aoff[k]] : 0.0f;
            }
}

/* Column tiles [t0, t1) of every product, tile by tile so that products reading nearby B
 * rows (the phases of one image) find them in cache; KC terms per pass. */
static void tiled_run(const struct tiled *t, const struct product *pr, int64_t np,
                      const float *b, float *c, int64_t t0, int64_t t1) {
    for (int64_t tc = t0; tc < t1; tc++)
        for (int64_t p = 0; p < np; p++)
            for (int64_t r0 = 0; r0 < pr[p].r; r0 += KC) {
                int64_t n = pr[p].r - r0 < KC ? pr[p].r - r0 : KC;
                for (int64_t mt = 0; mt < t->m_tiles; mt++)
                    t->fn(pr[p].ap + (mt * pr[p].r + r0) * t->mr, b + pr[p].b_off + tc * t->nr,
                          pr[p].boff + r0, n, c + pr[p].c_off + mt * t->mr * t->ldc + tc * t->nr,
                          t->ldc, r0 > 0);
            }
}

/* All the products, their column tiles split over the threads when par. */
static void tiled_all(const struct tiled *t, const struct product *pr, int64_t np,
                      const float *b, float *c, bool par) {
    if (!par) {
        tiled_run(t, pr, np, b, c, 0, t->n_tiles);
        return;
    }
#pragma omp parallel
    {
        int64_t nt = omp_get_num_threads(), id = omp_get_thread_num();
        tiled_run(t, pr, np, b, c, t->n_tiles * id / nt, t->n_tiles * (id + 1) / nt);
    }
}

/* Phase planes of an image [channels, h, w]: plane (ch, p) [u, v] = img[ch][u*sh + a[p] - ph]
 * [v*sw + b[p] - pw], zero outside, with rows x pitch floats per plane. */
struct planes {
    int64_t h, w, sh, sw, ph, pw, rows, pitch;
    int n;              /* phases kept */
    int64_t *a, *b;     /* each phase's row and column offsets */
};

/* Fills every plane of img (channels of them per phase) into out. */
static void fill_planes(const struct planes *pl, const float *img, int64_t channels, float *out,
                        bool par) {
    int64_t size = pl->rows * pl->pitch;
#pragma omp parallel for if (par) schedule(static)
    for (int64_t cp = 0; cp < channels * pl->n; cp++) {
        int64_t ch = cp / pl->n, a = pl->a[cp % pl->n], b = pl->b[cp % pl->n];
        int64_t ulo, uhi, vlo, vhi;
        valid_range(pl->rows, pl->h, pl->sh, pl->ph, a, &ulo, &uhi);
        valid_range(pl->pitch, pl->w, pl->sw, pl->pw, b, &vlo, &vhi);
        float *d = out + cp * size;
        memset(d, 0, sizeof(float) * (size_t)(ulo * pl->pitch));
        for (int64_t u = ulo; u < uhi; u++)
            copy_row(d + u * pl->pitch, pl->pitch,
                     img + (ch * pl->h + u * pl->sh + a - pl->ph) * pl->w, vlo, vhi, pl->sw,
                     b - pl->pw);
        memset(d + uhi * pl->pitch, 0, sizeof(float) * (size_t)((pl->rows - uhi) * pl->pitch));
    }
}

/* Number of phases t*d % s (t < k) that some tap falls on, along one dim. */
static int64_t phases_used(int64_t k, int64_t d, int64_t s) {
    int64_t n = 0;
    for (int64_t a = 0; a < s; a++)
        for (int64_t t = 0; t < k; t++)
            if (t * d % s == a) {
                n++;
                break;
            }
    return n;
}

/* Rows of dx's phase grids on the input-gradient path: uq in all, *rows per phase at most. */
static int64_t phase_rows(const struct conv *cv, int64_t *rows) {
    int64_t uq = (cv->h - 1 + cv->ph) / cv->sh + 1, lo, hi;
    *rows = 0;
    for (int64_t a = 0; a < cv->sh; a++) {
        valid_range(uq, cv->h, cv->sh, cv->ph, a, &lo, &hi);
        if (hi - lo > *rows) *rows = hi - lo;
    }
    return uq;
}

/* Work of the extended grid over the useful outputs, for op on the direct path. */
static double direct_waste(const struct conv *cv, enum tn_op op) {
    struct tiled t;
    int64_t v0 = (cv->kw - 1) * cv->dw / cv->sw;
    if (op == TN_OP_CONV2D) {
        tiled_init(&t, cv->kg, cv->ho * (cv->wo + v0));
        return (double)(t.m_tiles * t.mr * t.ldc) / (double)(cv->kg * cv->p);
    }
    if (op == TN_OP_CONV2D_GRAD_WEIGHT) { /* rows and columns padded to the tiles */
        int64_t nr = cv->kg <= 8 ? 8 : round_up(cv->kg, 24) < round_up(cv->kg, 16) ? 24 : 16;
        return (double)(round_up(cv->kg, nr) * round_up(cv->rg, 8) * (cv->wo + v0)) /
               (double)(cv->kg * cv->rg * cv->wo);
    }
    int64_t rows, uq = phase_rows(cv, &rows), vq = (cv->w - 1 + cv->pw) / cv->sw + 1;
    int64_t pitch = (vq > cv->wo ? vq : cv->wo) + v0, cg = cv->c / cv->g;
    int64_t phases = phases_used(cv->kh, cv->dh, cv->sh) * phases_used(cv->kw, cv->dw, cv->sw);
    (void)uq;
    tiled_init(&t, cg, rows * pitch);
    return (double)(phases * t.m_tiles * t.mr * t.ldc) / (double)(cg * cv->hw);
}

/* True when op runs on the direct path: the CPU has AVX2 and FMA, and little work is wasted. */
static bool use_direct(const struct conv *cv, enum tn_op op) {
    if (getenv("CONV_NODIRECT")) return false; /* DEVTEMP */
    if (getenv("CONV_DIRECT")) return true; /* DEVTEMP */
    if (getenv("CONV_TRACE")) fprintf(stderr, "%s waste %.3f\n", tn_op_name(op), direct_waste(cv, op)); /* DEVTEMP */
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return false;
    double m = (double)(op == TN_OP_CONV2D_GRAD_INPUT ? cv->c / cv->g : cv->kg);
    return (direct_waste(cv, op) - 1.0) * m <=
           (op == TN_OP_CONV2D_GRAD_INPUT ? DIRECT_EXCESS_GRAD_INPUT : DIRECT_EXCESS);
}

/* Threads for the direct path: images side by side (*image_par) or tiles of one image. */
static void direct_threads(const struct conv *cv, bool *image_par, bool *tile_par) {
    int t = omp_get_max_threads();
    double flops = (double)cv->n * (double)cv->k * (double)cv->p * (double)cv->rg;
    bool big = t > 1 && flops >= PARALLEL_MIN_FLOPS && !omp_in_parallel();
    *image_par = big && cv->n >= t;
    *tile_par = big && !*image_par;
}

/* The phase planes of x for the forward pass and the weight gradient: fills pl, and boff[r]
 * with the offset of row r = (c, tap) of a group's column matrix in the group's planes.
 * Returns the table behind pl->a and pl->b, for the caller to free. */
static int64_t *x_planes(const struct conv *cv, struct planes *pl, int64_t *boff) {
    int64_t taps = cv->kh * cv->kw;
    int64_t u0 = (cv->kh - 1) * cv->dh / cv->sh, v0 = (cv->kw - 1) * cv->dw / cv->sw;
    *pl = (struct planes){cv->h, cv->w, cv->sh, cv->sw, cv->ph, cv->pw, cv->ho + u0,
                          cv->wo + v0, 0, NULL, NULL};
    int64_t size = pl->rows * pl->pitch, *tab = malloc(sizeof(int64_t) * (size_t)(4 * taps));
    TN_CHECK(tab, "cpu_conv", "out of host memory");
    pl->a = tab;
    pl->b = tab + taps;
    int64_t *tap_off = tab + 2 * taps, *tap_plane = tab + 3 * taps;
    for (int64_t i = 0; i < cv->kh; i++)
        for (int64_t j = 0; j < cv->kw; j++) { /* each tap's phase plane and shift in it */
            int64_t a = i * cv->dh % cv->sh, b = j * cv->dw % cv->sw, p = 0;
            while (p < pl->n && (pl->a[p] != a || pl->b[p] != b)) p++;
            if (p == pl->n) {
                pl->a[p] = a;
                pl->b[p] = b;
                pl->n++;
            }
            tap_plane[i * cv->kw + j] = p;
            tap_off[i * cv->kw + j] = i * cv->dh / cv->sh * pl->pitch + j * cv->dw / cv->sw;
        }
    for (int64_t r = 0; r < cv->rg; r++)
        boff[r] = (r / taps * pl->n + tap_plane[r % taps]) * size + tap_off[r % taps];
    return tab;
}

/* y [N,K,Ho,Wo] = conv2d(x [N,C,H,W], w) on the direct path. */
static void direct_forward(const struct conv *cv, const float *x, const float *w, float *y) {
    int64_t cg = cv->c / cv->g;
    int64_t u0 = (cv->kh - 1) * cv->dh / cv->sh, v0 = (cv->kw - 1) * cv->dw / cv->sw;
    int64_t *boff = malloc(sizeof(int64_t) * (size_t)(2 * cv->rg)), *aoff = boff + cv->rg;
    struct product *pr = malloc(sizeof *pr * (size_t)cv->g);
    TN_CHECK(boff && pr, "cpu_conv", "out of host memory");
    struct planes pl;
    int64_t *tab = x_planes(cv, &pl, boff), size = pl.rows * pl.pitch;
    for (int64_t r = 0; r < cv->rg; r++) aoff[r] = r;
    struct tiled t;
    tiled_init(&t, cv->kg, cv->ho * pl.pitch);
    int64_t ap_n = t.m_tiles * t.mr * cv->rg, ext_n = t.m_tiles * t.mr * t.ldc;
    float *ap = buffer(cv->g * ap_n);
    for (int64_t g = 0; g < cv->g; g++) {
        tiled_pack(&t, cv->kg, cv->rg, w + g * cv->kg * cv->rg, cv->rg, aoff, ap + g * ap_n);
        pr[g] = (struct product){ap + g * ap_n, boff, cv->rg, g * cg * pl.n * size, g * ext_n};
    }
    int64_t planes_n = cv->c * pl.n * size + u0 * pl.pitch + v0 + t.ldc;
    bool image_par, tile_par;
    direct_threads(cv, &image_par, &tile_par);
#pragma omp parallel if (image_par)
    {
        float *planes = buffer(planes_n), *ext = buffer(cv->g * ext_n);
        memset(planes, 0, sizeof(float) * (size_t)planes_n);
#pragma omp for schedule(static)
        for (int64_t n = 0; n < cv->n; n++) {
            fill_planes(&pl, x + n * cv->c * cv->hw, cv->c, planes, tile_par);
            tiled_all(&t, pr, cv->g, planes, ext, tile_par);
            for (int64_t k = 0; k < cv->k; k++) { /* crop the extended grid */
                const float *e = ext + k / cv->kg * ext_n + k % cv->kg * t.ldc;
                float *d = y + (n * cv->k + k) * cv->p;
                for (int64_t oh = 0; oh < cv->ho; oh++)
                    copy_floats(d + oh * cv->wo, e + oh * pl.pitch, cv->wo);
            }
        }
        free(planes);
        free(ext);
    }
    free(ap);
    free(pr);
    free(boff);
    free(tab);
}

/* d[i*ldd + j] = s[j*lds + i] for i, j < 8: an 8x8 transpose in registers. */
__attribute__((target("avx2"))) static void transpose8(const float *s, int64_t lds, float *d,
                                                       int64_t ldd) {
    __m256 r[8], t[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(s + i * lds);
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
        r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
    }
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(d + i * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
        _mm256_storeu_ps(d + (i + 4) * ldd, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
    }
}

/* d[j*ldd + i] = s[i*lds + j] for i < rows, j < cols, by 8x8 blocks. */
static void transpose(const float *s, int64_t lds, int64_t rows, int64_t cols, float *d,
                      int64_t ldd) {
    int64_t r8 = rows / 8 * 8, c8 = cols / 8 * 8;
    for (int64_t i = 0; i < r8; i += 8)
        for (int64_t j = 0; j < c8; j += 8) transpose8(s + i * lds + j, lds, d + j * ldd + i, ldd);
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = i < r8 ? c8 : 0; j < cols; j++) d[j * ldd + i] = s[i * lds + j];
}

/* Sums of the weight gradient of group-row tiles [mt0, mt1) over columns [0, cols) of one
 * image: acc [R, ldb] (+)= col [R, cols] x gt [cols, ldb], the column matrix read from the
 * planes by row pointers, gt = gy^T; in column blocks whose piece of gt stays in L1. */
static void rows_run(rows_fn fn, int mr, int nr, const float *planes, const int64_t *boff,
                     int64_t rg, const float *zrow, const float *gt, int64_t ldb, int64_t cols,
                     float *acc, bool add, int64_t mt0, int64_t mt1) {
    int64_t block = 4096 / ldb < 16 ? 16 : 4096 / ldb;
    for (int64_t p0 = 0; p0 < cols; p0 += block) {
        int64_t pn = cols - p0 < block ? cols - p0 : block;
        for (int64_t mt = mt0; mt < mt1; mt++) {
            const float *a[8];
            for (int m = 0; m < mr; m++) {
                int64_t r = mt * mr + m;
                a[m] = (r < rg ? planes + boff[r] : zrow) + p0;
            }
            for (int64_t n0 = 0; n0 < ldb; n0 += nr)
                fn(a, gt + p0 * ldb + n0, ldb, pn, acc + mt * mr * ldb + n0, ldb, add || p0 > 0);
        }
    }
}

/* dw [K,C/g,kh,kw] from x [N,C,H,W] and gy [N,K,Ho,Wo] on the direct path: per group
 * dw^T [C/g*kh*kw, K/g] = col x gy^T summed over images, then transposed. */
static void direct_grad_weight(const struct conv *cv, const float *x, const float *gy,
                               float *dw) {
    int64_t cg = cv->c / cv->g;
    int64_t u0 = (cv->kh - 1) * cv->dh / cv->sh, v0 = (cv->kw - 1) * cv->dw / cv->sw;
    int64_t *boff = malloc(sizeof(int64_t) * (size_t)cv->rg);
    TN_CHECK(boff, "cpu_conv", "out of host memory");
    struct planes pl;
    int64_t *tab = x_planes(cv, &pl, boff), size = pl.rows * pl.pitch, cols = cv->ho * pl.pitch;
    rows_fn fn = rows_6x2;
    int mr = 6, nr = 16;
    if (cv->kg <= 8) fn = rows_8x1, mr = 8, nr = 8;
    else if (round_up(cv->kg, 24) < round_up(cv->kg, 16)) fn = rows_4x3, mr = 4, nr = 24;
    int64_t ldb = round_up(cv->kg, nr), m_tiles = (cv->rg + mr - 1) / mr;
    int64_t acc_n = cv->g * m_tiles * mr * ldb, gt_n = cv->g * cols * ldb;
    int64_t planes_n = cv->c * pl.n * size + u0 * pl.pitch + v0 + cols;
    bool image_par, tile_par;
    direct_threads(cv, &image_par, &tile_par);
    int nt = image_par ? omp_get_max_threads() : 1;
    float *sums = buffer(nt * acc_n), *zrow = buffer(cols);
    memset(sums, 0, sizeof(float) * (size_t)(nt * acc_n)); /* a thread may get no image */
    memset(zrow, 0, sizeof(float) * (size_t)cols);
#pragma omp parallel num_threads(nt) if (image_par)
    {
        float *planes = buffer(planes_n), *gt = buffer(gt_n);
        float *acc = sums + omp_get_thread_num() * acc_n;
        memset(planes, 0, sizeof(float) * (size_t)planes_n);
        memset(gt, 0, sizeof(float) * (size_t)gt_n); /* extra columns and rows stay zero */
#pragma omp for schedule(static)
        for (int64_t n = 0; n < cv->n; n++) {
            fill_planes(&pl, x + n * cv->c * cv->hw, cv->c, planes, tile_par);
            for (int64_t gr = 0; gr < cv->g * cv->ho; gr++) { /* gt [g][cols][ldb] = gy^T */
                int64_t g = gr / cv->ho, oh = gr % cv->ho; /* by output rows, in cache */
                const float *s = gy + (n * cv->k + g * cv->kg) * cv->p + oh * cv->wo;
                float *d = gt + (g * cols + oh * pl.pitch) * ldb;
                transpose(s, cv->p, cv->kg, cv->wo, d, ldb);
            }
#pragma omp parallel for if (tile_par) schedule(static)
            for (int64_t gm = 0; gm < cv->g * m_tiles; gm++) {
                int64_t g = gm / m_tiles, mt = gm % m_tiles;
                rows_run(fn, mr, nr, planes + g * cg * pl.n * size, boff, cv->rg, zrow,
                         gt + g * cols * ldb, ldb, cols, acc + g * m_tiles * mr * ldb, true, mt,
                         mt + 1);
            }
        }
        free(planes);
        free(gt);
    }
    for (int64_t k = 0; k < cv->k; k++) /* dw [k][r] = sum over threads of acc [g][r][k] */
        for (int64_t r = 0; r < cv->rg; r++) {
            const float *s = sums + (k / cv->kg * m_tiles * mr + r) * ldb + k % cv->kg;
            float v = 0.0f;
            for (int t = 0; t < nt; t++) v += s[t * acc_n];
            dw[k * cv->rg + r] = v;
        }
    free(sums);
    free(zrow);
    free(boff);
    free(tab);
}

/* A row d [w] of dx from its two column phases (stride 2): d[2m + t - pw] = e_t[m]. */
static void interleave2(float *d, int64_t w, int64_t pw, const float *e0, const float *e1) {
    int64_t i = 0;
    if (pw % 2 && w > 0) d[i++] = e1[pw / 2];
    int64_t m0 = (i + pw) / 2, pairs = (w - i) / 2;
    float *dd = d + i;
    for (int64_t j = 0; j < pairs; j++) {
        dd[2 * j] = e0[m0 + j];
        dd[2 * j + 1] = e1[m0 + j];
    }
    i += 2 * pairs;
    if (i < w) d[i] = e0[(i + pw) / 2];
}

/* dx [N,C,H,W] from gy [N,K,Ho,Wo] and w on the direct path, one phase of dx at a time. */
static void direct_grad_input(const struct conv *cv, const float *gy, const float *w,
                              float *dx) {
    int64_t taps = cv->kh * cv->kw, cg = cv->c / cv->g;
    int64_t u0 = (cv->kh - 1) * cv->dh / cv->sh, v0 = (cv->kw - 1) * cv->dw / cv->sw;
    int64_t rows, uq = phase_rows(cv, &rows), vq = (cv->w - 1 + cv->pw) / cv->sw + 1;
    int64_t zero = 0, lo_max = 0;
    struct planes pl = {cv->ho, cv->wo, 1, 1, u0, v0, (uq > cv->ho ? uq : cv->ho) + u0,
                        (vq > cv->wo ? vq : cv->wo) + v0, 1, &zero, &zero};
    int64_t size = pl.rows * pl.pitch, phases = cv->sh * cv->sw;
    /* the terms of phase q = (a, b) are (k, tap) for its taps; r_start[q] indexes them */
    int64_t *r_start = malloc(sizeof(int64_t) * (size_t)(phases + 1 + 2 * cv->kg * taps));
    TN_CHECK(r_start, "cpu_conv", "out of host memory");
    int64_t *boff = r_start + phases + 1, *aoff = boff + cv->kg * taps, r = 0;
    bool holes = false; /* phases no tap reaches stay zero */
    for (int64_t q = 0; q < phases; q++) {
        r_start[q] = r;
        int64_t a = q / cv->sw, b = q % cv->sw;
        for (int64_t k = 0; k < cv->kg; k++)
            for (int64_t tap = 0; tap < taps; tap++) {
                int64_t i = tap / cv->kw, j = tap % cv->kw;
                if (i * cv->dh % cv->sh != a || j * cv->dw % cv->sw != b) continue;
                boff[r] = k * size + (u0 - i * cv->dh / cv->sh) * pl.pitch + v0 -
                          j * cv->dw / cv->sw;
                aoff[r++] = k * cv->rg + tap;
            }
        holes |= r == r_start[q];
    }
    r_start[phases] = r;
    struct tiled t;
    tiled_init(&t, cg, rows * pl.pitch);
    int64_t ap_n = t.m_tiles * t.mr * cv->kg * taps, ext_n = t.m_tiles * t.mr * t.ldc, np = 0;
    float *ap = buffer(cv->g * ap_n);
    struct product *pr = malloc(sizeof *pr * (size_t)(cv->g * phases));
    TN_CHECK(pr, "cpu_conv", "out of host memory");
    for (int64_t g = 0; g < cv->g; g++)
        for (int64_t q = 0; q < phases; q++) {
            int64_t nq = r_start[q + 1] - r_start[q];
            float *apq = ap + g * ap_n + t.m_tiles * t.mr * r_start[q];
            tiled_pack(&t, cg, nq, w + g * cv->kg * cv->rg, taps, aoff + r_start[q], apq);
            int64_t lo, hi; /* the phase's grid starts at its first row, lo */
            valid_range(uq, cv->h, cv->sh, cv->ph, q / cv->sw, &lo, &hi);
            lo_max = lo > lo_max ? lo : lo_max;
            if (nq) pr[np++] = (struct product){apq, boff + r_start[q], nq,
                                               g * cv->kg * size + lo * pl.pitch,
                                               (g * phases + q) * ext_n};
        }
    int64_t planes_n = cv->k * size + (u0 + lo_max) * pl.pitch + v0 + t.ldc;
    bool image_par, tile_par;
    direct_threads(cv, &image_par, &tile_par);
#pragma omp parallel if (image_par)
    {
        float *planes = buffer(planes_n), *ext = buffer(cv->g * phases * ext_n);
        memset(planes, 0, sizeof(float) * (size_t)planes_n);
#pragma omp for schedule(static)
        for (int64_t n = 0; n < cv->n; n++) {
            float *dxn = dx + n * cv->c * cv->hw;
            fill_planes(&pl, gy + n * cv->k * cv->p, cv->k, planes, tile_par);
            tiled_all(&t, pr, np, planes, ext, tile_par);
            if (holes) memset(dxn, 0, sizeof(float) * (size_t)(cv->c * cv->hw));
            for (int64_t ga = 0; ga < cv->g * cv->sh; ga++) { /* scatter the phases into dx */
                int64_t g = ga / cv->sh, a = ga % cv->sh, q0 = a * cv->sw, ulo, uhi;
                valid_range(uq, cv->h, cv->sh, cv->ph, a, &ulo, &uhi);
                bool pair = cv->sw == 2 && r_start[q0 + 1] > r_start[q0] &&
                            r_start[q0 + 2] > r_start[q0 + 1];
                for (int64_t c = 0; c < cg; c++)
                    for (int64_t u = ulo; u < uhi; u++) {
                        float *d = dxn + ((g * cg + c) * cv->h + u * cv->sh + a - cv->ph) * cv->w;
                        const float *e = ext + (g * phases + q0) * ext_n + c * t.ldc +
                                         (u - ulo) * pl.pitch;
                        if (pair) {
                            interleave2(d, cv->w, cv->pw, e, e + ext_n);
                            continue;
                        }
                        for (int64_t b = 0; b < cv->sw; b++, e += ext_n) {
                            int64_t vlo, vhi;
                            if (r_start[q0 + b + 1] == r_start[q0 + b]) continue;
                            valid_range(vq, cv->w, cv->sw, cv->pw, b, &vlo, &vhi);
                            for (int64_t v = vlo; v < vhi; v++) d[v * cv->sw + b - cv->pw] = e[v];
                        }
                    }
            }
        }
        free(planes);
        free(ext);
    }
    free(ap);
    free(pr);
    free(r_start);
}

#endif /* CONV_TILES */

/* t itself when dense, else a dense copy owned by the open scope. */
static struct tn_tensor *dense(struct tn_tensor *t) {
    if (tn_is_contiguous(t)) return t;
    struct tn_op_params none = {0};
    return tn_op_run(TN_OP_CONTIGUOUS, 1, &t, &none);
}

/* Shared entry of the three kernels once the shapes of x and w are known. */
static void conv_kernel(const struct tn_kernel_args *args, const int64_t *x_shape,
                        const int64_t *w_shape) {
    struct tn_tensor *out = args->out;
    if (out->numel == 0) return;
    struct conv cv;
    conv_init(&cv, x_shape, w_shape, &args->params->conv);
    float *o = tn_data(out);
    if (cv.rg == 0 || cv.n == 0 || cv.k == 0) { /* empty sums: zeros */
        memset(o, 0, sizeof(float) * (size_t)out->numel);
        return;
    }
    tn_scope_begin();
    struct tn_tensor *a = dense(args->in[0]), *b = dense(args->in[1]);
#ifdef CONV_TILES
    if (use_direct(&cv, args->op)) {
        if (args->op == TN_OP_CONV2D) direct_forward(&cv, tn_data(a), tn_data(b), o);
        else if (args->op == TN_OP_CONV2D_GRAD_INPUT)
            direct_grad_input(&cv, tn_data(a), tn_data(b), o);
        else direct_grad_weight(&cv, tn_data(a), tn_data(b), o);
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
