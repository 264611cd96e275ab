/* roc.c - the ROC curve and its AUC for out-of-distribution detection
 * (gwae-spec.md section 7, clu.py ood_detection through sklearn's roc_curve/roc_auc_score).
 *
 * The scores (critic values) come from the tool; this file only ranks them. Unlike sklearn's
 * roc_curve it keeps every threshold (no dropping of collinear points), which changes the
 * number of points but neither the curve nor the AUC.
 */
#include <stdlib.h>

#include "metrics.h"
#include "tensor/tn_error.h"

struct scored {
    double score;
    int positive;
};

/* qsort order: higher scores first. */
static int by_score_desc(const void *pa, const void *pb) {
    double a = ((const struct scored *)pa)->score, b = ((const struct scored *)pb)->score;
    return (a < b) - (a > b);
}

double gw_roc(const double *neg, int64_t n_neg, const double *pos, int64_t n_pos, double *fpr,
              double *tpr, int64_t *n_points) {
    TN_CHECK(neg && pos && n_neg > 0 && n_pos > 0, "gw_roc",
             "need at least one negative and one positive (%lld, %lld)", (long long)n_neg,
             (long long)n_pos);
    int64_t n = n_neg + n_pos;
    struct scored *s = malloc((size_t)n * sizeof *s);
    TN_CHECK(s, "gw_roc", "out of memory for %lld scores", (long long)n);
    for (int64_t i = 0; i < n_neg; i++) s[i] = (struct scored){neg[i], 0};
    for (int64_t i = 0; i < n_pos; i++) s[n_neg + i] = (struct scored){pos[i], 1};
    qsort(s, (size_t)n, sizeof *s, by_score_desc);

    /* Lower the threshold one distinct score at a time; a block of tied scores moves the
     * curve along one straight segment, which the trapezoid rule credits one half. */
    int64_t tp = 0, fp = 0, points = 0;
    double area = 0.0; /* in units of (negatives x positives) */
    if (fpr) fpr[0] = 0.0;
    if (tpr) tpr[0] = 0.0;
    points = 1;
    for (int64_t i = 0; i < n;) {
        int64_t tp0 = tp, fp0 = fp, j = i;
        for (; j < n && s[j].score == s[i].score; j++) {
            if (s[j].positive)
                tp++;
            else
                fp++;
        }
        area += (double)(fp - fp0) * (double)(tp + tp0) * 0.5;
        if (fpr) fpr[points] = (double)fp / (double)n_neg;
        if (tpr) tpr[points] = (double)tp / (double)n_pos;
        points++;
        i = j;
    }
    free(s);
    if (n_points) *n_points = points;
    return area / ((double)n_neg * (double)n_pos);
}
