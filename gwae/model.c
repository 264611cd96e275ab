/* model.c - what model.h writes once for every model: the shared settings and their options,
 * construction through the registry, device moves, and the steps of the training loop (main
 * step, adversary steps, validation step, warm-up) over the ops a model provides.
 *
 * The main step freezes every adversary's module (requires_grad off) while the main loss is
 * differentiated, so no gradient is computed for weights the main optimizer does not train:
 * the official GWAE code computes the critic's and then zeroes them, with the same result.
 */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_common gw_common_defaults(void) {
    struct gw_common c = {
        .image_size = 64, .channels = 3, .latent = 16, .width = 1.0f, .batch = 64, .lr = 1e-4,
    };
    snprintf(c.model, sizeof c.model, "gwae");
    snprintf(c.prior, sizeof c.prior, "np");
    return c;
}

enum tn_status gw_common_check(const struct gw_common *c) {
    if (c->image_size != 64 && c->image_size != 32)
        return tn_error(TN_ERR_INVALID, "image size %d is not supported (64 or 32; 28x28 data is "
                        "resized to 32)", c->image_size);
    if (c->channels != 3) return tn_error(TN_ERR_INVALID, "the networks take 3 channels");
    if (c->latent < 1 || c->latent > 4096)
        return tn_error(TN_ERR_INVALID, "latent size %lld out of [1, 4096]", (long long)c->latent);
    if (!(c->width > 0.0f && c->width <= 4.0f))
        return tn_error(TN_ERR_INVALID, "width %g out of (0, 4]", c->width);
    if (c->batch < 2) return tn_error(TN_ERR_INVALID, "batch %d: at least 2 samples", c->batch);
    if (c->warmup_steps < 0) return tn_error(TN_ERR_INVALID, "warmup_steps must not be negative");
    if (!(c->lr > 0)) return tn_error(TN_ERR_INVALID, "learning rates must be positive");
    return TN_OK;
}

#define C(field) GW_FIELD(struct gw_common, field)

static const struct gw_option common_options[] = {
    {"latent", GW_OPT_I64, C(latent), 1, 4096, NULL, GW_OPT_FIXED, "Model", "L", "latent size",
     "paper 16: Table 1 runs (the yaml files use 64)"},
    {"width", GW_OPT_FLOAT, C(width), 0.001, 4, NULL, GW_OPT_FIXED, "Model", "W",
     "multiplies every hidden width (1: the paper's networks)", "official 1: vaetc network/cnn.py"},
    {"zero-padding", GW_OPT_BOOL, C(zero_padding), 0, 0, NULL, GW_OPT_FIXED, "Model", NULL,
     "encoder convs pad with zeros instead of replicating borders",
     "official off: vaetc network/cnn.py pads by replication"},
    {"batch", GW_OPT_INT, C(batch), 2, 65536, NULL, GW_OPT_FIXED, "Optimisation", "B",
     "batch size", "official 64: settings/*.yaml batch_size"},
    {"lr", GW_OPT_DOUBLE, C(lr), 1e-12, 10, NULL, GW_OPT_FIXED, "Optimisation", "X",
     "learning rate of the main group (the model's encoder, decoder and prior)",
     "official 1e-4: settings/*.yaml lr"},
    {"warmup-steps", GW_OPT_INT, C(warmup_steps), 0, 1e9, NULL, GW_OPT_FIXED, "Optimisation", "N",
     "learning rates rise linearly over the first N iterations (0: none, as the official code)",
     "official 0: train.py has no warm-up"},
};

const struct gw_option *gw_common_options(int *n) {
    *n = (int)(sizeof common_options / sizeof common_options[0]);
    return common_options;
}

const struct gw_model_entry *gw_model_find(const char *name) {
    for (const struct gw_model_entry *const *e = gw_models; *e; e++)
        if (strcmp((*e)->name, name) == 0) return *e;
    return NULL;
}

/* "a, b, c" of the registry's names into out */
static void known_models(char *out, size_t size) {
    out[0] = '\0';
    for (const struct gw_model_entry *const *e = gw_models; *e; e++) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", used ? ", " : "", (*e)->name);
    }
}

enum tn_status gw_model_new(const struct gw_common *common, const void *options,
                            const void *prior_options, struct tn_rng *rng, struct gw_model **out) {
    *out = NULL;
    const struct gw_model_entry *e = gw_model_find(common->model);
    if (!e) {
        char known[256];
        known_models(known, sizeof known);
        return tn_error(TN_ERR_INVALID, "unknown model '%s' (known: %s)", common->model, known);
    }
    return gw_model_new_entry(e, common, options, prior_options, rng, out);
}

enum tn_status gw_model_new_entry(const struct gw_model_entry *e, const struct gw_common *common,
                                  const void *options, const void *prior_options,
                                  struct tn_rng *rng, struct gw_model **out) {
    *out = NULL;
    enum tn_status st = gw_common_check(common);
    if (st != TN_OK) return st;
    bool takes = false;
    for (const char *const *p = e->priors; *p; p++) takes = takes || strcmp(*p, common->prior) == 0;
    if (!takes) return tn_error(TN_ERR_INVALID, "model %s does not take the prior '%s'", e->name,
                                common->prior);
    _Alignas(max_align_t) unsigned char defaults[GW_OPTIONS_MAX];
    if (!options) {
        memset(defaults, 0, sizeof defaults);
        if (e->defaults) e->defaults(defaults);
        options = defaults;
    }
    struct gw_common named = *common;
    snprintf(named.model, sizeof named.model, "%s", e->name);
    tn_scope_begin();
    st = e->make(&named, options, prior_options, rng, out);
    tn_scope_end();
    return st;
}

void gw_model_init(struct gw_model *m, const struct gw_model_entry *entry,
                   const struct gw_model_ops *ops, const struct gw_common *common,
                   const void *options, void (*free_impl)(struct nn_module *m)) {
    TN_CHECK(entry->options_size <= GW_OPTIONS_MAX, "gw_model_init", "%s: options of %zu bytes",
             entry->name, entry->options_size);
    nn_module_init(&m->base, entry->name, NULL, free_impl);
    m->ops = ops;
    m->entry = entry;
    m->common = *common;
    m->device = TN_CPU;
    m->options = calloc(1, entry->options_size ? entry->options_size : 1);
    TN_CHECK(m->options, "gw_model_init", "out of host memory");
    if (entry->options_size) memcpy(m->options, options, entry->options_size);
}

enum tn_status gw_model_add_prior(struct gw_model *m, const void *prior_options,
                                  struct tn_rng *rng) {
    struct gw_prior *prior;
    enum tn_status st = gw_prior_new(m->common.prior, m->common.latent, prior_options, rng, &prior);
    if (st != TN_OK) return st;
    m->prior = prior;
    nn_module_add_child(&m->base, &prior->base);
    return TN_OK;
}

void gw_model_add_group(struct gw_model *m, const char *name, struct nn_module *module,
                        const struct nn_optim_opts *opts, int n, const struct nn_entry *entries) {
    TN_CHECK(m->n_groups < GW_GROUPS_MAX, "gw_model_add_group", "more than %d groups",
             GW_GROUPS_MAX);
    TN_CHECK((m->n_groups == 0) == (module == NULL), "gw_model_add_group",
             "group %s: the first group (main) has no module, every adversary group has one", name);
    struct gw_group *g = &m->groups[m->n_groups++];
    g->name = name;
    g->module = module;
    g->optim = nn_optim_new(opts, n, entries);
    g->lr = opts->lr;
}

void gw_model_collect(struct nn_module *const *modules, int n, struct nn_entry_list *list) {
    for (int i = 0; i < n; i++) nn_module_collect(modules[i], modules[i]->name, false, list);
}

enum tn_status gw_model_to_device(struct gw_model *m, struct tn_device device) {
    enum tn_status st = m->prior ? gw_prior_to_device(m->prior, device) : TN_OK;
    if (st == TN_OK) st = nn_module_to_device(&m->base, device);
    for (int g = 0; st == TN_OK && g < m->n_groups; g++)
        st = nn_optim_to_device(m->groups[g].optim, device);
    if (st == TN_OK) m->device = device;
    return st;
}

void gw_model_free(struct gw_model *m) {
    if (!m) return;
    for (int g = 0; g < m->n_groups; g++) nn_optim_free(m->groups[g].optim);
    free(m->options);
    nn_module_free(&m->base);
}

void gw_model_terms(const struct gw_model *m, struct gw_terms *terms) {
    gw_terms_init(terms, m->entry->terms, m->entry->n_terms, m->device);
}

void gw_model_main_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                        struct gw_terms *terms) {
    tn_scope_begin();
    nn_module_train(&m->base, true);
    for (int g = 1; g < m->n_groups; g++) nn_module_set_requires_grad(m->groups[g].module, false);
    struct tn_tensor *loss = m->ops->loss(m, x, rng, terms);
    gw_model_group_step(m, 0, loss);
    for (int g = 1; g < m->n_groups; g++) nn_module_set_requires_grad(m->groups[g].module, true);
    tn_scope_end();
}

void gw_model_adversary_steps(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                              struct gw_terms *terms) {
    if (!m->ops->adversary) return;
    tn_scope_begin();
    nn_module_train(&m->base, true);
    m->ops->adversary(m, x, rng, terms);
    tn_scope_end();
}

void gw_model_train_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                         struct gw_terms *terms) {
    gw_model_main_step(m, x, rng, terms);
    gw_model_adversary_steps(m, x, rng, terms);
}

void gw_model_eval_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                        struct gw_terms *terms) {
    tn_scope_begin();
    nn_module_train(&m->base, false);
    bool mode = ag_set_grad_enabled(false);
    m->ops->loss(m, x, rng, terms);
    ag_set_grad_enabled(mode);
    nn_module_train(&m->base, true);
    tn_scope_end();
}

void gw_model_set_iteration_lr(struct gw_model *m, int64_t step) {
    int w = m->common.warmup_steps;
    double f = w > 0 && step < w ? (double)(step > 0 ? step : 1) / (double)w : 1.0;
    for (int g = 0; g < m->n_groups; g++) nn_optim_set_lr(m->groups[g].optim, m->groups[g].lr * f);
}

void gw_model_group_step(struct gw_model *m, int g, struct tn_tensor *loss) {
    TN_CHECK(g >= 0 && g < m->n_groups, "gw_model_group_step", "group %d of %d", g, m->n_groups);
    nn_module_zero_grad(&m->base);
    ag_backward(loss, 0);
    nn_optim_step(m->groups[g].optim);
}

void gw_model_encode(struct gw_model *m, struct tn_tensor *x, struct tn_tensor **mu,
                     struct tn_tensor **logvar) {
    m->ops->encode(m, x, mu, logvar);
}

struct tn_tensor *gw_model_code(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng) {
    struct tn_tensor *mu, *logvar;
    m->ops->encode(m, x, &mu, &logvar);
    return rng && logvar ? gw_reparameterize(mu, logvar, rng) : mu;
}

struct tn_tensor *gw_model_decode(struct gw_model *m, struct tn_tensor *z) {
    return m->ops->decode(m, z);
}

struct tn_tensor *gw_model_sample(struct gw_model *m, int64_t n, struct tn_rng *rng) {
    if (m->ops->sample) return m->ops->sample(m, n, rng);
    TN_CHECK(m->prior, "gw_model_sample", "model %s has neither a prior nor a sampler",
             m->entry->name);
    return gw_prior_sample(m->prior, n, rng);
}

void gw_model_init_from_data(struct gw_model *m, const struct gw_dataset *train,
                             struct tn_rng *rng) {
    if (!m->ops->init_from_data) return;
    tn_scope_begin();
    bool grad = ag_set_grad_enabled(false);
    m->ops->init_from_data(m, train, rng);
    ag_set_grad_enabled(grad);
    tn_scope_end();
}

struct tn_tensor *gw_model_recon_error(struct gw_model *m, struct tn_tensor *x, int kind,
                                       struct tn_rng *rng) {
    (void)kind;
    (void)rng;
    struct tn_tensor *d = ag_flatten(ag_sub(x, gw_model_decode(m, gw_model_code(m, x, NULL))), 1);
    return ag_mul_scalar(ag_sum(ag_square(d), AG_AXIS(1), false), 0.5f);
}

struct tn_tensor *gw_reparameterize(struct tn_tensor *mu, struct tn_tensor *logvar,
                                    struct tn_rng *rng) {
    struct tn_tensor *eps = tn_randn(mu->storage->device, mu->ndim, mu->shape, rng);
    return ag_add(mu, ag_mul(ag_exp(ag_mul_scalar(logvar, 0.5f)), eps));
}
