/* transport.c - exact optimal transport between two uniform discrete measures (the
 * linear problem inside the conditional-gradient GW solver, POT's emd).
 *
 * With uniform weights the problem is a transportation problem with integer masses: n sources
 * of m/g units and m sinks of n/g units (g = gcd(n, m)). It is solved exactly by successive
 * shortest paths with node potentials (Dijkstra on reduced costs, dense O((n + m)^2) per
 * augmentation); for n == m every mass is 1 and this is the O(n^3) Hungarian method, whose
 * optimum is a permutation. Nothing here knows about GW.
 */
#include <math.h>
#include <stdlib.h>

#include "metrics.h"
#include "tensor/tn_error.h"

static int64_t gcd64(int64_t a, int64_t b) {
    while (b) {
        int64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Node numbering of the flow network: sources 0..n-1, sinks n..n+m-1, the sink side's
 * terminal n+m. The super source has potential 0 forever (its distance is always 0). */
struct network {
    int64_t n, m;
    const double *cost;  /* [n, m] */
    int64_t *flow;       /* [n, m] units on source -> sink arcs */
    int64_t *supply;     /* [n] units each source still has to send */
    int64_t *demand;     /* [m] units each sink still has to receive */
    double *pot;         /* [n + m + 1] potentials keeping reduced costs >= 0 */
    double *dist;        /* [n + m + 1] Dijkstra distances on reduced costs */
    int64_t *pred;       /* [n + m + 1] previous node on the shortest path (-1: super source) */
    unsigned char *done; /* [n + m + 1] settled */
};

/* Relaxes node v to distance d through u. */
static void relax(struct network *g, int64_t u, int64_t v, double d) {
    if (!g->done[v] && d < g->dist[v]) {
        g->dist[v] = d;
        g->pred[v] = u;
    }
}

/* One shortest path from the super source to the terminal on reduced costs, then the
 * potential update; false when the terminal is unreachable (all mass sent). */
static bool shortest_path(struct network *g) {
    int64_t n = g->n, m = g->m, nodes = n + m + 1, term = n + m;
    for (int64_t v = 0; v < nodes; v++) {
        g->dist[v] = INFINITY;
        g->pred[v] = -1;
        g->done[v] = 0;
    }
    for (int64_t i = 0; i < n; i++)
        if (g->supply[i] > 0) g->dist[i] = fmax(0.0, -g->pot[i]);
    for (;;) {
        int64_t u = -1;
        for (int64_t v = 0; v < nodes; v++)
            if (!g->done[v] && (u < 0 || g->dist[v] < g->dist[u])) u = v;
        if (u < 0 || g->dist[u] == INFINITY) return false;
        g->done[u] = 1;
        if (u == term) break;
        double du = g->dist[u];
        if (u < n) { /* source: forward arcs to every sink */
            const double *row = g->cost + u * m;
            for (int64_t j = 0; j < m; j++)
                relax(g, u, n + j, du + fmax(0.0, row[j] + g->pot[u] - g->pot[n + j]));
        } else { /* sink: backward arcs where flow runs, and the terminal if it still wants */
            int64_t j = u - n;
            for (int64_t i = 0; i < n; i++)
                if (g->flow[i * m + j] > 0)
                    relax(g, u, i, du + fmax(0.0, -g->cost[i * m + j] + g->pot[u] - g->pot[i]));
            if (g->demand[j] > 0) relax(g, u, term, du + fmax(0.0, g->pot[u] - g->pot[term]));
        }
    }
    double dt = g->dist[term];
    for (int64_t v = 0; v < nodes; v++) g->pot[v] += g->dist[v] < dt ? g->dist[v] : dt;
    return true;
}

/* Sends the bottleneck amount along the path shortest_path found. */
static void augment(struct network *g) {
    int64_t n = g->n, m = g->m, term = n + m;
    int64_t last_sink = g->pred[term], v = last_sink, amount = g->demand[last_sink - n];
    while (g->pred[v] >= 0) { /* walk back to the first source; backward arcs bound it */
        int64_t u = g->pred[v];
        if (u >= n) amount = amount < g->flow[v * m + (u - n)] ? amount : g->flow[v * m + (u - n)];
        v = u;
    }
    if (g->supply[v] < amount) amount = g->supply[v];
    g->supply[v] -= amount;
    g->demand[last_sink - n] -= amount;
    for (v = last_sink; g->pred[v] >= 0; v = g->pred[v]) {
        int64_t u = g->pred[v];
        if (u < n)
            g->flow[u * m + (v - n)] += amount; /* source u -> sink v */
        else
            g->flow[v * m + (u - n)] -= amount; /* sink u -> source v undoes flow v -> u */
    }
}

double gw_emd_uniform(const double *cost, int64_t n, int64_t m, double *plan) {
    TN_CHECK(cost && plan && n > 0 && m > 0, "gw_emd_uniform", "NULL array or empty side");
    int64_t g_nm = gcd64(n, m), nodes = n + m + 1;
    struct network g = {
        .n = n,
        .m = m,
        .cost = cost,
        .flow = calloc((size_t)(n * m), sizeof(int64_t)),
        .supply = malloc((size_t)n * sizeof(int64_t)),
        .demand = malloc((size_t)m * sizeof(int64_t)),
        .pot = malloc((size_t)nodes * sizeof(double)),
        .dist = malloc((size_t)nodes * sizeof(double)),
        .pred = malloc((size_t)nodes * sizeof(int64_t)),
        .done = malloc((size_t)nodes),
    };
    TN_CHECK(g.flow && g.supply && g.demand && g.pot && g.dist && g.pred && g.done,
             "gw_emd_uniform", "out of memory (%lld x %lld)", (long long)n, (long long)m);
    for (int64_t i = 0; i < n; i++) g.supply[i] = m / g_nm;
    for (int64_t j = 0; j < m; j++) g.demand[j] = n / g_nm;
    /* Feasible start: with no flow only forward arcs exist, and sink potentials at their
     * column minimum make every one of them non-negative. */
    double lowest = INFINITY;
    for (int64_t i = 0; i < n; i++) g.pot[i] = 0.0;
    for (int64_t j = 0; j < m; j++) {
        double c = INFINITY;
        for (int64_t i = 0; i < n; i++) c = fmin(c, cost[i * m + j]);
        g.pot[n + j] = c;
        lowest = fmin(lowest, c);
    }
    g.pot[n + m] = lowest;
    while (shortest_path(&g)) augment(&g);

    double total = 0.0, unit = (double)g_nm / ((double)n * (double)m);
    for (int64_t k = 0; k < n * m; k++) {
        plan[k] = (double)g.flow[k] * unit;
        total += plan[k] * cost[k];
    }
    free(g.flow);
    free(g.supply);
    free(g.demand);
    free(g.pot);
    free(g.dist);
    free(g.pred);
    free(g.done);
    return total;
}
