/* rae.c - the relational autoencoders: RAE with the sliced fused Gromov-Wasserstein
 * discrepancy (rae-sfg; Xu et al., ICML 2020, as its code HongtengXu/Relational-AutoEncoders
 * trains it) and the spherical variants of Nguyen et al. (ICLR 2021), whose code is not
 * public: rae-ssfg (vMF slices around a searched location), rae-mssfg (a mixture of k vMFs),
 * rae-pssfg (power spherical slices) and rae-max-sfg (the kappa -> infinity limit: the one
 * searched direction). docs/models.md gives every default with its source.
 *
 * One file for the five: they share the networks, the prior (rae-gmm, round-robin mixture of
 * K Gaussians), the reconstruction and the loss, and differ only in how the slices are chosen
 * (sliced_fgw.h). The loss, with z the codes (DRAE: the deterministic encoder's output; with
 * --encoder gaussian a reparameterised draw) and y as many draws of the prior:
 *   loss = mean_b rec_b + gamma / (2 B) * SFG(z, y),
 * rec_b the shared Gaussian term 0.5 sum (x - x')^2. The RAE code minimises
 * sum_b sum (x - x')^2 + gamma SFG, which is 2B times this: Adam's steps do not change with
 * the scale of the loss, so this trains as the RAE code does, and the reconstruction term stays
 * the one every model of the project logs. Neither the RAE code's DRAE nor its probabilistic
 * variant adds a KL term to the sliced objective (prae.py regularises with a hierarchical FGW
 * instead), so the gaussian encoder has none either. The search of the spherical variants
 * runs inside the loss, on the detached batches, with its own Adam on the locations
 * (sliced_fgw.c); with --warm-start the locations found are kept in the buffer
 * "slice_location" (saved in checkpoints) and start the next batch's search, updated by
 * training steps only.
 */
#include <stdlib.h>
#include <string.h>

#include "rae.h"
#include "sliced_fgw.h"

enum { T_LOSS, T_REC, T_SFG, N_TERMS };

static const struct gw_term_info terms[N_TERMS] = {
    [T_LOSS] = {"loss", "loss"}, [T_REC] = {"loss_rec", "rec"}, [T_SFG] = {"loss_sfg", "sfg"},
};

static const char *const encoders[] = {"deterministic", "gaussian", NULL};
static const char *const directions[] = {"gaussian", "uniform", NULL};

struct rae {
    struct gw_vae_base base;
    struct gw_slicing slicing;
    bool warm; /* the locations live in the buffer "slice_location" */
};

static void fill_defaults(struct rae_options *o, int mixture) {
    *o = (struct rae_options){
        .reconstruction = "gaussian", .encoder = "deterministic", .directions = "gaussian",
        .gamma = 1.0f, .beta = 0.1f, .power = 2.0f, .kappa = 50.0f, .projections = 50,
        .search_steps = 10, .mixture = mixture, .search_lr = 1e-4, .warm_start = false,
    };
}

static void rae_defaults(void *options) { fill_defaults(options, 1); }
static void mssfg_defaults(void *options) { fill_defaults(options, 10); }

static struct tn_tensor *rae_loss(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                                  struct gw_terms *t) {
    struct rae *r = (struct rae *)m;
    const struct rae_options *o = m->options;
    struct tn_tensor *mu, *logvar;
    gw_vae_encode(m, x, &mu, &logvar);
    struct tn_tensor *z = logvar ? gw_reparameterize(mu, logvar, rng) : mu;
    struct tn_tensor *rec = ag_mean_all(gw_vae_recon_per_image(&r->base, x, z));
    int64_t b = x->shape[0];
    struct tn_tensor *y = gw_model_sample(m, b, rng);
    struct tn_tensor *start = r->warm ? nn_module_find(&m->base, "slice_location") : NULL;
    struct tn_tensor *found = NULL;
    struct tn_tensor *sfg = gw_sliced_discrepancy(&r->slicing, z, y, start, rng, &found);
    /* in place: the run's checkpoint holds this tensor, not the module's slot */
    if (r->warm && m->base.training) tn_copy_into(start, found);
    struct tn_tensor *loss = ag_add(rec, ag_mul_scalar(sfg, (float)(o->gamma / (2.0 * (double)b))));
    gw_terms_put(t, T_LOSS, loss);
    gw_terms_put(t, T_REC, rec);
    gw_terms_put(t, T_SFG, sfg);
    return loss;
}

static const struct gw_model_ops rae_ops = {
    .loss = rae_loss, .encode = gw_vae_encode, .decode = gw_vae_decode,
    .ood_score = gw_vae_ood_recon_error,
};

/* the slicing of kind from the options, or TN_ERR_INVALID */
static enum tn_status slicing_of(enum gw_slicing_kind kind, const struct rae_options *o,
                                 int64_t latent, struct gw_slicing *s) {
    if (kind == GW_SLICE_GAUSSIAN && strcmp(o->directions, "uniform") == 0) kind = GW_SLICE_UNIFORM;
    else if (kind == GW_SLICE_GAUSSIAN && strcmp(o->directions, "gaussian") != 0)
        return tn_error(TN_ERR_INVALID, "unknown directions '%s' (gaussian or uniform)",
                        o->directions);
    if (strcmp(o->encoder, "deterministic") != 0 && strcmp(o->encoder, "gaussian") != 0)
        return tn_error(TN_ERR_INVALID, "unknown encoder '%s' (deterministic or gaussian)",
                        o->encoder);
    if ((kind == GW_SLICE_VMF || kind == GW_SLICE_POWER) && latent < 2)
        return tn_error(TN_ERR_INVALID, "spherical slices need a latent size of at least 2");
    if (o->mixture < 1 || o->mixture > o->projections)
        return tn_error(TN_ERR_INVALID, "the mixture's %d components need 1 to %d projections",
                        o->mixture, o->projections);
    if (!(o->kappa >= 0) || !(o->search_lr > 0) || o->search_steps < 0 || !(o->power >= 1))
        return tn_error(TN_ERR_INVALID, "kappa >= 0, search-lr > 0, search-steps >= 0, power >= 1");
    *s = (struct gw_slicing){
        .kind = kind, .projections = kind == GW_SLICE_MAX ? 1 : o->projections,
        .p = o->power, .beta = o->beta, .kappa = o->kappa,
        .components = kind == GW_SLICE_MAX ? 1 : o->mixture, .steps = o->search_steps,
        .lr = o->search_lr,
    };
    return TN_OK;
}

/* one Adam over the encoder, decoder and prior, as the RAE code (betas 0.9, 0.999) */
static void main_group(struct rae *r) {
    struct gw_model *m = &r->base.base;
    struct nn_module *mains[3] = {&r->base.encoder->base, &r->base.decoder->base,
                                  m->prior ? &m->prior->base : NULL};
    struct nn_entry_list list = {0};
    gw_model_collect(mains, m->prior ? 3 : 2, &list);
    struct nn_optim_opts adam = nn_optim_defaults(NN_OPTIM_ADAM, m->common.lr);
    gw_model_add_group(m, "main", NULL, &adam, list.n, list.items);
    nn_entry_list_free(&list);
}

static enum tn_status make_kind(const struct gw_model_entry *entry, enum gw_slicing_kind kind,
                                const struct gw_common *common, const void *options,
                                const void *prior_options, struct tn_rng *rng,
                                struct gw_model **out) {
    const struct rae_options *o = options;
    struct gw_slicing slicing;
    enum tn_status st = slicing_of(kind, o, common->latent, &slicing);
    if (st != TN_OK) return st;
    struct rae *r = calloc(1, sizeof *r);
    TN_CHECK(r, entry->name, "out of host memory");
    gw_model_init(&r->base.base, entry, &rae_ops, common, options, NULL);
    r->slicing = slicing;
    st = gw_vae_base_build(&r->base, strcmp(o->encoder, "gaussian") == 0, o->reconstruction,
                           prior_options, rng);
    if (st != TN_OK) {
        gw_model_free(&r->base.base);
        return st;
    }
    r->warm = gw_slicing_searches(slicing.kind) && o->warm_start;
    if (r->warm) {
        tn_scope_begin();
        nn_module_add_buffer(&r->base.base.base, "slice_location",
                             gw_sphere_uniform(TN_CPU, slicing.components, common->latent, rng));
        tn_scope_end();
    }
    main_group(r);
    *out = &r->base.base;
    return TN_OK;
}

#define MAKE(fn, entry, kind)                                                                 \
    static enum tn_status fn(const struct gw_common *common, const void *options,             \
                             const void *prior_options, struct tn_rng *rng,                   \
                             struct gw_model **out) {                                         \
        return make_kind(&entry, kind, common, options, prior_options, rng, out);             \
    }

MAKE(make_sfg, gw_model_rae_sfg, GW_SLICE_GAUSSIAN)
MAKE(make_ssfg, gw_model_rae_ssfg, GW_SLICE_VMF)
MAKE(make_mssfg, gw_model_rae_mssfg, GW_SLICE_VMF)
MAKE(make_pssfg, gw_model_rae_pssfg, GW_SLICE_POWER)
MAKE(make_max_sfg, gw_model_rae_max_sfg, GW_SLICE_MAX)

/* ---- options: every default with its source and how sure it is ([C] the RAE code, [A] the
 * same group's DSW code, [M] recalled from the paper, unverified) ---- */

#define O(field) GW_FIELD(struct rae_options, field)

#define ROWS_COMMON(g)                                                                        \
    GW_RECONSTRUCTION_OPTION(struct rae_options, reconstruction, g),                          \
    {"encoder", GW_OPT_STRING, O(encoder), 1, 0, encoders, GW_OPT_FIXED, g, "NAME",          \
     "deterministic: DRAE (mu head only); gaussian: reparameterised code, no KL term",        \
     "RAE code test_rae.py --model-type deterministic [C]"},                                  \
    {"gamma", GW_OPT_FLOAT, O(gamma), 0, 1e9, NULL, GW_OPT_FIXED, g, "X",                     \
     "weight of the discrepancy: loss = mean rec + gamma SFG / (2B), the RAE loss / 2B",     \
     "RAE code test_rae.py --gamma 1.0 [C]"},                                                 \
    {"beta", GW_OPT_FLOAT, O(beta), 0, 1, NULL, GW_OPT_FIXED, g, "X",                          \
     "fused weight of each slice: (1 - beta) W + beta GW", "RAE code test_rae.py --beta 0.1 [C]"}, \
    {"power", GW_OPT_FLOAT, O(power), 1, 16, NULL, GW_OPT_FIXED, g, "P",                      \
     "the power p of the 1-D costs |a - b|^p", "RAE code drae.py sliced_fgw_distance p=2 [C]"}

#define ROW_PROJECTIONS(g, source)                                                            \
    {"projections", GW_OPT_INT, O(projections), 1, 100000, NULL, GW_OPT_FIXED, g, "L",         \
     "slicing directions per batch (and per ascent step)", source}

#define ROWS_SEARCH(g)                                                                        \
    {"search-steps", GW_OPT_INT, O(search_steps), 0, 100000, NULL, GW_OPT_FIXED, g, "T",      \
     "Adam ascent steps on the slice locations per batch",                                    \
     "DSW main.py --niter 10 (max-SW's search) [A]"},                                         \
    {"search-lr", GW_OPT_DOUBLE, O(search_lr), 1e-12, 100, NULL, GW_OPT_FIXED, g, "X",        \
     "Adam learning rate of the ascent (betas 0.9, 0.999)",                                   \
     "DSW utils.py max_sliced_wasserstein_distance Adam lr 1e-4 [A]"},                        \
    {"warm-start", GW_OPT_BOOL, O(warm_start), 0, 0, NULL, GW_OPT_FIXED, g, NULL,             \
     "start each search from the last batch's locations instead of a uniform draw",           \
     "DSW draws theta afresh at every call [A]"}

#define ROW_KAPPA(g, source)                                                                  \
    {"kappa", GW_OPT_FLOAT, O(kappa), 0, 1e6, NULL, GW_OPT_FIXED, g, "K",                     \
     "concentration of the slicing law (fixed)", source}

#define KAPPA_SOURCE                                                                          \
    "DSW mnist.py --kappa 50, unused there; grid {1, 10, 50, 100} of relatives-sources.md " \
    "1.3 [A, weak]"
#define L_SOURCE "RAE code drae.py num_projections=50, assumed kept by SSFG [C for RAE, M]"

static const struct gw_option sfg_rows[] = {
    ROWS_COMMON("Model rae-sfg"),
    ROW_PROJECTIONS("Model rae-sfg", "RAE code drae.py num_projections=50 [C]"),
    {"directions", GW_OPT_STRING, O(directions), 1, 0, directions, GW_OPT_FIXED, "Model rae-sfg",
     "NAME", "gaussian: N(0, I) columns, not normalised (the RAE code); uniform: unit directions",
     "RAE code drae.py torch.randn(d, L) [C]"},
};

static const struct gw_option ssfg_rows[] = {
    ROWS_COMMON("Model rae-ssfg"), ROW_PROJECTIONS("Model rae-ssfg", L_SOURCE),
    ROW_KAPPA("Model rae-ssfg", KAPPA_SOURCE), ROWS_SEARCH("Model rae-ssfg"),
};

static const struct gw_option mssfg_rows[] = {
    ROWS_COMMON("Model rae-mssfg"), ROW_PROJECTIONS("Model rae-mssfg", L_SOURCE),
    ROW_KAPPA("Model rae-mssfg", KAPPA_SOURCE), ROWS_SEARCH("Model rae-mssfg"),
    {"mixture", GW_OPT_INT, O(mixture), 1, 100000, NULL, GW_OPT_FIXED, "Model rae-mssfg", "K",
     "vMF components (equal weights, one kappa; slice l from component l mod k)",
     "DSW mnist.py --k 10, unused there; seed-systems.md 1.3 suggests 5 to 10 [A, weak]"},
};

static const struct gw_option pssfg_rows[] = {
    ROWS_COMMON("Model rae-pssfg"), ROW_PROJECTIONS("Model rae-pssfg", L_SOURCE),
    ROW_KAPPA("Model rae-pssfg", KAPPA_SOURCE), ROWS_SEARCH("Model rae-pssfg"),
};

static const struct gw_option max_sfg_rows[] = {
    ROWS_COMMON("Model rae-max-sfg"), ROWS_SEARCH("Model rae-max-sfg"),
};

#define N_OF(a) ((int)(sizeof(a) / sizeof((a)[0])))

static const char *const rae_priors[] = {"rae-gmm", "gaussian", NULL};

#define ENTRY(var, name_, summary_, rows, defaults_, make_)                                   \
    const struct gw_model_entry var = {                                                       \
        .name = name_, .summary = summary_, .options = rows, .n_options = N_OF(rows),         \
        .options_size = sizeof(struct rae_options), .defaults = defaults_,                    \
        .priors = rae_priors, .ood_scores = gw_vae_ood_recon, .terms = terms,                 \
        .n_terms = N_TERMS, .make = make_,                                                    \
    };

ENTRY(gw_model_rae_sfg, "rae-sfg",
      "RAE: reconstruction + sliced fused GW to a learnt Gaussian mixture", sfg_rows, rae_defaults,
      make_sfg)
ENTRY(gw_model_rae_ssfg, "rae-ssfg",
      "RAE with spherical sliced FGW: vMF slices around a searched direction", ssfg_rows,
      rae_defaults, make_ssfg)
ENTRY(gw_model_rae_mssfg, "rae-mssfg",
      "RAE with mixture spherical sliced FGW: k searched vMF locations", mssfg_rows, mssfg_defaults,
      make_mssfg)
ENTRY(gw_model_rae_pssfg, "rae-pssfg",
      "RAE with power spherical sliced FGW (no rejection sampling)", pssfg_rows, rae_defaults,
      make_pssfg)
ENTRY(gw_model_rae_max_sfg, "rae-max-sfg", "RAE with max sliced FGW: the one searched direction",
      max_sfg_rows, rae_defaults, make_max_sfg)
