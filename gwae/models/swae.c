/* swae.c - the Symmetric Wasserstein autoencoder (Sun & Guo, UAI 2021) as its authors' code
 * computes it (github.com/sunsunyyl/SWAE @0554c3b, models/conv_wae.py, calculate_loss), with
 * the family's shared networks in place of their gated convolutions (so that a comparison with
 * the other models isolates the objective; nets.h):
 *   z_e = E(x) (a deterministic encoder),  x_rec = D(z_e);
 *   the learnable prior: K pseudo-inputs u_k (a [K, C, S, S] parameter, clamped to [0, 1] as
 *   their Hardtanh), each image's nearest one k*(x) = argmin_k |x - u_k| (no gradient), a prior
 *   network (an encoder with both heads, log variance clamped to [-6, 2]) mapping it to
 *   (mu, log sigma^2), and the reparameterised z_d = mu + sigma eps;
 *   x-loss = sum (D(z_d) - x)^2 / B, z-loss = sum (z_e - z_d)^2 / B, rec = sum (x_rec - x)^2 / B,
 *   combined by the objective (swae.h). Decoded images are clamped to [1/512, 1 - 1/512] as
 *   their decoder's for continuous data; both decodings run as one batch of 2B (the decoder
 *   has no batch statistics, so this is the same computation).
 * The prior for generation is the uniform mixture over k of N(mu(u_k), sigma^2(u_k)).
 * Everything trains with AdamNormGrad, as theirs. The pseudo-inputs start as the first K
 * training images plus N(0, 0.01^2) noise (init_from_data; their --use_training_data_init, in
 * every experiment) with K capped at the training images (their Coil20 script breaks there).
 * Not here: their dynamic binarisation of MNIST-like inputs and their MINE term (off by
 * default); docs/models.md lists every default with its source.
 */
#include "swae.h"

#include <stdlib.h>
#include <string.h>

#include "gwae/data/dataset.h"
#include "gwae/nets.h"

enum { T_LOSS, T_REC, T_X, T_Z, N_TERMS };

static const struct gw_term_info terms[N_TERMS] = {
    [T_LOSS] = {"loss", "loss"}, [T_REC] = {"loss_rec", "rec"}, [T_X] = {"loss_x", "x"},
    [T_Z] = {"loss_z", "z"},
};

struct swae_options {
    int components;     /* K */
    float beta, lambda;
    char objective[8];  /* xzrec, xz or zrec */
    float init_noise;   /* std of the noise added to the initial pseudo-inputs */
};

static const char *const objectives[] = {"xzrec", "xz", "zrec", NULL};

static void swae_defaults(void *options) {
    *(struct swae_options *)options = (struct swae_options){
        .components = 4000, .beta = 0.5f, .lambda = 1.0f, .objective = "xzrec",
        .init_noise = 0.01f};
}

struct swae {
    struct gw_model base;
    struct gw_encoder *encoder;    /* child "encoder", no log-variance head */
    struct nn_sequential *decoder; /* child "decoder" */
    struct gw_encoder *prior_net;  /* child "prior_net", both heads */
    struct tn_tensor *pseudo;      /* "pseudo_inputs" [K, C, S, S] */
    enum gw_swae_objective objective;
};

struct tn_tensor *gw_swae_pseudo_inputs(struct gw_model *m) { return ((struct swae *)m)->pseudo; }

struct tn_tensor *gw_swae_nearest(struct tn_tensor *x, struct tn_tensor *u) {
    bool grad = ag_set_grad_enabled(false);
    struct tn_tensor *xf = ag_flatten(ag_detach(x), 1), *uf = ag_flatten(ag_detach(u), 1);
    /* |x - u_k|^2 - |x|^2 = |u_k|^2 - 2 <x, u_k>: the argmin over k, without the [B, K, D] */
    struct tn_tensor *norms = ag_reshape(ag_sum(ag_square(uf), AG_AXIS(1), false), 2,
                                         (int64_t[]){1, uf->shape[0]});
    struct tn_tensor *d = ag_sub(norms, ag_mul_scalar(ag_matmul(xf, ag_transpose(uf, 0, 1)), 2.0f));
    struct tn_tensor *idx = ag_argmax(ag_neg(d), 1, false);
    ag_set_grad_enabled(grad);
    return idx;
}

struct tn_tensor *gw_swae_objective(enum gw_swae_objective objective, float beta, float lambda,
                                    struct tn_tensor *x, struct tn_tensor *x_rec,
                                    struct tn_tensor *x_d, struct tn_tensor *z_e,
                                    struct tn_tensor *z_d, struct tn_tensor **rec,
                                    struct tn_tensor **x_loss, struct tn_tensor **z_loss) {
    float b = (float)x->shape[0];
    *rec = ag_div_scalar(ag_sum_all(ag_square(ag_sub(x_rec, x))), b);
    *x_loss = ag_div_scalar(ag_sum_all(ag_square(ag_sub(x_d, x))), b);
    *z_loss = ag_div_scalar(ag_sum_all(ag_square(ag_sub(z_e, z_d))), b);
    struct tn_tensor *z = ag_mul_scalar(*z_loss, lambda);
    switch (objective) {
    case GW_SWAE_XZ: return ag_add(ag_mul_scalar(*x_loss, beta), z);
    case GW_SWAE_ZREC: return ag_add(ag_mul_scalar(*rec, beta), z);
    case GW_SWAE_XZREC: break;
    }
    return ag_add(ag_add(ag_mul_scalar(*x_loss, beta), ag_mul_scalar(*rec, 1.0f - beta)), z);
}

/* the prior network's draw for pseudo-inputs rows idx [n]: clamp, (mu, logvar), reparameterise */
static struct tn_tensor *prior_draw(struct swae *s, struct tn_tensor *idx, struct tn_rng *rng) {
    struct tn_tensor *u = ag_clamp(ag_index_select(s->pseudo, 0, idx), 0.0f, 1.0f);
    struct tn_tensor *mu, *logvar;
    gw_encoder_forward(s->prior_net, u, &mu, &logvar);
    return gw_reparameterize(mu, ag_clamp(logvar, -6.0f, 2.0f), rng);
}

static struct tn_tensor *decode(struct gw_model *m, struct tn_tensor *z) {
    struct tn_tensor *x = nn_sequential_forward(((struct swae *)m)->decoder, z);
    return ag_clamp(x, 1.0f / 512.0f, 1.0f - 1.0f / 512.0f);
}

static void encode(struct gw_model *m, struct tn_tensor *x, struct tn_tensor **mu,
                   struct tn_tensor **logvar) {
    gw_encoder_forward(((struct swae *)m)->encoder, x, mu, logvar);
}

static struct tn_tensor *swae_loss(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                                   struct gw_terms *t) {
    struct swae *s = (struct swae *)m;
    const struct swae_options *o = m->options;
    struct tn_tensor *z_e, *none;
    encode(m, x, &z_e, &none);
    bool grad = ag_set_grad_enabled(false);
    struct tn_tensor *centres = ag_clamp(s->pseudo, 0.0f, 1.0f);
    ag_set_grad_enabled(grad);
    struct tn_tensor *z_d = prior_draw(s, gw_swae_nearest(x, centres), rng);
    int64_t b = x->shape[0], sizes[2] = {b, b};
    struct tn_tensor *both[2] = {z_e, z_d}, *decoded[2];
    ag_split(decode(m, ag_concat(2, both, 0)), 0, 2, sizes, decoded);
    struct tn_tensor *rec, *xl, *zl;
    struct tn_tensor *loss = gw_swae_objective(s->objective, o->beta, o->lambda, x, decoded[0],
                                               decoded[1], z_e, z_d, &rec, &xl, &zl);
    gw_terms_put(t, T_LOSS, loss);
    gw_terms_put(t, T_REC, rec);
    gw_terms_put(t, T_X, xl);
    gw_terms_put(t, T_Z, zl);
    return loss;
}

/* n draws of the mixture: a uniform component each, then its Gaussian */
static struct tn_tensor *sample(struct gw_model *m, int64_t n, struct tn_rng *rng) {
    struct swae *s = (struct swae *)m;
    int64_t k = s->pseudo->shape[0];
    float *pick = malloc((size_t)(n > 0 ? n : 1) * sizeof *pick);
    TN_CHECK(pick, "swae", "out of host memory");
    tn_rng_uniform_host(rng, pick, n);
    for (int64_t i = 0; i < n; i++) {
        int64_t j = (int64_t)(pick[i] * (float)k);
        pick[i] = (float)(j < k ? j : k - 1);
    }
    struct tn_tensor *idx = tn_from_host(m->device, 1, (int64_t[]){n}, pick);
    free(pick);
    return prior_draw(s, idx, rng);
}

/* the first K training images (cycling if there are fewer) plus N(0, noise^2) */
static void init_from_data(struct gw_model *m, const struct gw_dataset *train,
                           struct tn_rng *rng) {
    struct swae *s = (struct swae *)m;
    const struct swae_options *o = m->options;
    int64_t k = s->pseudo->shape[0];
    int64_t *idx = malloc((size_t)k * sizeof *idx);
    TN_CHECK(idx && train->count > 0, "swae", "no training images for the pseudo-inputs");
    for (int64_t i = 0; i < k; i++) idx[i] = i % train->count;
    struct tn_tensor *images = gw_dataset_batch(train, idx, k);
    free(idx);
    struct tn_tensor *noise = tn_randn(TN_CPU, images->ndim, images->shape, rng);
    tn_copy_into(s->pseudo, ag_add(images, ag_mul_scalar(noise, o->init_noise)));
}

static const struct gw_model_ops swae_ops = {
    .loss = swae_loss, .encode = encode, .decode = decode, .sample = sample,
    .ood_score = gw_model_recon_error, .init_from_data = init_from_data,
};

extern const struct gw_model_entry gw_model_swae;

static const char *const swae_ood[] = {"recon-error", NULL};

static enum tn_status make(const struct gw_common *common, const void *options,
                           const void *prior_options, struct tn_rng *rng, struct gw_model **out) {
    (void)prior_options;
    const struct swae_options *o = options;
    int obj = 0;
    while (objectives[obj] && strcmp(objectives[obj], o->objective) != 0) obj++;
    if (!objectives[obj])
        return tn_error(TN_ERR_INVALID, "unknown SWAE objective '%s' (xzrec, xz or zrec)",
                        o->objective);
    struct swae *s = calloc(1, sizeof *s);
    TN_CHECK(s, "swae", "out of host memory");
    gw_model_init(&s->base, &gw_model_swae, &swae_ops, common, options, NULL);
    s->objective = (enum gw_swae_objective)obj;
    struct swae_options *mine = s->base.options;
    if (common->train_size > 0 && mine->components > common->train_size)
        mine->components = (int)common->train_size;
    struct nn_module *root = &s->base.base;
    s->encoder = gw_encoder_new(common, false, rng);
    nn_module_add_child(root, &s->encoder->base);
    s->decoder = gw_decoder_new(common, rng);
    nn_module_add_child(root, &s->decoder->base);
    s->prior_net = gw_encoder_new(common, true, rng);
    snprintf(s->prior_net->base.name, sizeof s->prior_net->base.name, "prior_net");
    nn_module_add_child(root, &s->prior_net->base);
    /* before init_from_data: their initialisation without training data, N(0.05, 0.01^2) */
    int64_t shape[4] = {mine->components, common->channels, common->image_size, common->image_size};
    struct tn_tensor *pseudo = tn_zeros(TN_CPU, 4, shape);
    tn_fill_normal(pseudo, rng, 0.05f, 0.01f);
    s->pseudo = nn_module_add_param(root, "pseudo_inputs", pseudo);
    struct nn_module *mains[3] = {&s->encoder->base, &s->decoder->base, &s->prior_net->base};
    struct nn_entry_list list = {0};
    gw_model_collect(mains, 3, &list);
    nn_entry_list_add(&list, "", "pseudo_inputs", s->pseudo, false);
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_ADAM_NORMGRAD, common->lr);
    gw_model_add_group(&s->base, "main", NULL, &opts, list.n, list.items);
    nn_entry_list_free(&list);
    *out = &s->base;
    return TN_OK;
}

#define O(field) GW_FIELD(struct swae_options, field)

static const struct gw_option option_rows[] = {
    {"pseudo-inputs", GW_OPT_INT, O(components), 1, 1e6, NULL, GW_OPT_FIXED, "Model swae", "K",
     "pseudo-inputs of the learnable prior (capped at the training images)",
     "authors' test.sh (--number_components_input 4000; code default 100)"},
    {"beta", GW_OPT_FLOAT, O(beta), 0, 1, NULL, GW_OPT_FIXED, "Model swae", "X",
     "weight of the x-loss (xzrec: the reconstruction weighs 1 - beta; zrec: of the "
     "reconstruction)", "authors' test.sh (--beta 0.5; code default 1)"},
    {"lambda", GW_OPT_FLOAT, O(lambda), 0, 1e6, NULL, GW_OPT_FIXED, "Model swae", "X",
     "weight of the z-loss", "authors' experiment.py (--lam 1)"},
    {"objective", GW_OPT_STRING, O(objective), 1, 0, objectives, GW_OPT_FIXED, "Model swae",
     "NAME", "xzrec: x-loss, reconstruction and z-loss; xz: without the reconstruction; zrec: "
     "without the x-loss", "authors' experiment.py (--obj xzrec)"},
    {"init-noise", GW_OPT_FLOAT, O(init_noise), 0, 1, NULL, GW_OPT_FIXED, "Model swae", "S",
     "std of the noise added to the training images that start the pseudo-inputs",
     "authors' utils/load_data.py (pseudoinputs_std 0.01)"},
};

static const char *const priors[] = {"pseudo-inputs", NULL};

const struct gw_model_entry gw_model_swae = {
    .name = "swae",
    .summary = "Symmetric WAE: x-loss + reconstruction + z-loss, prior on learned pseudo-inputs",
    .options = option_rows,
    .n_options = (int)(sizeof option_rows / sizeof option_rows[0]),
    .options_size = sizeof(struct swae_options),
    .defaults = swae_defaults,
    .priors = priors,
    .ood_scores = swae_ood,
    .terms = terms,
    .n_terms = N_TERMS,
    .make = make,
};

/* ---- the prior's registry entry: a name for --prior and config.json ---- */

static struct gw_prior *refuse(int64_t latent, const void *options, struct tn_rng *rng) {
    (void)latent;
    (void)options;
    (void)rng;
    tn_error(TN_ERR_INVALID, "the pseudo-inputs prior is part of the swae model, which builds it");
    return NULL;
}

const struct gw_prior_entry gw_prior_pseudo_inputs = {
    .name = "pseudo-inputs",
    .summary = "SWAE's learnable prior: K pseudo-inputs through a prior network (swae builds it)",
    .make = refuse,
};
