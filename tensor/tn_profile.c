/* tn_profile.c - the op profiler's counters and its report at exit (see tn_profile.h).
 *
 * Counters are plain statics updated by the thread that dispatches ops (the engine dispatches
 * from one thread; OpenMP works inside kernels). Per-shape entries live in a fixed open-
 * addressing table keyed by the op and its first two input shapes; when it is full, further
 * shapes are counted under their op only. The reports sort by total time.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include "tn_profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tn_tensor.h"

#define SHAPE_SLOTS 1024
#define SHAPES_SHOWN 80

struct op_total {
    long long calls, ns, values;
};

struct shape_total {
    struct op_total t;
    int op;                       /* -1: empty slot */
    int ndim[2];
    int64_t shape[2][TN_MAX_DIMS];
};

static int profile_state = -1; /* -1 unread, 0 off, 1 per op, 2 per op and shape */
static struct op_total totals[TN_OP_COUNT];
static struct shape_total *shapes; /* [SHAPE_SLOTS] when profile_state == 2 */

static void print_shape(char *buf, size_t size, const struct shape_total *s, int k) {
    size_t used = 0;
    buf[0] = '\0';
    for (int d = 0; d < s->ndim[k] && used + 1 < size; d++)
        used += (size_t)snprintf(buf + used, size - used, d ? "x%lld" : "%lld",
                                 (long long)s->shape[k][d]);
}

static void report_shapes(long long all_ns) {
    int order[SHAPE_SLOTS], n = 0;
    for (int i = 0; i < SHAPE_SLOTS; i++)
        if (shapes[i].op >= 0) order[n++] = i;
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && shapes[order[j]].t.ns > shapes[order[j - 1]].t.ns; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    fprintf(stderr, "\n%-20s %-22s %-16s %8s %10s %7s\n", "op", "input 0", "input 1", "calls",
            "total ms", "share");
    for (int i = 0; i < n && i < SHAPES_SHOWN; i++) {
        const struct shape_total *s = &shapes[order[i]];
        char a[64], b[64];
        print_shape(a, sizeof a, s, 0);
        print_shape(b, sizeof b, s, 1);
        fprintf(stderr, "%-20s %-22s %-16s %8lld %10.1f %6.1f%%\n", tn_op_name(s->op), a, b,
                s->t.calls, s->t.ns * 1e-6, 100.0 * (double)s->t.ns / (double)(all_ns ? all_ns : 1));
    }
}

static void report(void) {
    int order[TN_OP_COUNT], n = 0;
    long long all_ns = 0;
    for (int op = 0; op < TN_OP_COUNT; op++)
        if (totals[op].calls) {
            order[n++] = op;
            all_ns += totals[op].ns;
        }
    for (int i = 1; i < n; i++) /* insertion sort by total time, largest first */
        for (int j = i; j > 0 && totals[order[j]].ns > totals[order[j - 1]].ns; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    fprintf(stderr, "\n%-20s %10s %12s %7s %14s\n", "op (TN_PROFILE)", "calls", "total ms", "share",
            "Mvalues/s");
    for (int i = 0; i < n; i++) {
        const struct op_total *t = &totals[order[i]];
        fprintf(stderr, "%-20s %10lld %12.1f %6.1f%% %14.1f\n", tn_op_name(order[i]), t->calls,
                t->ns * 1e-6, 100.0 * (double)t->ns / (double)(all_ns ? all_ns : 1),
                t->ns ? (double)t->values * 1e3 / (double)t->ns : 0.0);
    }
    fprintf(stderr, "%-20s %10s %12.1f\n", "all kernels", "", all_ns * 1e-6);
    if (shapes) {
        report_shapes(all_ns);
        free(shapes);
    }
}

bool tn_profile_enabled(void) {
    if (profile_state < 0) {
        const char *v = getenv("TN_PROFILE");
        profile_state = v ? atoi(v) : 0;
        if (profile_state < 0 || profile_state > 2) profile_state = 1;
        if (profile_state == 2 && !(shapes = malloc(sizeof *shapes * SHAPE_SLOTS)))
            profile_state = 1;
        for (int i = 0; shapes && i < SHAPE_SLOTS; i++) shapes[i].op = -1;
        if (profile_state) atexit(report);
    }
    return profile_state > 0;
}

long long tn_profile_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* the slot of (op, shapes of in[0], in[1]), claimed if new; NULL when the table is full */
static struct shape_total *shape_slot(enum tn_op op, int n, struct tn_tensor *const *in) {
    struct shape_total key = {.op = (int)op};
    for (int k = 0; k < 2 && k < n; k++) {
        key.ndim[k] = in[k]->ndim;
        memcpy(key.shape[k], in[k]->shape, sizeof(int64_t) * (size_t)in[k]->ndim);
    }
    uint64_t h = 1469598103934665603ull ^ (uint64_t)op;
    for (int k = 0; k < 2; k++)
        for (int d = 0; d < key.ndim[k]; d++) h = (h ^ (uint64_t)key.shape[k][d]) * 1099511628211ull;
    for (int probe = 0; probe < SHAPE_SLOTS; probe++) {
        struct shape_total *s = &shapes[(h + (uint64_t)probe) % SHAPE_SLOTS];
        if (s->op < 0) {
            *s = key;
            return s;
        }
        if (s->op == key.op && !memcmp(s->ndim, key.ndim, sizeof key.ndim) &&
            !memcmp(s->shape, key.shape, sizeof key.shape))
            return s;
    }
    return NULL;
}

void tn_profile_add(enum tn_op op, int n, struct tn_tensor *const *in, long long ns,
                    long long out_numel) {
    totals[op].calls++;
    totals[op].ns += ns;
    totals[op].values += out_numel;
    struct shape_total *s = shapes ? shape_slot(op, n, in) : NULL;
    if (s) {
        s->t.calls++;
        s->t.ns += ns;
        s->t.values += out_numel;
    }
}
