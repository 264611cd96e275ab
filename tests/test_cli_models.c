/* test_cli_models.c - the model family in the tool: `gwae models` lists the registries; every
 * model trains, evaluates and samples from the command line; unknown models, priors a model
 * does not take and options of other models are refused in one line; FactorVAE (an adversary
 * with its own optimizer) resumes bit for bit; a run directory written before the model
 * registry (tests/fixtures/run_before_models) still loads, evaluates and resumes; the
 * relational autoencoders train, evaluate, sample, benchmark and resume (warm start); GMG on
 * beta-vae, the DST baseline and the decoder-free model train and evaluate; the Symmetric WAE
 * caps its pseudo-inputs at the training images and eval measures k-NN accuracy.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers/cli_support.h"
#include "tensor/tn_cuda.h"

/* one timeout for the suite: a test's own .timeout beside the suite's makes Criterion 2.4 leak
 * 48 bytes under --jobs 2, which LeakSanitizer reports */
TestSuite(cli, .init = cli_setup, .fini = cli_teardown, .timeout = 240);

static const char *const models[] = {"gwae", "ae", "vae", "beta-vae", "beta-tcvae", "factorvae",
                                     "wae-mmd"};

Test(cli, models_lists_every_model_and_prior_from_the_registries) {
    cr_assert_eq(run("models"), 0, "%s", err_text);
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char line[64];
        snprintf(line, sizeof line, "  %s ", models[i]);
        cr_assert(strstr(out_text, line), "gwae models lacks %s: %s", models[i], out_text);
    }
    cr_assert(strstr(out_text, "priors:") && strstr(out_text, "  gmp "), "%s", out_text);
    cr_assert_eq(run("models --options"), 0, "%s", err_text);
    cr_assert(strstr(out_text, "--beta X") && strstr(out_text, "--components K"), "%s", out_text);
}

/* every model trains 20 steps and evaluates from the tool, naming itself in metrics.json */
Test(cli, every_model_trains_and_evaluates) {
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "run-%s", models[i]);
        int rc = run("train " TINY " --model %s --steps 20 --out %s", models[i], at(name));
        cr_assert_eq(rc, 0, "train --model %s: %s", models[i], err_text);
        rc = run("eval %s --skip-fid --skip-figures --pairs 20 --gw-batches 1", at(name));
        cr_assert_eq(rc, 0, "eval of %s: %s", models[i], err_text);
        char want[96], metrics[PATH_MAX];
        snprintf(metrics, sizeof metrics, "%s/metrics.json", at(name));
        snprintf(want, sizeof want, "\"model\": \"%s\"", models[i]);
        assert_contains(metrics, want);
        assert_contains(metrics, "\"test_psnr_mean\": ");
        assert_contains(metrics, "\"dci_disentanglement\": ");
        assert_contains(metrics, "\"skipped_fid\": \"--skip-fid\"");
        assert_contains(metrics, "\"test_loss\": ");
        cr_assert_eq(run("sample %s --n 4 --out %s/s.png", at(name), at(name)), 0, "sample %s: %s",
                     models[i], err_text);
    }
}

Test(cli, unknown_models_and_options_of_other_models_are_one_line_and_exit_2) {
    assert_refused(run("train --model vqvae --out %s", at("r")), 2, "unknown model 'vqvae'",
                   "unknown model");
    assert_refused(run("train --model vae --beta 4 --out %s", at("r")), 2,
                   "--beta is an option of beta-vae, beta-tcvae", "another model's option");
    assert_refused(run("train --model vae --prior np --out %s", at("r")), 2,
                   "does not take the prior 'np'", "a prior the model does not take");
    assert_refused(run("train --components 4 --out %s", at("r")), 2, "the gmp prior",
                   "a prior option of another prior");
    assert_refused(run("bench --model vqvae"), 2, "unknown model 'vqvae'", "bench unknown model");
    struct stat st;
    cr_assert_neq(stat(at("r"), &st), 0, "a refused run left a directory behind");
}

/* FactorVAE has an adversary (its discriminator, with its own Adam and the codes of the
 * main step): a resumed run continues exactly as a straight one */
Test(cli, a_resumed_factorvae_run_continues_exactly_as_a_straight_one) {
    train_tiny("straight", 11, "--model factorvae --log-every 1");
    train_tiny("resumed", 5, "--model factorvae --log-every 1");
    cr_assert_eq(run("train --resume %s --steps 11", at("resumed")), 0, "resume: %s", err_text);
    char a[4096], b[4096];
    for (int step = 6; step <= 11; step++) {
        step_line(at("straight/log.jsonl"), step, a, sizeof a);
        step_line(at("resumed/log.jsonl"), step, b, sizeof b);
        cr_assert_str_eq(a, b, "step %d differs after a resume", step);
    }
    cr_assert(strstr(a, "\"loss_disc\": "), "the discriminator's loss is not logged: %s", a);
}

/* a run written before the model registry (tests/fixtures/run_before_models: no "model" key,
 * the GMP options recorded for the np prior, the old fingerprint) loads, evaluates, samples
 * and resumes */
Test(cli, a_run_from_before_the_model_registry_still_loads_and_resumes) {
    char cmd[2 * PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "cp -r %s/fixtures/run_before_models %s", TEST_SOURCE_DIR, at("old"));
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    cr_assert_eq(run("eval %s --skip-fid --skip-figures --pairs 20 --gw-batches 1", at("old")), 0,
                 "eval: %s", err_text);
    assert_contains(at("old/metrics.json"), "\"model\": \"gwae\"");
    cr_assert_eq(run("sample %s --n 4 --out %s", at("old"), at("old.png")), 0, "sample: %s", err_text);
    cr_assert_eq(run("train --resume %s --steps 5", at("old")), 0, "resume: %s", err_text);
    assert_contains(at("old/log.jsonl"), "{\"event\": \"resume\", \"step\": 3, \"epoch\": 0}");
}

/* every relational autoencoder trains 20 tiny steps with finite terms and evaluates; the
 * spherical variant with a warm start (a buffer in its checkpoints) resumes exactly; the
 * tool samples from one and benchmarks another */
Test(cli, each_relational_autoencoder_trains_evaluates_and_resumes) {
    const char *models[] = {"rae-sfg", "rae-ssfg", "rae-mssfg", "rae-pssfg", "rae-max-sfg"};
    const char *options[] = {"", "--projections 10 --search-steps 3",
                             "--projections 10 --search-steps 3 --mixture 3",
                             "--projections 10 --search-steps 3", "--search-steps 3"};
    for (int i = 0; i < 5; i++) {
        char extra[128], path[PATH_MAX];
        snprintf(extra, sizeof extra, "--model %s --latent 4 %s", models[i], options[i]);
        train_tiny(models[i], 20, extra);
        static char log[1 << 16];
        snprintf(path, sizeof path, "%s/log.jsonl", at(models[i]));
        slurp(path, log, sizeof log);
        cr_assert(strstr(log, "\"loss_sfg\": ") && !strstr(log, "null"),
                  "%s: %s", models[i], log);
        cr_assert_eq(run("eval %s --skip-fid --skip-figures --pairs 20", at(models[i])), 0,
                     "eval of %s: %s", models[i], err_text);
        cr_assert(strstr(out_text, "\"test_loss_sfg\": "), "%s: %s", models[i], out_text);
    }
    cr_assert_eq(run("sample %s --n 4 --out %s", at("rae-pssfg"), at("s.png")), 0, "%s", err_text);
    assert_png(at("s.png"));
    const char *warm = "--model rae-ssfg --latent 4 --projections 8 --search-steps 2 --warm-start "
                       "--log-every 1";
    train_tiny("straight", 11, warm);
    train_tiny("resumed", 5, warm);
    cr_assert_eq(run("train --resume %s --steps 11", at("resumed")), 0, "resume: %s", err_text);
    char a[4096], b[4096];
    step_line(at("straight/log.jsonl"), 11, a, sizeof a);
    step_line(at("resumed/log.jsonl"), 11, b, sizeof b);
    cr_assert_str_eq(a, b, "rae-ssfg with a warm start differs after a resume");
    cr_assert_eq(run("bench --model rae-mssfg --config small --iters 1 --threads 1"), 0, "%s",
                 err_text);
    cr_assert(strstr(out_text, "rae-mssfg"), "bench printed: %s", out_text);
}

/* The Gromov-Monge gap on beta-vae (the decoder map, and DST alone on the encoder map) and the
 * decoder-free gmg-encoder: 20 steps each, their terms logged, and eval measures them. */
Test(cli, gmg_regularised_and_decoder_free_models_train_and_evaluate) {
    const char *runs[3][2] = {{"bvae-gmg", "--model beta-vae --gmg 1"},
                              {"bvae-dst", "--model beta-vae --gmg 1 --gmg-dst-only --gmg-map "
                                           "encoder --gmg-cost sqeuclidean"},
                              {"encoder", "--model gmg-encoder --gmg-value primal"}};
    for (int i = 0; i < 3; i++) {
        train_tiny(runs[i][0], 20, runs[i][1]);
        char log[64], metrics[64];
        snprintf(log, sizeof log, "%s/log.jsonl", runs[i][0]);
        snprintf(metrics, sizeof metrics, "%s/metrics.json", runs[i][0]);
        assert_contains(at(log), "\"loss_gmg\": ");
        assert_contains(at(log), "\"gmg_dst\": ");
        int rc = run("eval %s --pairs 100 --gw-batches 1 --skip-fid", at(runs[i][0]));
        cr_assert_eq(rc, 0, "eval %s: %s", runs[i][0], err_text);
        const char *keys[] = {"test_loss_gmg", "test_psnr_mean", "dci_disentanglement",
                              "skipped_knn"};
        assert_keys(at(metrics), keys, sizeof keys / sizeof keys[0]);
    }
    assert_contains(at("bvae-gmg/log.jsonl"), "\"gmg_gw\": ");
    assert_contains(at("bvae-gmg/config.json"), "\"gmg_map\": \"decoder\"");
    assert_contains(at("encoder/log.jsonl"), "\"loss_rec\": "); /* the probe decoder */
    assert_refused(run("train " TINY " --model beta-vae --gmg-cost l1 --out %s", at("bad")), 2,
                   "gmg-cost", "an unknown GMG cost");
}

/* swae on labelled data: K capped at the training images in config.json, 20 steps, eval with
 * the k-NN accuracies, a resume, samples from its pseudo-input prior. */
Test(cli, swae_trains_caps_its_pseudo_inputs_and_eval_measures_knn) {
    char data[PATH_MAX];
    write_fake_fashion(data);
    int rc = run("train --model swae --data %s --image-size 32 --batch 8 --width 0.125 --steps 20 "
                 "--out %s", data, at("run"));
    cr_assert_eq(rc, 0, "train: %s", err_text);
    assert_contains(at("run/config.json"), "\"prior\": \"pseudo-inputs\"");
    assert_contains(at("run/config.json"), "\"pseudo_inputs\": 90"); /* 100 minus validation */
    assert_contains(at("run/log.jsonl"), "\"loss_z\": ");
    rc = run("eval %s --limit 20 --pairs 100 --skip-gw --skip-fid", at("run"));
    cr_assert_eq(rc, 0, "eval: %s", err_text);
    const char *keys[] = {"knn_acc_1", "knn_acc_3", "knn_acc_5", "knn_acc_10", "test_loss_x"};
    assert_keys(at("run/metrics.json"), keys, sizeof keys / sizeof keys[0]);
    assert_contains(at("run/metrics.json"), "\"knn_test_images\": 20");
    cr_assert_eq(run("train --resume %s --steps 22", at("run")), 0, "resume: %s", err_text);
    cr_assert_eq(run("sample %s --n 4 --out %s", at("run"), at("s.png")), 0, "sample: %s",
                 err_text);
    assert_png(at("s.png"));
}
