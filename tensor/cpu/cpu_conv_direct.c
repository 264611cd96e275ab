/* cpu_conv_direct.c - the direct path of the CPU conv kernels: stride-phase planes and an
 * AVX2 tile kernel (x86-64 with AVX2 and FMA, on larger maps).
 *
 * Split the padded x into its sh*sw stride phases, plane (c, a, b) [u, v] = xpad[c][u*sh + a]
 * [v*sw + b]. Tap (i, j) reads plane (c, i*dh % sh, j*dw % sw) shifted by (i*dh / sh,
 * j*dw / sw), so on an extended output grid whose rows have the planes' pitch (Wo + a few
 * columns, thrown away) each row of col is a contiguous run of a plane: the tile kernel reads
 * it in place through a table of row offsets, and no column matrix is built. dx is computed
 * phase by phase, each a correlation of the zero-padded gy with that phase's taps; dW reads col
 * rows by pointer against gy^T. Images run side by side on the threads, or one image's tiles
 * when N is small. cpu_conv.c decides when this path runs (cpu_conv_use_direct).
 */
#include "cpu_conv.h"

#ifdef CONV_TILES


#define KC 256 /* terms per pass over a tile (its B rows stay in L1) */
/* The direct path is taken when (waste - 1) * M <= DIRECT_EXCESS, waste being the work of
 * the extended grid and padded tiles per useful output and M the rows of the product: the
 * larger M, the less im2col costs next to sgemm. Measured on the GWAE layers; the input
 * gradient pays for its scatter too. */
#define DIRECT_EXCESS 48.0
#define DIRECT_EXCESS_GRAD_INPUT 16.0

/* c [MR, 8*NV] (+ c when add) = sum over r < n of a[r][0..MR) (x) b[boff[r] .. + 8*NV). */
typedef void (*tile_fn)(const float *a, const float *b, const int64_t *boff, int64_t n,
                        float *c, int64_t ldc, bool add);

/* The same with A's MR rows given by pointers and B packed: c (+)= sum a[m][r] b[r*ldb ..]. */
typedef void (*rows_fn)(const float *const *a, const float *b, int64_t ldb, int64_t n,
                        float *c, int64_t ldc, bool add);

/* The body of both: A_RM points at A's term r of row m, B_R at B's row r. The constant loops
 * are unrolled by pragma so that GCC keeps acc in registers; at most 16 vector registers are
 * live (MR*NV sums, then NV B vectors or MR broadcasts, plus one), and the empty asm keeps
 * each B vector in a register instead of loading it again for every FMA. */
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
                    __asm__("" : "+x"(bv));                                                   \
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
TILE_KERNEL(6, 2)
TILE_KERNEL(4, 3)
TILE_KERNEL(3, 4)
TILE_KERNEL(2, 6)
TILE_KERNEL(1, 8)
ROWS_KERNEL(8, 1)
ROWS_KERNEL(6, 2)

/* The tile shape of products C [M, ldc] = A [M, R] x B; C has M rounded up to MR rows and
 * ldc columns (the useful ones rounded up to NR). */
struct tiled {
    int mr, nr;
    tile_fn fn;
    int64_t m_tiles, ldc, n_tiles;
};

/* One product: A packed [M/MR][R][MR] (zero rows past M); B's row r at b_off + boff[r] in
 * the B buffer; C at c_off in the C buffer. */
struct product {
    const float *ap;
    const int64_t *boff;
    int64_t r, b_off, c_off;
};

/* x rounded up to a multiple of m. */
static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }

/* Host array of n int64 (n > 0); aborts when memory runs out. */
static int64_t *ints(int64_t n) {
    int64_t *p = malloc(sizeof(int64_t) * (size_t)n);
    TN_CHECK(p, "cpu_conv", "out of host memory");
    return p;
}

/* Picks the tile shape that pads least, for M rows and cols useful columns. */
static void tiled_init(struct tiled *t, int64_t m, int64_t cols) {
    static const struct { int mr, nv; tile_fn fn; } shapes[] = {
        {6, 2, tile_6x2}, {4, 3, tile_4x3}, {3, 4, tile_3x4}, {2, 6, tile_2x6}, {1, 8, tile_1x8}};
    int best = m == 1 ? 4 : 0;
    for (int s = 1; s < 4 && m > 1; s++)
        if (round_up(m, shapes[s].mr) * round_up(cols, 8 * shapes[s].nv) <
            round_up(m, shapes[best].mr) * round_up(cols, 8 * shapes[best].nv))
            best = s;
    *t = (struct tiled){shapes[best].mr, 8 * shapes[best].nv, shapes[best].fn,
                        (m + shapes[best].mr - 1) / shapes[best].mr,
                        round_up(cols, 8 * shapes[best].nv), 0};
    t->n_tiles = t->ldc / t->nr;
}

/* ap [m_tiles][r][MR] with ap[mt][k][i] = src[(mt*MR + i)*sm + aoff[k]] for rows < m. */
static void tiled_pack(const struct tiled *t, int64_t m, int64_t r, const float *src,
                       int64_t sm, const int64_t *aoff, float *ap) {
    for (int64_t mt = 0; mt < t->m_tiles; mt++)
        for (int64_t k = 0; k < r; k++)
            for (int64_t i = 0, row = mt * t->mr; i < t->mr; i++, row++)
                ap[(mt * r + k) * t->mr + i] = row < m ? src[row * sm + aoff[k]] : 0.0f;
}

/* Column tiles [t0, t1) of every product, tile by tile so that products reading nearby B
 * rows (the phases of one image) find them in cache; KC terms per pass. */
static void tiled_run(const struct tiled *t, const struct product *pr, int64_t np,
                      const float *b, float *c, int64_t t0, int64_t t1) {
    for (int64_t tc = t0; tc < t1; tc++)
        for (const struct product *q = pr; q < pr + np; q++)
            for (int64_t r0 = 0; r0 < q->r; r0 += KC)
                for (int64_t mt = 0; mt < t->m_tiles; mt++)
                    t->fn(q->ap + (mt * q->r + r0) * t->mr, b + q->b_off + tc * t->nr,
                          q->boff + r0, q->r - r0 < KC ? q->r - r0 : KC,
                          c + q->c_off + mt * t->mr * t->ldc + tc * t->nr, t->ldc, r0 > 0);
}

/* All the products, their column tiles split over the threads when par. */
static void tiled_all(const struct tiled *t, const struct product *pr, int64_t np,
                      const float *b, float *c, bool par) {
    if (!par) { /* not even a team of one: see CPU_PARALLEL_FOR */
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
 * [v*sw + b[p] - pw], zero outside, rows x pitch floats each. */
struct planes {
    int64_t h, w, sh, sw, ph, pw, rows, pitch;
    int64_t n, *a, *b; /* phases kept, and their row and column offsets */
};

/* Fills every plane of img (channels of them per phase) into out. */
static void fill_planes(const struct planes *pl, const float *img, int64_t channels, float *out,
                        bool par) {
    int64_t size = pl->rows * pl->pitch;
    CPU_PARALLEL_FOR(par, cp, channels * pl->n,
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
        memset(d + uhi * pl->pitch, 0, sizeof(float) * (size_t)((pl->rows - uhi) * pl->pitch)););
}

/* Number of phases t*d % s (t < k) that some tap falls on, along one dim. */
static int64_t phases_used(int64_t k, int64_t d, int64_t s) {
    int64_t n = 0;
    for (int64_t a = 0; a < s; a++) {
        int64_t t = 0;
        while (t < k && t * d % s != a) t++;
        n += t < k;
    }
    return n;
}

/* Geometry of dx's phase grids: returns their rows uq, with *rows the most one phase needs,
 * and *pitch the pitch of the zero-padded gy planes. */
static int64_t phase_grid(const struct conv *cv, int64_t *rows, int64_t *pitch) {
    int64_t uq = (cv->h - 1 + cv->ph) / cv->sh + 1, vq = (cv->w - 1 + cv->pw) / cv->sw + 1;
    int64_t lo, hi;
    *rows = 0;
    for (int64_t a = 0; a < cv->sh; a++) {
        valid_range(uq, cv->h, cv->sh, cv->ph, a, &lo, &hi);
        *rows = hi - lo > *rows ? hi - lo : *rows;
    }
    *pitch = (vq > cv->wo ? vq : cv->wo) + cv->v0;
    return uq;
}

/* Tile shape of the weight gradient for K/g columns: rows_8x1, else rows_6x2. */
static int rows_nr(int64_t kg) { return kg <= 8 ? 8 : 16; }

/* True when op takes the direct path: the CPU has AVX2 and FMA, and little work is wasted. */
bool cpu_conv_use_direct(const struct conv *cv, enum tn_op op) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return false;
    struct tiled t;
    int64_t cg = cv->c / cv->g, rows, pitch;
    double waste, m = (double)cv->kg, excess = DIRECT_EXCESS;
    if (op == TN_OP_CONV2D) {
        tiled_init(&t, cv->kg, cv->ho * (cv->wo + cv->v0));
        waste = (double)(t.m_tiles * t.mr * t.ldc) / (double)(cv->kg * cv->p);
    } else if (op == TN_OP_CONV2D_GRAD_WEIGHT) {
        /* its rows run along an output row: at 1 to 3 columns the loop overhead dominates
         * (the critic's 1x1 map took 2.6x as long as im2col and sgemm) */
        if (cv->wo < 4) return false;
        waste = (double)(round_up(cv->kg, rows_nr(cv->kg)) * round_up(cv->rg, 8) *
                         (cv->wo + cv->v0)) / (double)(cv->kg * cv->rg * cv->wo);
    } else {
        phase_grid(cv, &rows, &pitch);
        tiled_init(&t, cg, rows * pitch);
        waste = (double)(phases_used(cv->kh, cv->dh, cv->sh) *
                         phases_used(cv->kw, cv->dw, cv->sw) * t.m_tiles * t.mr * t.ldc) /
                (double)(cg * cv->hw);
        m = (double)cg;
        excess = DIRECT_EXCESS_GRAD_INPUT;
    }
    return (waste - 1.0) * m <= excess;
}

/* Threads for the direct path: returns how many run images side by side, else 1 with
 * *tile_par telling whether one image's tiles are split over the threads. */
static int direct_threads(const struct conv *cv, bool *tile_par) {
    int t = omp_get_max_threads();
    double flops = (double)cv->n * (double)cv->k * (double)cv->p * (double)cv->rg;
    bool big = t > 1 && flops >= PARALLEL_MIN_FLOPS && !omp_in_parallel();
    *tile_par = big && cv->n < t;
    return big && cv->n >= t ? t : 1;
}

/* The phase planes of x for the forward pass and the weight gradient: fills pl, and boff[r]
 * with the offset of row r = (c, tap) of a group's col in the group's planes. Returns the
 * table behind pl->a and pl->b, for the caller to free. */
static int64_t *x_planes(const struct conv *cv, struct planes *pl, int64_t *boff) {
    int64_t taps = cv->kh * cv->kw, *tab = ints(4 * taps);
    *pl = (struct planes){cv->h, cv->w, cv->sh, cv->sw, cv->ph, cv->pw, cv->ho + cv->u0,
                          cv->wo + cv->v0, 0, tab, tab + taps};
    int64_t *tap_off = tab + 2 * taps, *tap_plane = tab + 3 * taps;
    for (int64_t tap = 0; tap < taps; tap++) { /* each tap's phase plane and shift in it */
        int64_t i = tap / cv->kw, j = tap % cv->kw, p = 0;
        int64_t a = i * cv->dh % cv->sh, b = j * cv->dw % cv->sw;
        while (p < pl->n && (pl->a[p] != a || pl->b[p] != b)) p++;
        if (p == pl->n) pl->a[pl->n] = a, pl->b[pl->n++] = b;
        tap_plane[tap] = p;
        tap_off[tap] = i * cv->dh / cv->sh * pl->pitch + j * cv->dw / cv->sw;
    }
    for (int64_t r = 0; r < cv->rg; r++)
        boff[r] = (r / taps * pl->n + tap_plane[r % taps]) * pl->rows * pl->pitch +
                  tap_off[r % taps];
    return tab;
}

/* y [N,K,Ho,Wo] = conv2d(x [N,C,H,W], w) (+ bias) on the direct path. */
void cpu_conv_direct_forward(const struct conv *cv, const float *x, const float *w, float *y) {
    int64_t cg = cv->c / cv->g, *boff = ints(2 * cv->rg), *aoff = boff + cv->rg;
    struct planes pl;
    int64_t *tab = x_planes(cv, &pl, boff), size = pl.rows * pl.pitch;
    for (int64_t r = 0; r < cv->rg; r++) aoff[r] = r;
    struct tiled t;
    tiled_init(&t, cv->kg, cv->ho * pl.pitch);
    int64_t ap_n = t.m_tiles * t.mr * cv->rg, ext_n = t.m_tiles * t.mr * t.ldc;
    float *ap = scratch(cv->g * ap_n, 1);
    struct product *pr = malloc(sizeof *pr * (size_t)cv->g);
    TN_CHECK(pr, "cpu_conv", "out of host memory");
    for (int64_t g = 0; g < cv->g; g++) {
        tiled_pack(&t, cv->kg, cv->rg, w + g * cv->kg * cv->rg, cv->rg, aoff, ap + g * ap_n);
        pr[g] = (struct product){ap + g * ap_n, boff, cv->rg, g * cg * pl.n * size, g * ext_n};
    }
    bool tile_par;
    int nt = direct_threads(cv, &tile_par);
    int64_t planes_n = cv->c * pl.n * size + (cv->u0 + 1) * pl.pitch + t.ldc;
    float *planes_s = scratch(planes_n, nt), *ext_s = scratch(cv->g * ext_n, nt);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        float *planes = piece(planes_s, planes_n, true), *ext = piece(ext_s, cv->g * ext_n, false);
#pragma omp for schedule(static)
        for (int64_t n = 0; n < cv->n; n++) {
            fill_planes(&pl, x + n * cv->c * cv->hw, cv->c, planes, tile_par);
            tiled_all(&t, pr, cv->g, planes, ext, tile_par);
            for (int64_t k = 0; k < cv->k; k++) /* crop the extended grid */
                for (int64_t oh = 0; oh < cv->ho; oh++)
                    copy_floats(y + (n * cv->k + k) * cv->p + oh * cv->wo,
                                ext + k / cv->kg * ext_n + k % cv->kg * t.ldc + oh * pl.pitch,
                                cv->wo);
            add_bias(cv, TN_OP_CONV2D, y, n, 1);
        }
    }
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

/* acc [mr rows of tile mt][ldb] += col rows (read from the planes by pointer, zrow past R)
 * x gt [cols][ldb] for one image, in column blocks whose piece of gt stays in L1. */
static void rows_run(int64_t mt, const float *planes, const int64_t *boff, int64_t rg,
                     const float *zrow, const float *gt, int64_t ldb, int64_t cols, float *acc) {
    int nr = rows_nr(ldb), mr = nr == 8 ? 8 : 6;
    rows_fn fn = nr == 8 ? rows_8x1 : rows_6x2;
    int64_t block = 4096 / ldb < 16 ? 16 : 4096 / ldb;
    for (int64_t p0 = 0; p0 < cols; p0 += block) {
        const float *a[8];
        for (int64_t m = 0, r = mt * mr; m < mr; m++, r++)
            a[m] = (r < rg ? planes + boff[r] : zrow) + p0;
        for (int64_t n0 = 0; n0 < ldb; n0 += nr)
            fn(a, gt + p0 * ldb + n0, ldb, cols - p0 < block ? cols - p0 : block,
               acc + mt * mr * ldb + n0, ldb, true);
    }
}

/* dw [K,C/g,kh,kw] from x [N,C,H,W] and gy [N,K,Ho,Wo] on the direct path: per group
 * dw^T [C/g*kh*kw, K/g] = col x gy^T, summed over images and threads, then transposed. */
void cpu_conv_direct_grad_weight(const struct conv *cv, const float *x, const float *gy,
                               float *dw) {
    int64_t cg = cv->c / cv->g, *boff = ints(cv->rg);
    struct planes pl;
    int64_t *tab = x_planes(cv, &pl, boff), size = pl.rows * pl.pitch, cols = cv->ho * pl.pitch;
    int64_t ldb = round_up(cv->kg, rows_nr(cv->kg)), mr = ldb == 8 ? 8 : 6;
    int64_t m_tiles = (cv->rg + mr - 1) / mr, acc_n = cv->g * m_tiles * mr * ldb;
    bool tile_par;
    int nt = direct_threads(cv, &tile_par);
    int64_t planes_n = cv->c * pl.n * size + (cv->u0 + 1) * pl.pitch + cols;
    float *planes_s = scratch(planes_n, nt), *gt_s = scratch(cv->g * cols * ldb, nt);
    float *sums = scratch(acc_n, nt), *zrow = scratch(cols, 1);
    memset(zrow, 0, sizeof(float) * (size_t)cols);
    /* zeroed: a thread the runtime does not start adds nothing */
    memset(sums, 0, sizeof(float) * (size_t)(nt * ((acc_n + 15) / 16 * 16)));
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        float *planes = piece(planes_s, planes_n, true), *acc = piece(sums, acc_n, false);
        float *gt = piece(gt_s, cv->g * cols * ldb, true); /* extra columns, rows stay zero */
#pragma omp for schedule(static)
        for (int64_t n = 0; n < cv->n; n++) {
            fill_planes(&pl, x + n * cv->c * cv->hw, cv->c, planes, tile_par);
            for (int64_t gr = 0; gr < cv->g * cv->ho; gr++) { /* gt [g][cols][ldb] = gy^T */
                int64_t g = gr / cv->ho, oh = gr % cv->ho;
                transpose(gy + (n * cv->k + g * cv->kg) * cv->p + oh * cv->wo, cv->p, cv->kg,
                          cv->wo, gt + (g * cols + oh * pl.pitch) * ldb, ldb);
            }
            CPU_PARALLEL_FOR(tile_par, gm, cv->g * m_tiles,
                int64_t g = gm / m_tiles;
                rows_run(gm % m_tiles, planes + g * cg * pl.n * size, boff, cv->rg, zrow,
                         gt + g * cols * ldb, ldb, cols, acc + g * m_tiles * mr * ldb););
        }
    }
    for (int64_t k = 0; k < cv->k; k++) /* dw [k][r] = sum over threads of acc [g][r][k] */
        for (int64_t r = 0; r < cv->rg; r++) {
            const float *s = sums + (k / cv->kg * m_tiles * mr + r) * ldb + k % cv->kg;
            float v = 0.0f;
            for (int t = 0; t < nt; t++) v += s[t * ((acc_n + 15) / 16 * 16)];
            dw[k * cv->rg + r] = v;
        }
    free(boff);
    free(tab);
}

/* A row d [w] of dx from its two column phases (stride 2): d[2m + t - pw] = e_t[m]. */
static void interleave2(float *d, int64_t w, int64_t pw, const float *e0, const float *e1) {
    int64_t i = 0;
    if (pw % 2 && w > 0) d[i++] = e1[pw / 2];
    int64_t m0 = (i + pw) / 2, pairs = (w - i) / 2;
    for (int64_t j = 0; j < pairs; j++) {
        d[i + 2 * j] = e0[m0 + j];
        d[i + 2 * j + 1] = e1[m0 + j];
    }
    i += 2 * pairs;
    if (i < w) d[i] = e0[(i + pw) / 2];
}

/* dx [N,C,H,W] from gy [N,K,Ho,Wo] and w on the direct path, by phases of dx. */
void cpu_conv_direct_grad_input(const struct conv *cv, const float *gy, const float *w,
                              float *dx) {
    int64_t taps = cv->kh * cv->kw, cg = cv->c / cv->g, phases = cv->sh * cv->sw;
    int64_t rows, pitch, uq = phase_grid(cv, &rows, &pitch), zero = 0, lo_max = 0, r = 0;
    struct planes pl = {cv->ho, cv->wo, 1, 1, cv->u0, cv->v0,
                        (uq > cv->ho ? uq : cv->ho) + cv->u0, pitch, 1, &zero, &zero};
    int64_t size = pl.rows * pitch, *r_start = ints(phases + 1 + 2 * cv->kg * taps);
    int64_t *boff = r_start + phases + 1, *aoff = boff + cv->kg * taps;
    bool holes = false; /* phases no tap reaches stay zero */
    for (int64_t q = 0; q < phases; q++) { /* phase q's terms: (k, tap) for its taps */
        r_start[q] = r;
        for (int64_t k = 0; k < cv->kg; k++)
            for (int64_t tap = 0; tap < taps; tap++) {
                int64_t i = tap / cv->kw, j = tap % cv->kw;
                if (i * cv->dh % cv->sh != q / cv->sw || j * cv->dw % cv->sw != q % cv->sw)
                    continue;
                boff[r] = k * size + (cv->u0 - i * cv->dh / cv->sh) * pitch + cv->v0 -
                          j * cv->dw / cv->sw;
                aoff[r++] = k * cv->rg + tap;
            }
        holes |= r == r_start[q];
    }
    r_start[phases] = r;
    struct tiled t;
    tiled_init(&t, cg, rows * pitch);
    int64_t ap_n = t.m_tiles * t.mr * cv->kg * taps, ext_n = t.m_tiles * t.mr * t.ldc, np = 0;
    float *ap = scratch(cv->g * ap_n, 1);
    struct product *pr = malloc(sizeof *pr * (size_t)(cv->g * phases));
    TN_CHECK(pr, "cpu_conv", "out of host memory");
    for (int64_t g = 0; g < cv->g; g++)
        for (int64_t q = 0; q < phases; q++) {
            int64_t nq = r_start[q + 1] - r_start[q], lo, hi;
            float *apq = ap + g * ap_n + t.m_tiles * t.mr * r_start[q];
            tiled_pack(&t, cg, nq, w + g * cv->kg * cv->rg, taps, aoff + r_start[q], apq);
            valid_range(uq, cv->h, cv->sh, cv->ph, q / cv->sw, &lo, &hi);
            lo_max = lo > lo_max ? lo : lo_max; /* the phase's grid starts at its row lo */
            if (nq)
                pr[np++] = (struct product){apq, boff + r_start[q], nq,
                                            g * cv->kg * size + lo * pitch,
                                            (g * phases + q) * ext_n};
        }
    bool tile_par;
    int nt = direct_threads(cv, &tile_par);
    int64_t planes_n = cv->k * size + (cv->u0 + lo_max + 1) * pitch + t.ldc;
    float *planes_s = scratch(planes_n, nt), *ext_s = scratch(cv->g * phases * ext_n, nt);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        float *planes = piece(planes_s, planes_n, true);
        float *ext = piece(ext_s, cv->g * phases * ext_n, false);
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
                                         (u - ulo) * pitch;
                        if (pair) {
                            interleave2(d, cv->w, cv->pw, e, e + ext_n);
                            continue;
                        }
                        for (int64_t b = 0; b < cv->sw; b++, e += ext_n) {
                            int64_t vlo, vhi;
                            if (r_start[q0 + b + 1] == r_start[q0 + b]) continue;
                            valid_range(pitch, cv->w, cv->sw, cv->pw, b, &vlo, &vhi);
                            for (int64_t v = vlo; v < vhi; v++) d[v * cv->sw + b - cv->pw] = e[v];
                        }
                    }
            }
            add_bias(cv, TN_OP_CONV2D_GRAD_INPUT, dx, n, 1);
        }
    }
    free(pr);
    free(r_start);
}


#else

typedef int cpu_conv_direct_not_built; /* no AVX2 path on this target */

#endif /* CONV_TILES */
