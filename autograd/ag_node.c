/* ag_node.c - recording: grad mode, ag_apply (op + node), node lifetime, ag_detach. */
#include <stdlib.h>
#include <string.h>

#include "ag.h"
#include "ag_node.h"

static _Thread_local bool grad_disabled;
static uint64_t next_seq = 1;

bool ag_grad_enabled(void) { return !grad_disabled; }

bool ag_set_grad_enabled(bool enabled) {
    bool previous = !grad_disabled;
    grad_disabled = !enabled;
    return previous;
}

void ag_node_release_inputs(struct ag_node *node) {
    for (int i = 0; i < node->n_inputs; i++) {
        tn_release(node->inputs[i]);
        node->inputs[i] = NULL;
    }
    node->released = true;
}

/* Nodes whose last reference is gone, waiting to be freed by the outermost release call. */
struct release_stack {
    struct ag_node **items;
    int64_t n, cap;
    struct ag_node *inline_items[64];
};

static _Thread_local struct release_stack *active_release;

static void release_push(struct release_stack *s, struct ag_node *node) {
    if (s->n == s->cap) {
        int64_t cap = 2 * s->cap;
        struct ag_node **grown = malloc((size_t)cap * sizeof *grown);
        TN_CHECK(grown, "ag_node_release", "out of host memory");
        memcpy(grown, s->items, (size_t)s->n * sizeof *grown);
        if (s->items != s->inline_items) free(s->items);
        s->items = grown;
        s->cap = cap;
    }
    s->items[s->n++] = node;
}

/* Releases nodes iteratively: dropping a node may drop its inputs' nodes, and a chain of
 * thousands of nodes must not recurse thousands deep. Nested calls (from the tn_release of
 * a node's inputs) only push onto the outermost call's stack. */
void ag_node_release(struct ag_node *node) {
    if (--node->refcount > 0) return;
    if (active_release) {
        release_push(active_release, node);
        return;
    }
    struct release_stack stack = {.cap = 64};
    stack.items = stack.inline_items;
    active_release = &stack;
    release_push(&stack, node);
    while (stack.n > 0) {
        struct ag_node *dead = stack.items[--stack.n];
        ag_node_release_inputs(dead); /* may push more nodes */
        tn_release(dead->pending);
        free(dead);
    }
    active_release = NULL;
    if (stack.items != stack.inline_items) free(stack.items);
}

struct tn_tensor *ag_apply(enum tn_op op, int n, struct tn_tensor *const *in,
                           const struct tn_op_params *p) {
    struct tn_tensor *out = tn_op_run(op, n, in, p);
    if (grad_disabled) return out;
    bool any = false;
    bool needs[TN_MAX_INPUTS] = {0};
    for (int i = 0; i < n; i++) {
        needs[i] = in[i]->requires_grad && tn_op_input_differentiable(op, i);
        any = any || needs[i];
    }
    if (!any) return out;
    tn_set_node_release(ag_node_release);
    struct ag_node *node = calloc(1, sizeof *node);
    TN_CHECK(node, tn_op_name(op), "out of host memory for a node");
    node->refcount = 1;
    node->op = op;
    node->params = *p;
    node->n_inputs = n;
    for (int i = 0; i < n; i++) {
        node->inputs[i] = tn_retain(in[i]);
        node->versions[i] = in[i]->storage->version;
        node->needs_grad[i] = needs[i];
    }
    node->out_ndim = out->ndim;
    memcpy(node->out_shape, out->shape, sizeof(int64_t) * (size_t)out->ndim);
    node->seq = next_seq++;
    out->grad_fn = node;
    out->requires_grad = true;
    return out;
}

struct tn_tensor *ag_detach(struct tn_tensor *x) {
    return tn_view(x, x->ndim, x->shape, x->strides, x->offset);
}
