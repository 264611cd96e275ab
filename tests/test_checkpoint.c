/* test_checkpoint.c - checkpoints (nn/nn_checkpoint.h): a bit-exact round trip of parameters,
 * buffers, optimizer state, generator and step; resuming a run from a checkpoint gives the
 * same bits as running straight through (RMSprop and Adam); truncated, corrupted, wrong-shape,
 * wrong-dtype, incomplete and over-full files are refused with a message naming the tensor,
 * leaving the model untouched; the write is atomic (no temporary file left, the old file kept
 * when a write fails); flipped data bytes fail the checksum; a FIFO is refused at once; the
 * first non-finite tensor is named; and every seed file of fuzz/corpus/checkpoint/ is replayed
 * through the reader.
 *
 * Each test gets a fresh temporary directory and is leak-checked like every other suite.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers/test_support.h"
#include "nn/nn_checkpoint.h"

static char dir[64];

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/test_ckpt_XXXXXX");
    cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    leak_check_begin();
}

static void teardown(void) {
    leak_check_end();
    chmod(dir, 0700);
    remove_tree(dir);
}

TestSuite(ckpt, .init = setup, .fini = teardown);

/* dir/name in a static buffer (one at a time). */
static const char *in_dir(const char *name) {
    static char path[2][256];
    static int k;
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

static unsigned char *read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc((size_t)n + 1);
    cr_assert(data && fread(data, 1, (size_t)n, f) == (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return data;
}

static void write_all(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    cr_assert(f && fwrite(data, 1, size, f) == size);
    fclose(f);
}

/* A file with the given JSON header and data_bytes bytes of zeros after it. */
static void write_raw(const char *path, const char *header, size_t data_bytes) {
    size_t n = strlen(header);
    unsigned char *buf = calloc(1, 8 + n + data_bytes);
    for (int k = 0; k < 8; k++) buf[k] = (unsigned char)((uint64_t)n >> (8 * k));
    memcpy(buf + 8, header, n);
    write_all(path, buf, 8 + n + data_bytes);
    free(buf);
}

static void assert_error(enum tn_status got, enum tn_status want, const char *needle) {
    cr_assert_eq(got, want, "status %s, expected %s (%s)", tn_status_name(got),
                 tn_status_name(want), tn_last_error());
    cr_assert(strstr(tn_last_error(), needle), "message \"%s\" lacks \"%s\"", tn_last_error(),
              needle);
}

static void assert_same_bits(const struct tn_tensor *a, const struct tn_tensor *b,
                             const char *what) {
    cr_assert(tn_same_shape(a, b), "%s: shapes differ", what);
    size_t bytes = sizeof(float) * (size_t)(a->numel + 1);
    float *x = malloc(bytes), *y = malloc(bytes);
    tn_to_host(a, x);
    tn_to_host(b, y);
    bool same = memcmp(x, y, sizeof(float) * (size_t)a->numel) == 0;
    free(x);
    free(y);
    cr_assert(same, "%s: the bits differ", what);
}

/* ---- a small model: mlp.l1 (3 -> hidden, tanh, with a buffer) and mlp.l2 (hidden -> 2) ---- */

static struct nn_module *linear(const char *name, int64_t in, int64_t out, struct tn_rng *rng) {
    struct nn_module *m = malloc(sizeof *m);
    nn_module_init(m, name, NULL, NULL);
    tn_scope_begin();
    int64_t w_shape[2] = {in, out};
    nn_module_add_param(m, "weight", tn_rand_uniform(TN_CPU, 2, w_shape, rng, -0.5f, 0.5f));
    nn_module_add_param(m, "bias", tn_rand_uniform(TN_CPU, 1, &out, rng, -0.1f, 0.1f));
    tn_scope_end();
    return m;
}

static struct nn_module *mlp_new(uint64_t seed, int64_t hidden) {
    struct tn_rng rng = tn_rng_new(seed);
    struct nn_module *m = malloc(sizeof *m);
    nn_module_init(m, "mlp", NULL, NULL);
    struct nn_module *l1 = nn_module_add_child(m, linear("l1", 3, hidden, &rng));
    nn_module_add_child(m, linear("l2", hidden, 2, &rng));
    tn_scope_begin();
    nn_module_add_buffer(l1, "running_mean", tn_zeros(TN_CPU, 1, (int64_t[]){3}));
    tn_scope_end();
    return m;
}

static struct nn_optim *mlp_optim(struct nn_module *m, enum nn_optim_kind kind) {
    struct nn_entry_list list = {0};
    nn_module_collect(m, "", false, &list);
    struct nn_optim_opts opts = nn_optim_defaults(kind, 0.01);
    struct nn_optim *o = nn_optim_new(&opts, list.n, list.items);
    nn_entry_list_free(&list);
    return o;
}

/* steps of regression on fresh random data drawn from rng; the buffer tracks x's mean */
static void train(struct nn_module *m, struct nn_optim *o, struct tn_rng *rng, int steps,
                  int64_t *step) {
    struct nn_module *l1 = m->children[0], *l2 = m->children[1];
    for (int s = 0; s < steps; s++) {
        tn_scope_begin();
        struct tn_tensor *x = tn_randn(TN_CPU, 2, (int64_t[]){8, 3}, rng);
        struct tn_tensor *y = tn_randn(TN_CPU, 2, (int64_t[]){8, 2}, rng);
        struct tn_tensor *w1 = l1->params[0].tensor, *b1 = l1->params[1].tensor;
        struct tn_tensor *w2 = l2->params[0].tensor, *b2 = l2->params[1].tensor;
        struct tn_tensor *out = ag_add(ag_matmul(ag_tanh(ag_add(ag_matmul(x, w1), b1)), w2), b2);
        struct tn_tensor *loss = ag_mean_all(ag_square(ag_sub(out, y)));
        nn_optim_zero_grad(o);
        ag_backward(loss, 0);
        nn_optim_step(o);
        float xs[24], rm[3];
        tn_to_host(x, xs);
        tn_to_host(l1->buffers[0].tensor, rm);
        for (int j = 0; j < 3; j++)
            rm[j] = 0.9f * rm[j] + 0.1f * (xs[j] + xs[3 + j] + xs[6 + j] + xs[9 + j]) / 4.0f;
        tn_write_host(l1->buffers[0].tensor, rm);
        tn_scope_end();
        (*step)++;
    }
}

/* What a training run saves: the model, its optimizer, the data generator and the step. */
static struct nn_ckpt *run_ckpt(struct nn_module *m, struct nn_optim *o, struct tn_rng *rng,
                                int64_t *step) {
    struct nn_ckpt *c = nn_ckpt_new();
    nn_ckpt_add_module(c, "mlp", m);
    nn_ckpt_add_optim(c, "optim.main", o);
    nn_ckpt_add_rng(c, "rng", rng);
    nn_ckpt_add_i64(c, "step", step);
    return c;
}

static void assert_same_run(struct nn_module *ma, struct nn_optim *oa, struct nn_module *mb,
                            struct nn_optim *ob) {
    struct nn_entry_list a = {0}, b = {0};
    nn_module_collect(ma, "", true, &a);
    nn_module_collect(mb, "", true, &b);
    cr_assert_eq(a.n, b.n);
    for (int i = 0; i < a.n; i++)
        assert_same_bits(a.items[i].tensor, b.items[i].tensor, a.items[i].name);
    nn_entry_list_free(&a);
    nn_entry_list_free(&b);
    cr_assert_eq(oa->n_params, ob->n_params);
    for (int i = 0; i < oa->n_params; i++) {
        cr_assert_eq(oa->params[i].step, ob->params[i].step, "%s: step", oa->params[i].name);
        for (int s = 0; s < nn_optim_n_slots(oa); s++)
            assert_same_bits(oa->params[i].state[s], ob->params[i].state[s], oa->params[i].name);
    }
}

/* ---- round trip and resume ---- */

Test(ckpt, round_trip_is_bit_exact) {
    struct nn_module *a = mlp_new(1, 4), *b = mlp_new(2, 4);
    struct nn_optim *oa = mlp_optim(a, NN_OPTIM_RMSPROP), *ob = mlp_optim(b, NN_OPTIM_RMSPROP);
    struct tn_rng ra = tn_rng_new(5), rb = tn_rng_new(6);
    int64_t sa = 0, sb = -3;
    train(a, oa, &ra, 2, &sa);
    /* values whose bits a text format would lose: NaN payload, -0, infinities, a denormal */
    uint32_t odd[4] = {0x7fc01234u, 0x80000000u, 0xff800000u, 0x00000001u};
    float oddf[4];
    memcpy(oddf, odd, sizeof odd);
    tn_write_host(a->children[0]->params[1].tensor, oddf); /* mlp.l1.bias [4] */
    ra.seed = UINT64_MAX;
    sa = INT64_MIN;
    struct nn_ckpt *ca = run_ckpt(a, oa, &ra, &sa), *cb = run_ckpt(b, ob, &rb, &sb);
    nn_ckpt_set_meta(ca, "config", "{\"lr\": 1e-4,\n \"name\": \"r\\u00e9sum\xc3\xa9\"}");
    cr_assert_eq(nn_ckpt_save(ca, in_dir("a.safetensors")), TN_OK, "%s", tn_last_error());
    cr_assert_eq(nn_ckpt_load(cb, in_dir("a.safetensors")), TN_OK, "%s", tn_last_error());
    assert_same_run(a, oa, b, ob);
    cr_assert(rb.seed == ra.seed && rb.offset == ra.offset);
    cr_assert_eq(sb, INT64_MIN);
    cr_assert_str_eq(nn_ckpt_meta(cb, "config"), nn_ckpt_meta(ca, "config"));
    cr_assert_str_eq(nn_ckpt_meta(cb, "optim.main.kind"), "rmsprop");
    nn_ckpt_free(ca);
    nn_ckpt_free(cb);
    nn_optim_free(oa);
    nn_optim_free(ob);
    nn_module_free(a);
    nn_module_free(b);
}

/* N steps straight, against k steps, save, load into a fresh model and optimizer, N - k. */
static void check_resume(enum nn_optim_kind kind) {
    const int n = 7, k = 3;
    struct nn_module *a = mlp_new(1, 5);
    struct nn_optim *oa = mlp_optim(a, kind);
    struct tn_rng ra = tn_rng_new(7);
    int64_t sa = 0;
    train(a, oa, &ra, n, &sa);

    struct nn_module *b = mlp_new(1, 5);
    struct nn_optim *ob = mlp_optim(b, kind);
    struct tn_rng rb = tn_rng_new(7);
    int64_t sb = 0;
    train(b, ob, &rb, k, &sb);
    struct nn_ckpt *cb = run_ckpt(b, ob, &rb, &sb);
    cr_assert_eq(nn_ckpt_save(cb, in_dir("run.safetensors")), TN_OK, "%s", tn_last_error());

    struct nn_module *c = mlp_new(99, 5); /* other weights, no optimizer state, other data */
    struct nn_optim *oc = mlp_optim(c, kind);
    struct tn_rng rc = tn_rng_new(12345);
    int64_t sc = 0;
    struct nn_ckpt *cc = run_ckpt(c, oc, &rc, &sc);
    cr_assert_eq(nn_ckpt_load(cc, in_dir("run.safetensors")), TN_OK, "%s", tn_last_error());
    assert_same_run(b, ob, c, oc);
    cr_assert_eq(sc, k);
    train(c, oc, &rc, n - k, &sc);
    assert_same_run(a, oa, c, oc);
    cr_assert(rc.seed == ra.seed && rc.offset == ra.offset, "the generator continues");
    cr_assert_eq(sc, n);
    nn_ckpt_free(cb);
    nn_ckpt_free(cc);
    nn_optim_free(oa);
    nn_optim_free(ob);
    nn_optim_free(oc);
    nn_module_free(a);
    nn_module_free(b);
    nn_module_free(c);
}

Test(ckpt, resuming_rmsprop_is_bit_exact) { check_resume(NN_OPTIM_RMSPROP); }

Test(ckpt, resuming_adam_is_bit_exact) { check_resume(NN_OPTIM_ADAM); }

Test(ckpt, saving_before_the_first_step_then_resuming_is_exact) {
    struct nn_module *a = mlp_new(1, 3), *c = mlp_new(4, 3);
    struct nn_optim *oa = mlp_optim(a, NN_OPTIM_ADAM), *oc = mlp_optim(c, NN_OPTIM_ADAM);
    struct tn_rng ra = tn_rng_new(3), rc = tn_rng_new(4);
    int64_t sa = 0, sc = 9;
    struct nn_ckpt *ca = run_ckpt(a, oa, &ra, &sa), *cc = run_ckpt(c, oc, &rc, &sc);
    cr_assert_eq(nn_ckpt_save(ca, in_dir("zero.safetensors")), TN_OK, "%s", tn_last_error());
    cr_assert_eq(nn_ckpt_load(cc, in_dir("zero.safetensors")), TN_OK, "%s", tn_last_error());
    train(a, oa, &ra, 2, &sa);
    train(c, oc, &rc, 2, &sc);
    assert_same_run(a, oa, c, oc);
    nn_ckpt_free(ca);
    nn_ckpt_free(cc);
    nn_optim_free(oa);
    nn_optim_free(oc);
    nn_module_free(a);
    nn_module_free(c);
}

/* ---- refused files ---- */

/* Saves mlp(hidden), trained one step with an optimizer of kind, to name. */
static void save_model(const char *name, int64_t hidden, enum nn_optim_kind kind) {
    struct nn_module *m = mlp_new(1, hidden);
    struct nn_optim *o = mlp_optim(m, kind);
    struct tn_rng r = tn_rng_new(1);
    int64_t s = 0;
    train(m, o, &r, 1, &s);
    struct nn_ckpt *c = run_ckpt(m, o, &r, &s);
    cr_assert_eq(nn_ckpt_save(c, in_dir(name)), TN_OK, "%s", tn_last_error());
    nn_ckpt_free(c);
    nn_optim_free(o);
    nn_module_free(m);
}

/* A fresh mlp(hidden) with an RMSprop optimizer and its list, for loading into. */
struct target {
    struct nn_module *m;
    struct nn_optim *o;
    struct tn_rng rng;
    int64_t step;
    struct nn_ckpt *c;
};

static struct target *target_new(int64_t hidden) {
    struct target *t = calloc(1, sizeof *t);
    t->m = mlp_new(42, hidden);
    t->o = mlp_optim(t->m, NN_OPTIM_RMSPROP);
    t->rng = tn_rng_new(42);
    t->c = run_ckpt(t->m, t->o, &t->rng, &t->step);
    return t;
}

static void target_free(struct target *t) {
    nn_ckpt_free(t->c);
    nn_optim_free(t->o);
    nn_module_free(t->m);
    free(t);
}

Test(ckpt, truncated_files_are_refused_naming_the_tensor) {
    save_model("full.safetensors", 4, NN_OPTIM_RMSPROP);
    size_t size;
    unsigned char *bytes = read_all(in_dir("full.safetensors"), &size);
    struct target *t = target_new(4);
    for (size_t n = 0; n < size; n++) /* every prefix is refused, none is read past its end */
        cr_assert_neq(nn_ckpt_load_memory(t->c, bytes, n), TN_OK, "%zu of %zu bytes loaded", n,
                      size);
    write_all(in_dir("cut.safetensors"), bytes, size - 4);
    assert_error(nn_ckpt_load(t->c, in_dir("cut.safetensors")), TN_ERR_INVALID,
                 "optim.main.l2.bias.square_avg: data_offsets");
    write_all(in_dir("cut.safetensors"), bytes, 20);
    assert_error(nn_ckpt_load(t->c, in_dir("cut.safetensors")), TN_ERR_INVALID, "header length");
    write_all(in_dir("cut.safetensors"), bytes, 5);
    assert_error(nn_ckpt_load(t->c, in_dir("cut.safetensors")), TN_ERR_INVALID, "too short");
    free(bytes);
    target_free(t);
}

Test(ckpt, corrupted_headers_are_refused_and_never_crash) {
    save_model("full.safetensors", 4, NN_OPTIM_RMSPROP);
    size_t size;
    unsigned char *bytes = read_all(in_dir("full.safetensors"), &size);
    uint64_t header = 0;
    for (int k = 7; k >= 0; k--) header = header << 8 | bytes[k];
    struct target *t = target_new(4);
    static const unsigned char subs[] = {'x', '0', '9', '"', '{', '}',
                                         '[', ',', ' ', '\\', 0,   0xff};
    int refused = 0, tried = 0;
    for (size_t i = 0; i < 8 + header; i++)
        for (size_t k = 0; k < sizeof subs; k++) {
            if (bytes[i] == subs[k]) continue;
            unsigned char *copy = malloc(size);
            memcpy(copy, bytes, size);
            copy[i] = subs[k];
            refused += nn_ckpt_load_memory(t->c, copy, size) != TN_OK;
            tried++;
            free(copy);
        }
    cr_assert_gt(refused, tried * 9 / 10, "only %d of %d corruptions refused", refused, tried);
    /* a flipped digit in a shape is caught by the size check, naming the tensor */
    char *at = strstr((char *)bytes + 8, "\"mlp.l1.weight\":{\"dtype\":\"F32\",\"shape\":[3,4]");
    cr_assert(at);
    at[strlen("\"mlp.l1.weight\":{\"dtype\":\"F32\",\"shape\":[3,")] = '5';
    write_all(in_dir("flip.safetensors"), bytes, size);
    assert_error(nn_ckpt_load(t->c, in_dir("flip.safetensors")), TN_ERR_INVALID,
                 "mlp.l1.weight: shape [3, 5] of F32 needs 60 bytes");
    /* JSON garbage where the header was */
    memset(bytes + 8, '#', 3);
    write_all(in_dir("garbage.safetensors"), bytes, size);
    assert_error(nn_ckpt_load(t->c, in_dir("garbage.safetensors")), TN_ERR_INVALID, "header byte");
    free(bytes);
    target_free(t);
}

Test(ckpt, wrong_shape_is_refused_and_the_model_is_untouched) {
    save_model("h5.safetensors", 5, NN_OPTIM_RMSPROP);
    struct target *t = target_new(4);
    struct tn_tensor *w1 = t->m->children[0]->params[0].tensor;
    float before[12], after[12];
    tn_to_host(w1, before);
    uint64_t version = w1->storage->version;
    int64_t step = t->step;
    assert_error(nn_ckpt_load(t->c, in_dir("h5.safetensors")), TN_ERR_INVALID,
                 "mlp.l1.weight: shape [3, 5] in file, [3, 4] expected");
    tn_to_host(w1, after);
    cr_assert(memcmp(before, after, sizeof before) == 0 && w1->storage->version == version,
              "a refused file writes nothing");
    cr_assert_eq(t->step, step);
    target_free(t);
}

Test(ckpt, wrong_dtype_missing_and_extra_tensors_are_refused) {
    struct tn_tensor *a = tn_zeros(TN_CPU, 1, (int64_t[]){2});
    struct tn_tensor *b = tn_zeros(TN_CPU, 1, (int64_t[]){3});
    struct nn_ckpt *ab = nn_ckpt_new(), *abc = nn_ckpt_new(), *only_a = nn_ckpt_new();
    nn_ckpt_add_tensor(ab, "a", a);
    nn_ckpt_add_tensor(ab, "b", b);
    nn_ckpt_add_tensor(abc, "a", a);
    nn_ckpt_add_tensor(abc, "b", b);
    nn_ckpt_add_tensor(abc, "c", a);
    nn_ckpt_add_tensor(only_a, "a", a);
    write_raw(in_dir("f16.safetensors"),
              "{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[4,16]}}", 16);
    assert_error(nn_ckpt_load(ab, in_dir("f16.safetensors")), TN_ERR_INVALID,
                 "a: dtype F16 in file, F32 expected");
    cr_assert_eq(nn_ckpt_save(ab, in_dir("ab.safetensors")), TN_OK);
    assert_error(nn_ckpt_load(abc, in_dir("ab.safetensors")), TN_ERR_INVALID,
                 "c: missing from the file");
    assert_error(nn_ckpt_load(only_a, in_dir("ab.safetensors")), TN_ERR_INVALID,
                 "b: in the file but not expected");
    nn_ckpt_allow_extra(only_a, true);
    tn_write_host(a, (float[]){7, 7});
    cr_assert_eq(nn_ckpt_load(only_a, in_dir("ab.safetensors")), TN_OK, "%s", tn_last_error());
    assert_close(a, (float[]){0, 0}, 0, 0);
    /* extras are skipped only after their offsets are checked */
    write_raw(in_dir("bad_extra.safetensors"),
              "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"b\":{\"dtype\":\"I64\",\"shape\":[3],\"data_offsets\":[8,16]}}", 16);
    assert_error(nn_ckpt_load(only_a, in_dir("bad_extra.safetensors")), TN_ERR_INVALID,
                 "b: shape [3] of I64 needs 24 bytes");
    nn_ckpt_free(ab);
    nn_ckpt_free(abc);
    nn_ckpt_free(only_a);
}

/* meta.safetensors with no tensors and metadata data_rng.seed = seed, data_rng.offset = 1 */
static void write_seed(const char *seed) {
    char header[256];
    snprintf(header, sizeof header,
             "{\"__metadata__\":{\"data_rng.seed\":\"%s\",\"data_rng.offset\":\"1\"}}", seed);
    write_raw(in_dir("meta.safetensors"), header, 0);
}

Test(ckpt, metadata_is_checked) {
    save_model("adam.safetensors", 4, NN_OPTIM_ADAM);
    struct nn_ckpt *weights = nn_ckpt_new();
    struct nn_module *m = mlp_new(3, 4);
    nn_ckpt_add_module(weights, "mlp", m);
    struct tn_rng rng;
    nn_ckpt_add_rng(weights, "data_rng", &rng);
    nn_ckpt_allow_extra(weights, true);
    assert_error(nn_ckpt_load(weights, in_dir("adam.safetensors")), TN_ERR_INVALID,
                 "metadata data_rng.seed: missing from the file");
    struct target *t = target_new(4); /* expects RMSprop state */
    assert_error(nn_ckpt_load(t->c, in_dir("adam.safetensors")), TN_ERR_INVALID,
                 "metadata optim.main.kind: \"adam\" in file, \"rmsprop\" expected");
    struct nn_ckpt *only_rng = nn_ckpt_new();
    nn_ckpt_add_rng(only_rng, "data_rng", &rng);
    write_seed("12x");
    assert_error(nn_ckpt_load(only_rng, in_dir("meta.safetensors")), TN_ERR_INVALID,
                 "metadata data_rng.seed: \"12x\" is not an unsigned 64-bit decimal");
    write_seed("18446744073709551616");
    assert_error(nn_ckpt_load(only_rng, in_dir("meta.safetensors")), TN_ERR_INVALID,
                 "is not an unsigned 64-bit decimal");
    write_seed("18446744073709551615");
    cr_assert_eq(nn_ckpt_load(only_rng, in_dir("meta.safetensors")), TN_OK, "%s", tn_last_error());
    cr_assert(rng.seed == UINT64_MAX && rng.offset == 1);
    nn_ckpt_free(only_rng);
    target_free(t);
    nn_ckpt_free(weights);
    nn_module_free(m);
}

/* Hand-made headers against the list {a: [2], b: [3]}: what each is refused for. */
static const struct {
    const char *header;
    size_t data;
    const char *why;
} bad_headers[] = {
#define A_OK "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}"
    {"{" A_OK ",\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[4,16]}}", 16,
     "b: data_offsets [4, 16] overlap those of a"},
    {"{" A_OK ",\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[12,24]}}", 24,
     "b: data_offsets start at 12, leaving a gap after byte 8"},
    {"{" A_OK ",\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[8,20]}}", 24,
     "the data section has 24 bytes but its tensors cover 20"},
    {"{" A_OK ",\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[8,20]}}", 16,
     "b: data_offsets [8, 20] outside the data section of 16 bytes"},
    {"{" A_OK ",\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[20,8]}}", 20,
     "b: data_offsets [20, 8] outside"},
    {"{" A_OK ",\"b\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
     "\"data_offsets\":[8,20]}}", 20, "b: shape [4294967296, 4294967296, 4294967296] has too many"},
    {"{" A_OK ",\"b\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,3],\"data_offsets\":[8,20]}}",
     20, "b: shape has more than 8 dims"},
    {"{" A_OK "," A_OK "}", 8, "a: the name appears twice"},
    {"{" A_OK ",\"b\":{\"dtype\":\"F33\",\"shape\":[3],\"data_offsets\":[8,20]}}", 20,
     "b: unknown dtype \"F33\""},
    {"{" A_OK ",\"b\":{\"dtype\":\"F32\",\"shape\":[3]}}", 20, "b: no data_offsets"},
    {"{" A_OK ",\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[8,20],\"x\":1}}", 20,
     "b: unknown field"},
    {"{" A_OK ",\"b\":{\"dtype\":\"F32\",\"shape\":[-3],\"data_offsets\":[8,20]}}", 20,
     "expected a non-negative integer"},
    {"{" A_OK ",\"b\":{\"dtype\":\"F32\",\"shape\":[3.0],\"data_offsets\":[8,20]}}", 20,
     "not a fraction"},
    {"{" A_OK ",\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[8,99999999999999999999]}}",
     20, "does not fit in 64 bits"},
    {"{\"__metadata__\":{\"x\":1}," A_OK "}", 8, "metadata x: the value is not a string"},
    {"{\"__metadata__\":{\"x\":\"1\",\"x\":\"2\"}," A_OK "}", 8,
     "metadata x: the key appears twice"},
    {"{\"__metadata__\":{},\"__metadata__\":{}," A_OK "}", 8, "__metadata__ appears twice"},
    {"[1,2]", 0, "header is not a JSON object"},
    {"{" A_OK "} x", 8, "text after the JSON object"},
    {"{" A_OK, 8, "expected '}'"},
    {"{\"a\\u0000\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "NUL byte"},
    {"{\"a\\ud800\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "surrogate"},
    {"{" A_OK ", \"b", 8, "unterminated string"},
    {"", 0, "header is not a JSON object"},
#undef A_OK
};

Test(ckpt, malformed_headers_are_refused_with_the_reason) {
    struct tn_tensor *a = tn_zeros(TN_CPU, 1, (int64_t[]){2});
    struct tn_tensor *b = tn_zeros(TN_CPU, 1, (int64_t[]){3});
    struct nn_ckpt *c = nn_ckpt_new();
    nn_ckpt_add_tensor(c, "a", a);
    nn_ckpt_add_tensor(c, "b", b);
    for (size_t i = 0; i < sizeof bad_headers / sizeof *bad_headers; i++) {
        write_raw(in_dir("bad.safetensors"), bad_headers[i].header, bad_headers[i].data);
        cr_log_info("case %zu: %s", i, bad_headers[i].why);
        assert_error(nn_ckpt_load(c, in_dir("bad.safetensors")), TN_ERR_INVALID,
                     bad_headers[i].why);
    }
    /* a header length larger than the file */
    unsigned char big[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'};
    write_all(in_dir("big.safetensors"), big, sizeof big);
    assert_error(nn_ckpt_load(c, in_dir("big.safetensors")), TN_ERR_INVALID,
                 "header length 18446744073709551615 exceeds the 8 bytes after it");
    assert_error(nn_ckpt_load(c, in_dir("none.safetensors")), TN_ERR_IO, "cannot open");
    assert_error(nn_ckpt_load(c, dir), TN_ERR_IO, "not a regular file");
    nn_ckpt_free(c);
}

/* ---- atomic writes ---- */

static int count_tmp_files(void) {
    DIR *d = opendir(dir);
    cr_assert(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

/* The list {w: [64]} filled with value. */
static struct nn_ckpt *filled(float value, struct tn_tensor **w) {
    *w = tn_full(TN_CPU, 1, (int64_t[]){64}, value);
    struct nn_ckpt *c = nn_ckpt_new();
    nn_ckpt_add_tensor(c, "w", *w);
    return c;
}

Test(ckpt, save_replaces_the_file_and_leaves_no_temporary) {
    struct tn_tensor *w;
    struct nn_ckpt *c = filled(1.0f, &w);
    cr_assert_eq(nn_ckpt_save(c, in_dir("w.safetensors")), TN_OK);
    tn_write_host(w, (float[64]){[0] = 2.0f});
    cr_assert_eq(nn_ckpt_save(c, in_dir("w.safetensors")), TN_OK);
    cr_assert_eq(count_tmp_files(), 0);
    tn_write_host(w, (float[64]){0});
    cr_assert_eq(nn_ckpt_load(c, in_dir("w.safetensors")), TN_OK);
    cr_assert_eq(tn_data(w)[0], 2.0f);
    nn_ckpt_free(c);
}

/* Saves 1s, then asserts that a failing save of 2s returned TN_ERR_IO and left the 1s. */
static void check_failed_save_keeps_old(const char *name, enum tn_status got, const char *needle) {
    assert_error(got, TN_ERR_IO, needle);
    struct tn_tensor *w;
    struct nn_ckpt *c = filled(0.0f, &w);
    cr_assert_eq(nn_ckpt_load(c, in_dir(name)), TN_OK, "%s", tn_last_error());
    cr_assert_eq(tn_data(w)[63], 1.0f, "the old file is intact");
    nn_ckpt_free(c);
}

Test(ckpt, failed_write_midway_keeps_the_old_file_and_removes_the_temporary) {
    struct tn_tensor *w;
    struct nn_ckpt *c = filled(1.0f, &w);
    cr_assert_eq(nn_ckpt_save(c, in_dir("w.safetensors")), TN_OK);
    tn_write_host(w, (float[64]){[63] = 2.0f});
    struct rlimit old, small;
    cr_assert_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 100; /* the header fits, the data does not: the write fails midway */
    signal(SIGXFSZ, SIG_IGN);
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    enum tn_status st = nn_ckpt_save(c, in_dir("w.safetensors"));
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, SIG_DFL);
    check_failed_save_keeps_old("w.safetensors", st, "writing");
    cr_assert_eq(count_tmp_files(), 0, "the half-written temporary is removed");
    nn_ckpt_free(c);
}

Test(ckpt, save_into_an_unwritable_place_keeps_the_old_file) {
    struct tn_tensor *w;
    struct nn_ckpt *c = filled(1.0f, &w);
    cr_assert_eq(nn_ckpt_save(c, in_dir("w.safetensors")), TN_OK);
    tn_write_host(w, (float[64]){[63] = 2.0f});
    /* the temporary's name is taken (by a directory): the save must not touch either */
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", in_dir("w.safetensors"), (long)getpid());
    cr_assert_eq(mkdir(tmp, 0700), 0);
    check_failed_save_keeps_old("w.safetensors", nn_ckpt_save(c, in_dir("w.safetensors")),
                                "creating");
    rmdir(tmp);
    /* a directory without write permission (root ignores permissions, so not when root) */
    if (geteuid() != 0) {
        cr_assert_eq(chmod(dir, 0500), 0);
        enum tn_status st = nn_ckpt_save(c, in_dir("w.safetensors"));
        chmod(dir, 0700);
        check_failed_save_keeps_old("w.safetensors", st, "Permission denied");
    } else {
        cr_log_info("running as root: the read-only directory case is not checked");
    }
    assert_error(nn_ckpt_save(c, in_dir("missing/w.safetensors")), TN_ERR_IO,
                 "No such file or directory");
    cr_assert_eq(count_tmp_files(), 0);
    nn_ckpt_free(c);
}

/* ---- integrity: non-regular files, the data checksum ---- */

Test(ckpt, a_fifo_is_refused_without_blocking, .timeout = 20) {
    cr_assert_eq(mkfifo(in_dir("fifo.safetensors"), 0600), 0, "mkfifo: %s", strerror(errno));
    struct target *t = target_new(4);
    assert_error(nn_ckpt_load(t->c, in_dir("fifo.safetensors")), TN_ERR_IO,
                 "fifo.safetensors: not a regular file (a FIFO)");
    assert_error(nn_ckpt_load(t->c, dir), TN_ERR_IO, "not a regular file (a folder)");
    target_free(t);
}

Test(ckpt, a_flipped_data_byte_is_refused_as_corrupt_leaving_the_model_untouched) {
    save_model("full.safetensors", 4, NN_OPTIM_RMSPROP);
    size_t size;
    unsigned char *bytes = read_all(in_dir("full.safetensors"), &size);
    struct target *t = target_new(4);
    float before[12], after[12]; /* mlp.l1.weight [3, 4] */
    tn_to_host(t->m->children[0]->params[0].tensor, before);
    for (size_t at = size - 1; at > size - 40; at -= 13) {
        bytes[at] ^= 0x10;
        write_all(in_dir("bad.safetensors"), bytes, size);
        assert_error(nn_ckpt_load(t->c, in_dir("bad.safetensors")), TN_ERR_INVALID,
                     "data checksum mismatch: the file is corrupt");
        bytes[at] ^= 0x10;
    }
    tn_to_host(t->m->children[0]->params[0].tensor, after);
    cr_assert(memcmp(before, after, sizeof before) == 0, "a refused file changed the model");
    cr_assert_eq(nn_ckpt_load(t->c, in_dir("full.safetensors")), TN_OK, "%s", tn_last_error());
    free(bytes);
    target_free(t);
}

Test(ckpt, a_checkpoint_without_a_checksum_loads) {
    /* as written before checksums: no data.crc32c in the metadata */
    const char *header = "{\"__metadata__\":{\"k\":\"v\"},"
                         "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    write_raw(in_dir("old.safetensors"), header, 8);
    struct nn_ckpt *c = nn_ckpt_new();
    struct tn_tensor *a = tn_full(TN_CPU, 1, (int64_t[]){2}, 5.0f);
    nn_ckpt_add_tensor(c, "a", a);
    cr_assert_eq(nn_ckpt_load(c, in_dir("old.safetensors")), TN_OK, "%s", tn_last_error());
    cr_assert(tn_data(a)[0] == 0.0f && tn_data(a)[1] == 0.0f);
    nn_ckpt_free(c);
}

Test(ckpt, the_first_non_finite_parameter_or_buffer_is_named) {
    struct nn_module *m = mlp_new(1, 4);
    struct nn_optim *o = mlp_optim(m, NN_OPTIM_RMSPROP);
    struct tn_rng r = tn_rng_new(1);
    int64_t step = 0;
    struct nn_ckpt *c = run_ckpt(m, o, &r, &step);
    char name[4 * NN_NAME_MAX] = "";
    cr_assert_not(nn_module_find_nonfinite(m, "mlp", name, sizeof name), "found %s", name);
    cr_assert_null(nn_ckpt_first_nonfinite(c));
    /* an infinity in a buffer, then a NaN in an earlier parameter */
    tn_write_host(m->children[0]->buffers[0].tensor, (float[3]){0.0f, INFINITY, 1.0f});
    cr_assert(nn_module_find_nonfinite(m, "mlp", name, sizeof name));
    cr_assert_str_eq(name, "mlp.l1.running_mean");
    cr_assert_str_eq(nn_ckpt_first_nonfinite(c), "mlp.l1.running_mean");
    float bias[4] = {0.0f, 0.0f, 0.0f, NAN};
    tn_write_host(m->children[0]->params[1].tensor, bias);
    cr_assert(nn_module_find_nonfinite(m, "", name, sizeof name));
    cr_assert_str_eq(name, "l1.bias");
    cr_assert_str_eq(nn_ckpt_first_nonfinite(c), "mlp.l1.bias");
    /* optimizer state counts too: the list names it after the model's tensors */
    tn_write_host(m->children[0]->params[1].tensor, (float[4]){0});
    tn_write_host(m->children[0]->buffers[0].tensor, (float[3]){0});
    tn_write_host(o->params[0].state[0], (float[12]){[5] = -INFINITY});
    cr_assert_not(nn_module_find_nonfinite(m, "mlp", name, sizeof name), "found %s", name);
    cr_assert_str_eq(nn_ckpt_first_nonfinite(c), "optim.main.l1.weight.square_avg");
    nn_ckpt_free(c);
    nn_optim_free(o);
    nn_module_free(m);
}

/* ---- the fuzz corpus ---- */

/* The fixed model of fuzz/fuzz_checkpoint.c (keep the two in step). */
struct fuzz_model {
    struct tn_tensor *t[4];
    struct tn_rng rng;
    int64_t step;
    struct nn_ckpt *c;
};

static void fuzz_model_init(struct fuzz_model *f) {
    static const char *const names[4] = {"enc.weight", "enc.bias", "scale", "empty"};
    static const int ndims[4] = {2, 1, 0, 2};
    static const int64_t shapes[4][2] = {{2, 3}, {3}, {0}, {0, 2}};
    f->c = nn_ckpt_new();
    for (int i = 0; i < 4; i++) {
        f->t[i] = tn_zeros(TN_CPU, ndims[i], shapes[i]);
        nn_ckpt_add_tensor(f->c, names[i], f->t[i]);
    }
    nn_ckpt_add_rng(f->c, "rng", &f->rng);
    nn_ckpt_add_i64(f->c, "step", &f->step);
    nn_ckpt_add_check(f->c, "optim.kind", "rmsprop");
}

static const char *corpus_dir(void) {
    static char path[512];
    const char *slash = strrchr(__FILE__, '/');
    snprintf(path, sizeof path, "%.*s/../fuzz/corpus/checkpoint",
             slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
    return path;
}

Test(ckpt, every_fuzz_corpus_file_replays_as_its_name_says) {
    struct fuzz_model f;
    fuzz_model_init(&f);
    DIR *d = opendir(corpus_dir());
    cr_assert(d, "no corpus at %s", corpus_dir());
    int n = 0, valid = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", corpus_dir(), e->d_name);
        size_t size;
        unsigned char *bytes = read_all(path, &size);
        enum tn_status from_memory = nn_ckpt_load_memory(f.c, bytes, size);
        nn_ckpt_allow_extra(f.c, true);
        nn_ckpt_load_memory(f.c, bytes, size);
        nn_ckpt_allow_extra(f.c, false);
        enum tn_status from_file = nn_ckpt_load(f.c, path);
        free(bytes);
        cr_assert_eq(from_memory, from_file, "%s: memory and file loads disagree", e->d_name);
        if (strncmp(e->d_name, "valid_", 6) == 0) {
            cr_assert_eq(from_file, TN_OK, "%s: %s", e->d_name, tn_last_error());
            valid++;
        } else if (strncmp(e->d_name, "invalid_", 8) == 0) {
            cr_assert_neq(from_file, TN_OK, "%s was accepted", e->d_name);
        }
        n++;
    }
    closedir(d);
    cr_assert_geq(n, 10, "only %d corpus files in %s", n, corpus_dir());
    cr_assert_geq(valid, 1);
    nn_ckpt_free(f.c);
}
