/* isometry.c - what the isometry figure (paper Fig. 1b) is made of: the Pearson
 * correlation of paired distances and their 2-D histogram.
 *
 * Drawing the histogram is plot.c's; drawing the pairs (prior samples, decodings) is the
 * tool's.
 */
#include <math.h>

#include "metrics.h"
#include "tensor/tn_error.h"

double gw_correlation(const double *a, const double *b, int64_t n) {
    TN_CHECK(a && b && n >= 2, "gw_correlation", "need n >= 2 pairs (n = %lld)", (long long)n);
    double ma = 0.0, mb = 0.0;
    for (int64_t i = 0; i < n; i++) {
        ma += a[i];
        mb += b[i];
    }
    ma /= (double)n;
    mb /= (double)n;
    /* centred sums: the one-pass formula loses digits when the means are large */
    double sab = 0.0, saa = 0.0, sbb = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double da = a[i] - ma, db = b[i] - mb;
        sab += da * db;
        saa += da * da;
        sbb += db * db;
    }
    if (saa == 0.0 || sbb == 0.0) return 0.0;
    return sab / sqrt(saa * sbb);
}

/* The bin of v in [lo, hi) cut into bins equal parts, or -1 outside (NaN included). */
static int bin_of(double v, double lo, double hi, int bins) {
    if (!(v >= lo && v < hi)) return -1;
    int k = (int)((v - lo) / (hi - lo) * bins);
    return k < bins ? k : bins - 1; /* round-off just below hi */
}

int64_t gw_histogram2d(const double *a, const double *b, int64_t n, double a_lo, double a_hi,
                       double b_lo, double b_hi, int bins_a, int bins_b, int64_t *counts) {
    TN_CHECK(a && b && counts && n >= 0, "gw_histogram2d", "NULL array or n < 0");
    TN_CHECK(bins_a > 0 && bins_b > 0 && a_hi > a_lo && b_hi > b_lo, "gw_histogram2d",
             "need bins > 0 and non-empty ranges ([%g, %g) x [%g, %g), %d x %d bins)", a_lo,
             a_hi, b_lo, b_hi, bins_a, bins_b);
    for (int64_t k = 0; k < (int64_t)bins_a * bins_b; k++) counts[k] = 0;
    int64_t counted = 0;
    for (int64_t i = 0; i < n; i++) {
        int ka = bin_of(a[i], a_lo, a_hi, bins_a), kb = bin_of(b[i], b_lo, b_hi, bins_b);
        if (ka < 0 || kb < 0) continue;
        counts[(int64_t)kb * bins_a + ka]++;
        counted++;
    }
    return counted;
}
