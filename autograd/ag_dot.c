/* ag_dot.c - writes the recorded graph as Graphviz DOT, for reading and teaching.
 *
 * Boxes are ops (name and output shape), ellipses are leaves (shape, and "grad" when they
 * require it); edges point from an input to the op that consumed it, as data flows.
 */
#include <stdlib.h>

#include "ag.h"
#include "ag_node.h"

struct seen {
    const void **items;
    int64_t n, cap;
};

static bool seen_add(struct seen *s, const void *p) {
    for (int64_t i = 0; i < s->n; i++)
        if (s->items[i] == p) return false;
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->items = realloc(s->items, (size_t)s->cap * sizeof *s->items);
        TN_CHECK(s->items, "ag_dump_dot", "out of host memory");
    }
    s->items[s->n++] = p;
    return true;
}

void ag_dump_dot(FILE *file, int n_out, struct tn_tensor *const *outputs,
                 const char *const *names) {
    struct seen seen = {0};
    struct seen stack = {0};
    char buf[128];
    fprintf(file, "digraph autograd {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n");
    for (int k = 0; k < n_out; k++) {
        const struct tn_tensor *t = outputs[k];
        fprintf(file, "  out%d [label=\"%s\\n%s\", shape=doubleoctagon];\n", k,
                names && names[k] ? names[k] : "output", tn_shape_str(t->ndim, t->shape, buf, sizeof buf));
        if (t->grad_fn) {
            fprintf(file, "  n%llu -> out%d;\n", (unsigned long long)t->grad_fn->seq, k);
            if (seen_add(&seen, t->grad_fn)) seen_add(&stack, t->grad_fn);
        }
    }
    while (stack.n > 0) {
        const struct ag_node *node = stack.items[--stack.n];
        fprintf(file, "  n%llu [label=\"%s\\n%s\", shape=box];\n", (unsigned long long)node->seq,
                tn_op_name(node->op), tn_shape_str(node->out_ndim, node->out_shape, buf, sizeof buf));
        for (int i = 0; i < node->n_inputs; i++) {
            const struct tn_tensor *in = node->inputs[i];
            if (!in) continue; /* released by a backward pass */
            if (in->grad_fn) {
                fprintf(file, "  n%llu -> n%llu;\n", (unsigned long long)in->grad_fn->seq,
                        (unsigned long long)node->seq);
                if (seen_add(&seen, in->grad_fn)) seen_add(&stack, in->grad_fn);
            } else {
                if (seen_add(&seen, in))
                    fprintf(file, "  t%llu [label=\"t%llu\\n%s%s\", shape=ellipse];\n",
                            (unsigned long long)in->id, (unsigned long long)in->id,
                            tn_shape_str(in->ndim, in->shape, buf, sizeof buf),
                            in->requires_grad ? "\\ngrad" : "");
                fprintf(file, "  t%llu -> n%llu;\n", (unsigned long long)in->id, (unsigned long long)node->seq);
            }
        }
    }
    fprintf(file, "}\n");
    free(seen.items);
    free(stack.items);
}
