/* test_cuda_model.c - device placement above the tensor layer: modules, optimizers,
 * checkpoints and the GWAE training step on CUDA against the CPU.
 *
 * What is checked, each test on CUDA device 0 and skipped, saying why, without one:
 *  - a trained model's parameters, buffers and optimizer state go CPU -> CUDA -> CPU bit for
 *    bit, a checkpoint saved from the device loads into a model on the device bit for bit;
 *  - the fused optimizer updates (SGD with momentum, Adam, RMSprop with and without momentum)
 *    give the CPU loops' values bit for bit (both sides compute without fused multiply-adds),
 *    a strided gradient included;
 *  - three GWAE training iterations from the same seed and weights give the CPU's loss terms
 *    within GWAE_PARITY_TOL (below), consume the same random numbers, and leave every tensor
 *    of the model (batch-norm statistics and spectral-norm vectors included) on the device.
 * The tensor-layer pieces that run without a device (tn_copy_into, tn_to_device) are tested in
 * test_tensor.c; the ops themselves in test_cuda.c.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gwae/models/gwae.h"
#include "helpers/test_support.h"
#include "nn/nn_checkpoint.h"
#include "tensor/tn_cuda.h"

#define GPU TN_CUDA(0)

/* The loss terms of three iterations on the GPU may differ from the CPU's by this much,
 * normalised by max(1, |cpu value|): convolutions, matmuls and sums add in another order
 * (last-bit differences), and RMSprop's first steps, which divide by sqrt(g^2), turn those
 * into differences of up to lr per weight where a gradient is near zero. */
#define GWAE_PARITY_TOL 1e-3

#define NEED_GPU()                                                                   \
    do {                                                                             \
        if (!tn_cuda_available())                                                    \
            cr_skip_test("no CUDA device: %s", tn_cuda_unavailable_reason());        \
    } while (0)

LEAK_CHECKED_SUITE(cuda_model);

/* ---- helpers ---- */

static struct gw_common small_config(void) {
    struct gw_common cfg = gw_common_defaults();
    cfg.image_size = 32;
    cfg.width = 0.125f;
    cfg.latent = 4;
    cfg.batch = 8;
    return cfg;
}

static struct gw_model *model_on(struct tn_device device, uint64_t seed) {
    struct gw_common cfg = small_config();
    struct gwae_options o;
    gw_model_gwae.defaults(&o);
    o.n_critic = 2;
    o.latent_bn = true; /* the eq. 53 running statistics are updated in place too */
    struct tn_rng rng = tn_rng_new(seed);
    struct gw_model *m;
    cr_assert_eq(gw_model_new(&cfg, &o, NULL, &rng, &m), TN_OK, "%s", tn_last_error());
    cr_assert_eq(gw_model_to_device(m, device), TN_OK, "%s", tn_last_error());
    return m;
}

static struct tn_tensor *images(uint64_t seed) {
    struct tn_rng rng = tn_rng_new(seed);
    struct gw_common cfg = small_config();
    int64_t shape[4] = {cfg.batch, 3, cfg.image_size, cfg.image_size};
    return tn_rand_uniform(TN_CPU, 4, shape, &rng, 0.05f, 0.95f);
}

/* Every parameter and buffer of m and the state of every group's optimizer, by name. */
static void model_entries(struct gw_model *m, struct nn_entry_list *list) {
    nn_module_collect(&m->base, "", true, list);
    for (int g = 0; g < m->n_groups; g++) nn_optim_collect_state(m->groups[g].optim, m->groups[g].name, list);
}

static float *host_values(const struct tn_tensor *t) {
    float *h = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
    cr_assert(h);
    tn_to_host(t, h);
    return h;
}

/* Host copies of every entry's values, in list order. */
static float **snapshot(const struct nn_entry_list *list) {
    float **values = calloc((size_t)(list->n ? list->n : 1), sizeof *values);
    cr_assert(values);
    for (int i = 0; i < list->n; i++) values[i] = host_values(list->items[i].tensor);
    return values;
}

static void snapshot_free(float **values, int n) {
    for (int i = 0; i < n; i++) free(values[i]);
    free(values);
}

/* Asserts that every entry lives on device and holds the snapshot's values bit for bit. */
static void assert_entries(const struct nn_entry_list *list, float *const *want,
                           struct tn_device device, const char *when) {
    for (int i = 0; i < list->n; i++) {
        const struct tn_tensor *t = list->items[i].tensor;
        cr_assert(tn_device_equal(t->storage->device, device), "%s: %s is on the wrong device",
                  when, list->items[i].name);
        float *got = host_values(t);
        int differ = memcmp(got, want[i], (size_t)t->numel * sizeof(float));
        free(got);
        cr_assert_eq(differ, 0, "%s: %s changed", when, list->items[i].name);
    }
}

/* ---- modules, optimizers and checkpoints ---- */

/* A checkpoint of m's modules and every group's optimizer state. */
static struct nn_ckpt *model_ckpt(struct gw_model *m) {
    struct nn_ckpt *c = nn_ckpt_new();
    nn_ckpt_add_module(c, "", &m->base);
    for (int g = 0; g < m->n_groups; g++) nn_ckpt_add_optim(c, m->groups[g].name, m->groups[g].optim);
    return c;
}

/* A trained model (so optimizer state and running statistics are not their initial values)
 * goes to the device and back, and through a checkpoint saved from the device into another
 * model on the device, without changing a bit. */
Test(cuda_model, model_state_and_checkpoints_round_trip_bit_exact) {
    NEED_GPU();
    struct gw_model *m = model_on(TN_CPU, 3);
    struct tn_rng rng = tn_rng_new(4);
    struct gw_terms terms;
    gw_model_terms(m, &terms);
    gw_model_train_step(m, images(5), &rng, &terms);
    gw_terms_free(&terms);
    struct nn_entry_list list = {0};
    model_entries(m, &list);
    float **trained = snapshot(&list);
    int n_entries = list.n;

    cr_assert_eq(gw_model_to_device(m, GPU), TN_OK, "%s", tn_last_error());
    assert_entries(&list, trained, GPU, "after the move to cuda:0");
    char dir[] = "/tmp/gwae_cuda_ckpt_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    struct nn_ckpt *save = model_ckpt(m);
    cr_assert_eq(nn_ckpt_save(save, path), TN_OK, "%s", tn_last_error());
    nn_ckpt_free(save);
    cr_assert_eq(gw_model_to_device(m, TN_CPU), TN_OK, "%s", tn_last_error());
    assert_entries(&list, trained, TN_CPU, "after the move back to the CPU");
    nn_entry_list_free(&list);
    gw_model_free(m);

    struct gw_model *other = model_on(GPU, 99); /* other initial values, overwritten */
    struct nn_ckpt *load = model_ckpt(other);
    cr_assert_eq(nn_ckpt_load(load, path), TN_OK, "%s", tn_last_error());
    nn_ckpt_free(load);
    struct nn_entry_list loaded = {0};
    model_entries(other, &loaded);
    cr_assert_eq(loaded.n, n_entries);
    assert_entries(&loaded, trained, GPU, "after loading the checkpoint on cuda:0");
    snapshot_free(trained, n_entries);
    nn_entry_list_free(&loaded);
    gw_model_free(other);
    unlink(path);
    rmdir(dir);
}

/* ---- fused optimizer updates ---- */

/* Three steps of opts on the same parameter and gradients on both devices. */
static void assert_optimizer_matches(struct nn_optim_opts opts, const char *what) {
    struct tn_rng rng = tn_rng_new(21);
    int64_t shape[2] = {37, 5};
    struct tn_tensor *start = make_random(&rng, 2, shape, -1, 1);
    struct tn_tensor *p[2] = {tn_keep(tn_to_device(start, TN_CPU)), NULL};
    tn_scope_begin();
    p[1] = tn_keep(tn_empty(GPU, 2, shape));
    tn_scope_end();
    tn_copy_into(p[1], start);
    struct nn_optim *o[2];
    for (int d = 0; d < 2; d++) {
        struct nn_entry e = {.tensor = p[d], .is_buffer = false};
        snprintf(e.name, sizeof e.name, "p");
        tn_set_requires_grad(p[d], true);
        o[d] = nn_optim_new(&opts, 1, &e);
    }
    int64_t swapped[2] = {shape[1], shape[0]};
    for (int step = 0; step < 3; step++) {
        /* step 1's gradient is a transposed view: the device makes it dense on the device */
        bool strided = step == 1;
        struct tn_tensor *g = make_random(&rng, 2, strided ? swapped : shape, -1, 1);
        for (int d = 0; d < 2; d++) {
            struct tn_tensor *gd = d ? tn_to_device(g, GPU) : g;
            ag_zero_grad(p[d]);
            p[d]->grad = tn_keep(strided ? ag_transpose(gd, 0, 1) : gd);
            nn_optim_step(o[d]);
        }
        float *want = host_values(p[0]), *got = host_values(p[1]);
        int differ = memcmp(want, got, (size_t)p[0]->numel * sizeof(float));
        free(want);
        free(got);
        cr_assert_eq(differ, 0, "%s: step %d differs from the CPU", what, step);
    }
    for (int d = 0; d < 2; d++) {
        for (int s = 0; s < NN_OPTIM_MAX_SLOTS; s++) {
            const struct tn_tensor *state = o[d]->params[0].state[s];
            cr_assert(!state || tn_device_equal(state->storage->device, p[d]->storage->device),
                      "%s: state slot %d is not beside its parameter", what, s);
        }
        nn_optim_free(o[d]);
        ag_zero_grad(p[d]);
        tn_release(p[d]);
    }
}

Test(cuda_model, fused_optimizer_updates_match_the_cpu_bit_for_bit) {
    NEED_GPU();
    struct nn_optim_opts sgd = nn_optim_defaults(NN_OPTIM_SGD, 0.1);
    sgd.momentum = 0.9;
    assert_optimizer_matches(sgd, "SGD with momentum");
    assert_optimizer_matches(nn_optim_defaults(NN_OPTIM_SGD, 0.1), "SGD");
    assert_optimizer_matches(nn_optim_defaults(NN_OPTIM_ADAM, 1e-2), "Adam");
    struct nn_optim_opts adam_big_w = nn_optim_defaults(NN_OPTIM_ADAM, 1e-2);
    adam_big_w.beta1 = 0.2; /* 1 - beta1 >= 0.5: the other form of the lerp */
    assert_optimizer_matches(adam_big_w, "Adam, beta1 0.2");
    assert_optimizer_matches(nn_optim_defaults(NN_OPTIM_RMSPROP, 1e-3), "RMSprop");
    struct nn_optim_opts rms_momentum = nn_optim_defaults(NN_OPTIM_RMSPROP, 1e-3);
    rms_momentum.momentum = 0.5;
    assert_optimizer_matches(rms_momentum, "RMSprop with momentum");
}

/* ---- three GWAE training iterations ---- */

static void assert_term(double cpu, double gpu, const char *name, int iteration) {
    double scale = fabs(cpu) > 1.0 ? fabs(cpu) : 1.0;
    cr_assert(fabs(gpu - cpu) / scale <= GWAE_PARITY_TOL,
              "iteration %d: %s is %.9g on cuda:0, %.9g on the CPU (normalised error %.3g > %.3g)",
              iteration, name, gpu, cpu, fabs(gpu - cpu) / scale, GWAE_PARITY_TOL);
}


Test(cuda_model, three_gwae_iterations_match_the_cpu_loss_terms) {
    NEED_GPU();
    bool deterministic = tn_cuda_deterministic();
    tn_cuda_set_deterministic(true);
    struct gw_model *cpu = model_on(TN_CPU, 7), *gpu = model_on(GPU, 7);
    struct tn_tensor *x_cpu = images(8), *x_gpu = tn_to_device(x_cpu, GPU);
    struct tn_rng rng_cpu = tn_rng_new(9), rng_gpu = tn_rng_new(9);
    struct gw_terms a, b;
    gw_model_terms(cpu, &a);
    gw_model_terms(gpu, &b);
    for (int it = 0; it < 3; it++) {
        gw_terms_clear(&a);
        gw_terms_clear(&b);
        gw_model_train_step(cpu, x_cpu, &rng_cpu, &a);
        gw_model_train_step(gpu, x_gpu, &rng_gpu, &b);
        gw_terms_read(&a);
        gw_terms_read(&b);
        cr_assert_eq(rng_gpu.offset, rng_cpu.offset, "iteration %d drew other numbers", it);
        for (int k = 0; k < a.n; k++) {
            cr_assert(a.set[k] && b.set[k], "iteration %d: %s was not written", it, a.info[k].name);
            assert_term(a.host[k], b.host[k], a.info[k].name, it);
        }
    }
    gw_terms_free(&a);
    gw_terms_free(&b);
    struct nn_entry_list list = {0};
    model_entries(gpu, &list);
    for (int i = 0; i < list.n; i++)
        cr_assert(tn_device_equal(list.items[i].tensor->storage->device, GPU),
                  "%s left the device during training", list.items[i].name);
    nn_entry_list_free(&list);
    gw_model_free(cpu);
    gw_model_free(gpu);
    tn_cuda_set_deterministic(deterministic);
}
