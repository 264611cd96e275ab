/* nn_module.h - modules: named parameters and buffers, child modules, train/eval mode.
 *
 * A layer is a struct whose first member is a struct nn_module, so a pointer to the layer
 * is also a pointer to its module (C's way of saying "is a"). The module owns references
 * to its parameters (trained) and buffers (saved in checkpoints, not trained: spectral-norm
 * vectors, batch-norm running statistics) and to its children, and frees them with itself.
 * Names are dotted paths built from the children's names: "critic.x.conv1.weight".
 * A module holds no math: layers are written with the differentiable ops of ag_ops.h.
 */
#ifndef NN_MODULE_H
#define NN_MODULE_H

#include "autograd/ag.h"

#define NN_NAME_MAX 128

struct nn_module;

/* A forward pass for modules that take one tensor (what nn_sequential chains). */
typedef struct tn_tensor *(*nn_forward_fn)(struct nn_module *m, struct tn_tensor *x);

struct nn_named_tensor {
    char name[NN_NAME_MAX];  /* local name, e.g. "weight" */
    struct tn_tensor *tensor; /* a reference owned by the module */
};

struct nn_module {
    char name[NN_NAME_MAX];   /* name within the parent, e.g. "conv1" */
    nn_forward_fn forward;    /* NULL for modules with another signature */
    void (*free_impl)(struct nn_module *m); /* frees the layer's own fields, not the module's */
    bool training;
    struct nn_named_tensor *params, *buffers;
    int n_params, n_buffers;
    struct nn_module **children;
    int n_children;
};

/* A parameter or buffer with its full dotted name, as listed by nn_module_collect. */
struct nn_entry {
    char name[4 * NN_NAME_MAX];
    struct tn_tensor *tensor; /* borrowed from the module */
    bool is_buffer;
};

struct nn_entry_list {
    struct nn_entry *items;
    int n, cap;
};

/* Sets up an embedded module (zeroed fields, training mode). */
void nn_module_init(struct nn_module *m, const char *name, nn_forward_fn forward,
                    void (*free_impl)(struct nn_module *m));

/* Registers a trainable parameter (the module takes a reference; requires_grad is set). */
struct tn_tensor *nn_module_add_param(struct nn_module *m, const char *name, struct tn_tensor *t);

/* Registers a buffer: saved and loaded with the module, never trained. */
struct tn_tensor *nn_module_add_buffer(struct nn_module *m, const char *name, struct tn_tensor *t);

/* Replaces the tensor of a buffer (e.g. an updated running mean); bumps nothing else. */
void nn_module_set_buffer(struct nn_module *m, const char *name, struct tn_tensor *t);

/* Adds a child module; the parent frees it. Returns child. */
struct nn_module *nn_module_add_child(struct nn_module *m, struct nn_module *child);

/* Calls m->forward on x (aborts if the module has no one-tensor forward). */
struct tn_tensor *nn_forward(struct nn_module *m, struct tn_tensor *x);

/* Sets training (true) or evaluation (false) mode on m and all its children. */
void nn_module_train(struct nn_module *m, bool training);

/* Sets requires_grad on every parameter of m and its children (false freezes the module). */
void nn_module_set_requires_grad(struct nn_module *m, bool requires_grad);

/* Drops the .grad of every parameter of m and its children. */
void nn_module_zero_grad(struct nn_module *m);

/* Number of parameter elements of m and its children. */
int64_t nn_module_param_count(const struct nn_module *m);

/* Appends m's parameters (and buffers if with_buffers) with dotted names prefixed by prefix
 * ("" for none), depth first in registration order. */
void nn_module_collect(struct nn_module *m, const char *prefix, bool with_buffers,
                       struct nn_entry_list *list);

/* Frees a list from nn_module_collect (not the tensors). */
void nn_entry_list_free(struct nn_entry_list *list);

/* Appends the entry "<prefix>.<name>" (just name when prefix is "") to list. */
void nn_entry_list_add(struct nn_entry_list *list, const char *prefix, const char *name,
                       struct tn_tensor *t, bool is_buffer);

/* Finds a parameter or buffer by dotted name, or NULL. */
struct tn_tensor *nn_module_find(struct nn_module *m, const char *dotted_name);

/* Moves every parameter and buffer of m and its children to device, in place (the tensors
 * keep their identity, so layers and optimizers holding them stay valid); drops their .grad. */
enum tn_status nn_module_to_device(struct nn_module *m, struct tn_device device);

/* Whether every element of t is finite (no NaN, no infinity); reads a copy on the host. */
bool nn_tensor_all_finite(const struct tn_tensor *t);

/* Finds m's first parameter or buffer (in nn_module_collect's order, names under prefix) that
 * holds a NaN or an infinity: writes its dotted name to name (size bytes) and returns true;
 * false when all are finite. What a tool checks before it uses loaded weights. */
bool nn_module_find_nonfinite(struct nn_module *m, const char *prefix, char *name, size_t size);

/* Frees m, its children, and its references to parameters and buffers. NULL is fine. */
void nn_module_free(struct nn_module *m);

#endif
