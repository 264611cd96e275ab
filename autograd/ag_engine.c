/* ag_engine.c - the backward pass: ag_grad, ag_backward, ag_zero_grad.
 *
 * One pass, iterative from start to end (no recursion, so graph depth is unbounded), in named
 * steps that run_backward calls in order:
 *  1. order_nodes: the nodes reachable from the outputs, newest first; in an eager engine
 *     every node is created after the nodes of its inputs, so this is a reverse topological
 *     order;
 *  2. mark: the nodes that lead to a wanted tensor (wanted(), the one predicate), so no rule
 *     computes a gradient nobody asked for (the gradient penalty wants the input's only);
 *  3. seed: each output's gradient, delivered like any other;
 *  4. walk: each marked node, once its gradient is complete, runs its rule (run_rule), and
 *     deliver() adds each input's gradient where the pass gathers it with ag_add, which
 *     records nodes too when the pass itself is recorded (AG_CREATE_GRAPH);
 *  5. collect: the targets' gradients, handed to the caller.
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

/* What one pass wants and what it has gathered so far. */
struct pass {
    int n_in;                           /* the targets of ag_grad; 0 for ag_backward */
    struct tn_tensor *const *inputs;
    bool to_leaves;                     /* ag_backward: every leaf that requires grad */
    struct tn_tensor **acc;             /* acc[j]: the gradient of inputs[j] so far */
    struct node_list order;             /* the reachable nodes, newest first */
};

/* Index of t among the targets, or -1. */
static int target_index(const struct pass *pass, const struct tn_tensor *t) {
    for (int j = 0; j < pass->n_in; j++)
        if (pass->inputs[j] == t) return j;
    return -1;
}

/* The one question the pass asks of a tensor: is a gradient with respect to t wanted? Yes
 * when t is a target (ag_grad) or a leaf that requires grad (ag_backward), or when t's node
 * leads to one. Nodes are marked oldest first, so t's node is marked before t is asked about. */
static bool wanted(const struct pass *pass, const struct tn_tensor *t) {
    if (t->grad_fn && t->grad_fn->leads_to_target) return true;
    return pass->to_leaves ? !t->grad_fn && t->requires_grad : target_index(pass, t) >= 0;
}

/* Step 1. Every node reachable from the outputs, newest first, each with a reference held. */
static void order_nodes(struct pass *pass, int n_out, struct tn_tensor *const *outputs) {
    struct node_list stack = {0};
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
        list_push(&pass->order, node);
        for (int i = 0; i < node->n_inputs; i++) {
            struct ag_node *up = node->inputs[i]->grad_fn;
            if (node->needs_grad[i] && up && up->visit_epoch != epoch) {
                up->visit_epoch = epoch;
                list_push(&stack, up);
            }
        }
    }
    free(stack.items);
    qsort(pass->order.items, (size_t)pass->order.n, sizeof *pass->order.items, newest_first);
}

/* Step 2. Oldest first, marks the nodes with an input whose gradient is wanted: only they
 * get a pending gradient and run their rule. */
static void mark(const struct pass *pass) {
    for (int64_t k = pass->order.n - 1; k >= 0; k--) {
        struct ag_node *node = pass->order.items[k];
        node->leads_to_target = false;
        node->pending = NULL;
        for (int i = 0; i < node->n_inputs; i++)
            if (node->needs_grad[i] && wanted(pass, node->inputs[i])) node->leads_to_target = true;
    }
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

/* Adds g, a gradient with respect to t, wherever the pass gathers it: t's result slot if t is
 * a target, the pending gradient of t's node, or the .grad of a leaf (ag_backward; dense,
 * because optimizers read it). */
static void deliver(struct pass *pass, struct tn_tensor *t, struct tn_tensor *g) {
    int j = target_index(pass, t);
    if (j >= 0) accumulate(&pass->acc[j], g);
    if (t->grad_fn && t->grad_fn->leads_to_target) accumulate(&t->grad_fn->pending, g);
    else if (pass->to_leaves && !t->grad_fn) accumulate(&t->grad, ag_contiguous(g));
}

/* Step 3. Each output's seed (its grad_output, or ones) is its own gradient. */
static void seed(struct pass *pass, int n_out, struct tn_tensor *const *outputs,
                 struct tn_tensor *const *grad_outputs) {
    for (int k = 0; k < n_out; k++) {
        struct tn_tensor *g = grad_outputs && grad_outputs[k] ? grad_outputs[k]
                                                              : tn_full_like(outputs[k], 1.0f);
        TN_CHECK(tn_same_shape(g, outputs[k]), "ag_grad",
                 "gradient %d does not have its output's shape", k);
        deliver(pass, outputs[k], g);
    }
}

static void check_versions(const struct ag_node *node) {
    for (int i = 0; i < node->n_inputs; i++)
        TN_CHECK(node->inputs[i]->storage->version == node->versions[i], "ag_grad",
                 "input %d of op %s was changed in place after it was used (version %llu, "
                 "saved %llu); its gradient would be wrong. Clone it before changing it.",
                 i, tn_op_name(node->op), (unsigned long long)node->inputs[i]->storage->version,
                 (unsigned long long)node->versions[i]);
}

/* Step 4, for one node: runs the node's rule on g, the complete gradient of its output, and delivers the
 * gradient of each wanted input. The rule's temporaries die with its scope. */
static void run_rule(struct pass *pass, struct ag_node *node, struct tn_tensor *g) {
    check_versions(node);
    bool want[TN_MAX_INPUTS] = {0};
    struct tn_tensor *grad_in[TN_MAX_INPUTS] = {0};
    for (int i = 0; i < node->n_inputs; i++)
        want[i] = node->needs_grad[i] && wanted(pass, node->inputs[i]);
    tn_scope_begin();
    ag_rule_of(node->op)(node, g, want, grad_in);
    for (int i = 0; i < node->n_inputs; i++) {
        if (!want[i]) continue;
        TN_CHECK(grad_in[i] && tn_same_shape(grad_in[i], node->inputs[i]), tn_op_name(node->op),
                 "backward rule gave no gradient, or one of the wrong shape, for input %d", i);
        deliver(pass, node->inputs[i], grad_in[i]);
    }
    tn_scope_end();
}

/* Step 4. Newest first, so that every consumer of a node's output has delivered its part
 * before the node runs; then drops what the pass held (and the inputs, unless retained). */
static void walk(struct pass *pass, bool retain) {
    for (int64_t k = 0; k < pass->order.n; k++) {
        struct ag_node *node = pass->order.items[k];
        struct tn_tensor *g = node->pending;
        node->pending = NULL;
        if (g && node->leads_to_target) run_rule(pass, node, g);
        tn_release(g);
        if (!retain) ag_node_release_inputs(node);
        ag_node_release(node);
    }
}

/* Step 5. Hands each target's gradient to the caller's scope: zeros (made without a graph)
 * for a target no output depends on, a view of the first slot for a target listed twice. */
static void collect(struct pass *pass, struct tn_tensor **results) {
    for (int j = 0; j < pass->n_in; j++) {
        struct tn_tensor *t = pass->inputs[j];
        int first = target_index(pass, t);
        if (first < j) {
            results[j] = ag_reshape(results[first], t->ndim, t->shape);
        } else if (pass->acc[j]) {
            results[j] = tn_scope_adopt(pass->acc[j]); /* hand our reference to the caller */
        } else {
            bool mode = ag_set_grad_enabled(false);
            results[j] = tn_full_like(t, 0.0f);
            ag_set_grad_enabled(mode);
        }
    }
}

/* The pass shared by ag_grad (targets: results[j] gets d/d inputs[j]) and ag_backward (no
 * targets: leaves that require grad accumulate into .grad). With AG_CREATE_GRAPH grad mode
 * stays on, so the rules' ops record the backward pass itself. */
static void run_backward(int n_out, struct tn_tensor *const *outputs,
                         struct tn_tensor *const *grad_outputs, int n_in,
                         struct tn_tensor *const *inputs, struct tn_tensor **results,
                         unsigned flags) {
    struct pass pass = {n_in, inputs, n_in == 0, NULL, {0}};
    pass.acc = calloc((size_t)(n_in > 0 ? n_in : 1), sizeof *pass.acc);
    TN_CHECK(pass.acc, "ag_grad", "out of host memory");
    bool create = flags & AG_CREATE_GRAPH;
    bool previous_mode = ag_set_grad_enabled(create);
    tn_scope_begin();
    order_nodes(&pass, n_out, outputs);
    mark(&pass);
    seed(&pass, n_out, outputs, grad_outputs);
    walk(&pass, create || (flags & AG_RETAIN_GRAPH));
    free(pass.order.items);
    tn_scope_end();
    ag_set_grad_enabled(previous_mode);
    collect(&pass, results);
    free(pass.acc);
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
