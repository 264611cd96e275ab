/* ag_engine.c - the backward pass: ag_grad, ag_backward, ag_zero_grad.
 *
 * One pass, iterative from start to end (no recursion, so graph depth is unbounded):
 *  1. collect the nodes reachable from the outputs with an explicit stack;
 *  2. sort them by creation order, newest first: in an eager engine every node is created
 *     after the nodes of its inputs, so this is a reverse topological order;
 *  3. mark the nodes that lead to a wanted tensor, so no rule computes a gradient nobody asked
 *     for (the gradient penalty asks for input gradients only, not the weights');
 *  4. seed the outputs' gradients and run each node's rule once its gradient is complete,
 *     adding each input's gradient into the pending gradient of the input's node with ag_add,
 *     which records nodes too when the pass itself is recorded (AG_CREATE_GRAPH).
 */
#include <stdlib.h>

#include "ag.h"
#include "ag_node.h"

static uint64_t epoch;

struct node_list {
    struct ag_node **items;
    int64_t n, cap;
};

static void list_push(struct node_list *list, struct ag_node *node) {
    if (list->n == list->cap) {
        int64_t cap = list->cap ? 2 * list->cap : 64;
        struct ag_node **grown = realloc(list->items, (size_t)cap * sizeof *grown);
        TN_CHECK(grown, "ag_grad", "out of host memory");
        list->items = grown;
        list->cap = cap;
    }
    list->items[list->n++] = node;
}

static int newest_first(const void *a, const void *b) {
    uint64_t sa = (*(struct ag_node *const *)a)->seq, sb = (*(struct ag_node *const *)b)->seq;
    return sa < sb ? 1 : (sa > sb ? -1 : 0);
}

/* Every node reachable from the outputs, newest first, each with a reference held. */
static struct node_list collect(int n_out, struct tn_tensor *const *outputs) {
    struct node_list order = {0}, stack = {0};
    epoch++;
    for (int k = 0; k < n_out; k++)
        if (outputs[k]->grad_fn && outputs[k]->grad_fn->visit_epoch != epoch) {
            outputs[k]->grad_fn->visit_epoch = epoch;
            list_push(&stack, outputs[k]->grad_fn);
        }
    while (stack.n > 0) {
        struct ag_node *node = stack.items[--stack.n];
        TN_CHECK(!node->released, "ag_grad",
                 "the graph through op %s was already freed by a backward pass; pass "
                 "AG_RETAIN_GRAPH to the first pass to run another",
                 tn_op_name(node->op));
        node->refcount++; /* held until the pass is done with it */
        list_push(&order, node);
        for (int i = 0; i < node->n_inputs; i++) {
            struct ag_node *up = node->inputs[i]->grad_fn;
            if (node->needs_grad[i] && up && up->visit_epoch != epoch) {
                up->visit_epoch = epoch;
                list_push(&stack, up);
            }
        }
    }
    free(stack.items);
    qsort(order.items, (size_t)order.n, sizeof *order.items, newest_first);
    return order;
}

/* Index of t among the targets, or -1. */
static int target_index(const struct tn_tensor *t, int n_in, struct tn_tensor *const *inputs) {
    for (int j = 0; j < n_in; j++)
        if (inputs[j] == t) return j;
    return -1;
}

/* acc += g, keeping one reference of our own in *acc. */
static void accumulate(struct tn_tensor **acc, struct tn_tensor *g) {
    if (!*acc) {
        *acc = tn_keep(g);
        return;
    }
    struct tn_tensor *sum = tn_keep(ag_add(*acc, g));
    tn_release(*acc);
    *acc = sum;
}

static void check_versions(const struct ag_node *node) {
    for (int i = 0; i < node->n_inputs; i++)
        TN_CHECK(node->inputs[i]->storage->version == node->versions[i], "ag_grad",
                 "input %d of op %s was changed in place after it was used (version %llu, "
                 "saved %llu); its gradient would be wrong. Clone it before changing it.",
                 i, tn_op_name(node->op), (unsigned long long)node->inputs[i]->storage->version,
                 (unsigned long long)node->versions[i]);
}

/* The shared pass. With targets (n_in > 0) results[j] gets d/d inputs[j]; without, leaves
 * that require grad accumulate into their .grad. */
static void run_backward(int n_out, struct tn_tensor *const *outputs,
                         struct tn_tensor *const *grad_outputs, int n_in,
                         struct tn_tensor *const *inputs, struct tn_tensor **results,
                         unsigned flags) {
    bool to_leaves = n_in == 0;
    bool create = flags & AG_CREATE_GRAPH;
    bool retain = create || (flags & AG_RETAIN_GRAPH);
    bool previous_mode = ag_set_grad_enabled(create);
    tn_scope_begin();

    struct node_list order = collect(n_out, outputs);
    /* Oldest first: a node leads to a target if an input is one or its node leads to one. */
    for (int64_t k = order.n - 1; k >= 0; k--) {
        struct ag_node *node = order.items[k];
        node->leads_to_target = false;
        node->pending = NULL;
        for (int i = 0; i < node->n_inputs; i++) {
            struct tn_tensor *t = node->inputs[i];
            if (!node->needs_grad[i]) continue;
            bool hit = to_leaves ? (t->grad_fn == NULL && t->requires_grad)
                                 : target_index(t, n_in, inputs) >= 0;
            if (hit || (t->grad_fn && t->grad_fn->leads_to_target)) node->leads_to_target = true;
        }
    }

    struct tn_tensor **acc = calloc((size_t)(n_in > 0 ? n_in : 1), sizeof *acc);
    TN_CHECK(acc, "ag_grad", "out of host memory");
    for (int k = 0; k < n_out; k++) {
        struct tn_tensor *seed = grad_outputs && grad_outputs[k] ? grad_outputs[k]
                                                                 : tn_full_like(outputs[k], 1.0f);
        TN_CHECK(tn_same_shape(seed, outputs[k]), "ag_grad",
                 "gradient %d does not have its output's shape", k);
        int j = target_index(outputs[k], n_in, inputs);
        if (j >= 0) accumulate(&acc[j], seed); /* d output / d output */
        if (to_leaves && !outputs[k]->grad_fn) accumulate(&outputs[k]->grad, seed);
        struct ag_node *node = outputs[k]->grad_fn;
        if (node && node->leads_to_target) accumulate(&node->pending, seed);
    }

    for (int64_t k = 0; k < order.n; k++) {
        struct ag_node *node = order.items[k];
        struct tn_tensor *g = node->pending;
        node->pending = NULL;
        if (g && node->leads_to_target) {
            check_versions(node);
            bool want[TN_MAX_INPUTS] = {0};
            struct tn_tensor *grad_in[TN_MAX_INPUTS] = {0};
            for (int i = 0; i < node->n_inputs; i++) {
                struct tn_tensor *t = node->inputs[i];
                if (!node->needs_grad[i]) continue;
                want[i] = to_leaves ? (t->grad_fn ? t->grad_fn->leads_to_target : true)
                                    : (target_index(t, n_in, inputs) >= 0 ||
                                       (t->grad_fn && t->grad_fn->leads_to_target));
            }
            tn_scope_begin();
            ag_rule_of(node->op)(node, g, want, grad_in);
            for (int i = 0; i < node->n_inputs; i++) {
                if (!want[i]) continue;
                struct tn_tensor *t = node->inputs[i];
                TN_CHECK(grad_in[i] && tn_same_shape(grad_in[i], t), tn_op_name(node->op),
                         "backward rule gave no gradient, or one of the wrong shape, for "
                         "input %d", i);
                int j = to_leaves ? -1 : target_index(t, n_in, inputs);
                if (j >= 0) accumulate(&acc[j], grad_in[i]);
                if (t->grad_fn && t->grad_fn->leads_to_target)
                    accumulate(&t->grad_fn->pending, grad_in[i]);
                else if (to_leaves && !t->grad_fn)
                    accumulate(&t->grad, ag_contiguous(grad_in[i])); /* dense: optimizers read it */
            }
            tn_scope_end();
        }
        tn_release(g);
        if (!retain) ag_node_release_inputs(node);
        ag_node_release(node);
    }
    free(order.items);
    tn_scope_end();
    ag_set_grad_enabled(previous_mode);

    for (int j = 0; j < n_in; j++) {
        int first = target_index(inputs[j], n_in, inputs); /* a tensor listed twice */
        if (first < j) {
            results[j] = ag_reshape(results[first], inputs[j]->ndim, inputs[j]->shape);
        } else if (acc[j]) {
            results[j] = tn_scope_adopt(acc[j]); /* hand our reference to the caller */
        } else {
            bool mode = ag_set_grad_enabled(false);
            results[j] = tn_full_like(inputs[j], 0.0f);
            ag_set_grad_enabled(mode);
        }
    }
    free(acc);
}

void ag_grad(int n_out, struct tn_tensor *const *outputs, struct tn_tensor *const *grad_outputs,
             int n_in, struct tn_tensor *const *inputs, struct tn_tensor **results,
             unsigned flags) {
    TN_CHECK(n_out >= 1 && n_in >= 1, "ag_grad", "needs at least one output and one input");
    for (int j = 0; j < n_in; j++)
        TN_CHECK(inputs[j]->requires_grad, "ag_grad",
                 "input %d does not require grad, so no gradient can reach it", j);
    run_backward(n_out, outputs, grad_outputs, n_in, inputs, results, flags);
}

void ag_backward(struct tn_tensor *loss, unsigned flags) {
    TN_CHECK(!(flags & AG_CREATE_GRAPH), "ag_backward",
             "AG_CREATE_GRAPH would make leaves and their .grad reference each other; use "
             "ag_grad for higher-order gradients");
    TN_CHECK(loss->numel == 1, "ag_backward", "loss has %lld elements; backward needs one",
             (long long)loss->numel);
    TN_CHECK(loss->requires_grad, "ag_backward", "loss does not depend on anything that requires grad");
    run_backward(1, &loss, NULL, 0, NULL, NULL, flags);
}

void ag_zero_grad(struct tn_tensor *t) {
    tn_release(t->grad);
    t->grad = NULL;
}
