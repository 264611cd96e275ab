/* psnr.c - PSNR of one image (MAX = 1) and the mean / standard error summary the
 * paper's tables report (gwae-spec.md section 7, "PSNR").
 *
 * Averaging over images and batches is the caller's; nothing here knows about batches.
 */
#include <math.h>

#include "metrics.h"
#include "tensor/tn_error.h"

double gw_psnr(const float *a, const float *b, int64_t n) {
    TN_CHECK(a && b && n > 0, "gw_psnr", "need two images of n > 0 values (n = %lld)",
             (long long)n);
    double sum = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        sum += d * d;
    }
    if (sum == 0.0) return INFINITY;
    /* 20 log10(MAX) - 10 log10(MSE) with MAX = 1 */
    return -10.0 * log10(sum / (double)n);
}

void gw_mean_stderr(const double *v, int64_t n, double *mean, double *stderr_) {
    TN_CHECK(v && n > 0 && mean && stderr_, "gw_mean_stderr", "need n > 0 values (n = %lld)",
             (long long)n);
    double m = 0.0;
    for (int64_t i = 0; i < n; i++) m += v[i];
    m /= (double)n;
    double ss = 0.0;
    for (int64_t i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
    *mean = m;
    *stderr_ = n < 2 ? 0.0 : sqrt(ss / (double)(n - 1)) / sqrt((double)n);
}
