/* ag_node.h - a recorded op application: the unit of the tape.
 *
 * When an op runs with grad mode on and an input that wants gradients, ag_apply records a
 * node: the op, a copy of its parameters, and references to its inputs, which serve both as
 * the graph's edges (input->grad_fn) and as the values the backward rule reads. A node saves
 * inputs only, never its output, so output -> node -> output cycles cannot happen, and a rule
 * recomputes what it needs from the inputs (docs/autograd.md, "Saving inputs only").
 */
#ifndef AG_NODE_H
#define AG_NODE_H

#include "../tensor/tn_op.h"

struct ag_node {
    int refcount;
    enum tn_op op;
    struct tn_op_params params;
    int n_inputs;
    struct tn_tensor *inputs[TN_MAX_INPUTS];    /* retained until the graph is released */
    uint64_t versions[TN_MAX_INPUTS];           /* inputs' storage versions when recorded */
    bool needs_grad[TN_MAX_INPUTS];             /* input wants a gradient through this slot */
    int out_ndim;                               /* the output's shape, for rules and dumps */
    int64_t out_shape[TN_MAX_DIMS];
    uint64_t seq;                               /* creation order: later nodes have larger seq */
    bool released;                              /* inputs dropped after a backward pass */
    /* scratch of the engine during one pass */
    struct tn_tensor *pending;                  /* gradient accumulated for the output */
    uint64_t visit_epoch;
    bool leads_to_target;
};

/* Drops a reference to node; at zero releases its inputs and frees it. */
void ag_node_release(struct ag_node *node);

/* Drops the node's input references (after backward without retain_graph). */
void ag_node_release_inputs(struct ag_node *node);

/* A backward rule: given the gradient g of the node's output, writes into grad_in[i] the
 * gradient of each input i for which want[i] is set. Rules use differentiable ops only. */
typedef void (*ag_rule_fn)(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                           struct tn_tensor **grad_in);

/* The rule of op; aborts for an op that is not differentiable. The first call checks that
 * the rules cover exactly the differentiable ops of the op list. */
ag_rule_fn ag_rule_of(enum tn_op op);

#endif
