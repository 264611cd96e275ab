/* dot_example.c - builds y = sum(leaky_relu(x @ w, 0.2) * 2) and writes its graph as DOT.
 *
 *   dot_example          the graph that computed y (the forward tape)
 *   dot_example --grad   the graph that computed dy/dx, recorded with AG_CREATE_GRAPH
 *
 * The DOT text goes to stdout (render it with `dot -Tpng -o graph.png`), the values to
 * stderr. docs/autograd.md walks through both graphs. This is a teaching program, not a test.
 */
#include <stdio.h>
#include <string.h>

#include "autograd/ag.h"

static void print_tensor(const char *name, const struct tn_tensor *t) {
    float v[16];
    char shape[64];
    tn_to_host(t, v);
    fprintf(stderr, "%s %s:", name, tn_shape_str(t->ndim, t->shape, shape, sizeof shape));
    for (int64_t i = 0; i < t->numel && i < 16; i++) fprintf(stderr, " %g", (double)v[i]);
    fputc('\n', stderr);
}

int main(int argc, char **argv) {
    bool grad_graph = argc > 1 && strcmp(argv[1], "--grad") == 0;
    if (argc > 2 || (argc == 2 && !grad_graph)) {
        fprintf(stderr, "usage: %s [--grad]\n", argv[0]);
        return 2;
    }

    tn_scope_begin(); /* every tensor below belongs to this scope */

    /* x [2, 3] and w [3, 4]: leaves that want gradients */
    const float x_values[6] = {1.0f, -2.0f, 0.5f, 0.3f, 1.0f, -1.0f};
    const float w_values[12] = {0.5f, -1.0f, 0.25f, 2.0f, 1.5f, 0.0f, -0.5f, 1.0f,
                                -1.0f, 0.75f, 1.0f, 0.5f};
    struct tn_tensor *x = tn_set_requires_grad(tn_from_host(TN_CPU, 2, (int64_t[]){2, 3}, x_values), true);
    struct tn_tensor *w = tn_set_requires_grad(tn_from_host(TN_CPU, 2, (int64_t[]){3, 4}, w_values), true);

    /* the forward pass records one node per op */
    struct tn_tensor *h = ag_matmul(x, w);           /* [2, 4] */
    struct tn_tensor *a = ag_leaky_relu(h, 0.2f);    /* [2, 4] */
    struct tn_tensor *s = ag_mul_scalar(a, 2.0f);    /* [2, 4] */
    struct tn_tensor *y = ag_sum_all(s);             /* [] (0-dim) */
    print_tensor("y", y);

    if (!grad_graph) {
        const char *names[1] = {"y"};
        ag_dump_dot(stdout, 1, &y, names);
    } else {
        /* dy/dx with the backward pass recorded: dx carries a graph of its own */
        struct tn_tensor *dx;
        ag_grad(1, &y, NULL, 1, &x, &dx, AG_CREATE_GRAPH);
        print_tensor("dy/dx", dx);
        const char *names[1] = {"dy/dx"};
        ag_dump_dot(stdout, 1, &dx, names);
    }

    tn_scope_end(); /* drops every tensor, node and gradient made above */
    return 0;
}
