/* nn_optim.h - optimizers: SGD (with momentum), Adam and RMSprop, with PyTorch's update rules,
 * and AdamNormGrad (the Symmetric WAE's: each gradient tensor divided by its L2 norm, then Adam).
 *
 * An optimizer holds a reference to each parameter it trains, with the parameter's dotted
 * name, its state tensors (allocated at its first step, or by nn_optim_init_state before a
 * checkpoint is restored) and its step count. nn_optim_step runs with grad mode off, skips
 * parameters whose .grad is NULL (as PyTorch does), and writes the new values into the
 * parameters' own memory, bumping their storage versions: a graph recorded before the step
 * that used a parameter is then refused by the engine's version check instead of giving a
 * wrong gradient. The formulas and their order of float operations are those of PyTorch's
 * single-tensor (foreach=False) implementations; docs/checkpoints.md lists the state names.
 * On a device the step is one fused kernel per parameter (tensor/tn_update.h) with the same
 * float operations, so parameters and state never leave the device.
 * Not here: weight decay, Nesterov, dampening, centered RMSprop, amsgrad (GWAE uses none).
 */
#ifndef NN_OPTIM_H
#define NN_OPTIM_H

#include "nn_module.h"

enum nn_optim_kind {
    NN_OPTIM_SGD = 0,
    NN_OPTIM_ADAM = 1,
    NN_OPTIM_RMSPROP = 2,
    /* the Symmetric WAE authors' AdamNormGrad (github.com/sunsunyyl/SWAE utils/optimizer.py):
     * g / (|g|_2 + 1e-7) per parameter tensor, then their Adam, whose eps is added to sqrt(v)
     * before the bias correction: p -= lr sqrt(1 - beta2^t) / (1 - beta1^t) m / (sqrt(v) + eps) */
    NN_OPTIM_ADAM_NORMGRAD = 3,
};

/* Hyperparameters; each kind reads only the fields its comment names. */
struct nn_optim_opts {
    enum nn_optim_kind kind;
    double lr;           /* all */
    double momentum;     /* SGD, RMSprop: 0 for none */
    double alpha;        /* RMSprop: smoothing constant of the squared-gradient average */
    double beta1, beta2; /* Adam(NormGrad): decay of the first and second moment averages */
    double eps;          /* Adam(NormGrad), RMSprop: added to the denominator after the root */
};

#define NN_OPTIM_MAX_SLOTS 2
#define NN_OPTIM_NAME_MAX (4 * NN_NAME_MAX)

/* One trained parameter and its state. */
struct nn_optim_param {
    char name[NN_OPTIM_NAME_MAX];                /* dotted name, e.g. "encoder.conv1.weight" */
    struct tn_tensor *param;                     /* a reference held by the optimizer */
    struct tn_tensor *state[NN_OPTIM_MAX_SLOTS]; /* NULL until created; see nn_optim_slot_name */
    int64_t step;                                /* steps this parameter has taken */
};

struct nn_optim {
    struct nn_optim_opts opts;
    struct nn_optim_param *params;
    int n_params;
};

/* PyTorch's defaults for kind with learning rate lr: SGD momentum 0; Adam betas (0.9, 0.999),
 * eps 1e-8; RMSprop alpha 0.99, eps 1e-8, momentum 0; AdamNormGrad as Adam (the SWAE
 * authors' experiments pass beta1 0.9 over their class's 0.5). */
struct nn_optim_opts nn_optim_defaults(enum nn_optim_kind kind, double lr);

/* An optimizer over the parameters among entries[0..n) (buffers are skipped); it keeps a
 * reference to each and copies the names. Aborts on a bad hyperparameter or a duplicate. */
struct nn_optim *nn_optim_new(const struct nn_optim_opts *opts, int n,
                              const struct nn_entry *entries);

/* Frees the optimizer, its state and its references to the parameters. NULL is fine. */
void nn_optim_free(struct nn_optim *o);

/* Drops the .grad of every parameter ("set to none", as PyTorch's zero_grad). */
void nn_optim_zero_grad(struct nn_optim *o);

/* One update of every parameter that has a .grad, in place, recording no graph. */
void nn_optim_step(struct nn_optim *o);

/* Changes the learning rate used by the following steps. */
void nn_optim_set_lr(struct nn_optim *o, double lr);

/* Short name of the kind: "sgd", "adam", "rmsprop" or "adam-normgrad". */
const char *nn_optim_kind_name(enum nn_optim_kind kind);

/* Number of state tensors per parameter for this optimizer's kind and options. */
int nn_optim_n_slots(const struct nn_optim *o);

/* Name of state slot i: "momentum_buffer", "exp_avg", "exp_avg_sq" or "square_avg". */
const char *nn_optim_slot_name(const struct nn_optim *o, int slot);

/* Creates the state of every parameter that has none (zeros, step 0), which behaves exactly
 * as the lazily created state of a first step; checkpoints restore into these tensors. */
void nn_optim_init_state(struct nn_optim *o);

/* Moves the optimizer's state tensors to device in place (move the parameters with their
 * module, nn_module_to_device); state not yet created will be created beside its parameter. */
enum tn_status nn_optim_to_device(struct nn_optim *o, struct tn_device device);

/* Appends every state tensor (after nn_optim_init_state) to list as a buffer entry named
 * "<prefix>.<param name>.<slot name>" (no prefix and no dot when prefix is ""). The step
 * counts are the params[i].step fields. */
void nn_optim_collect_state(struct nn_optim *o, const char *prefix, struct nn_entry_list *list);

#endif
