/* test_cli.c - the gwae program (tools/) run as a user runs it: every command's --help; each
 * bad input (missing or corrupt dataset files, an image size the networks cannot take, an
 * unknown prior or dataset, a non-numeric or out-of-range value, an unwritable run directory,
 * a run directory that already holds a run, a checkpoint of another configuration, a resume
 * that would change the model) gives exit code 1 or 2 with exactly one line on stderr and
 * leaves every file already in the run directory byte for byte as it was; a tiny training run
 * writes every promised file and eval, sample, reconstruct and encode work on it; a resumed
 * run continues exactly where a straight run would be; a non-finite loss stops the run and
 * keeps a loadable checkpoint; bench --json prints its fields; --device cuda is refused in
 * one line without a usable GPU, and trains and benchmarks on one (skipped without);
 * --holdout-classes keeps its classes out and eval reports them as out-of-distribution; eval
 * writes every measurement and figure it promises, reuses the run's classifier, and refuses
 * bad options without touching the run; beta-vae --gmg, gmg-encoder and swae train and
 * evaluate (k-NN accuracy on labelled data, swae's pseudo-inputs capped at the training images).
 *
 * The binary is found next to this test's executable (both are built into the build folder).
 * Runs use the generated shapes dataset at 32x32 with a width-0.125 network, so each trains
 * in about a second; every test gets its own temporary directory.
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

TestSuite(cli, .init = cli_setup, .fini = cli_teardown, .timeout = 120);

/* ---- the command line ---- */

Test(cli, help_of_every_command_exits_0_with_its_usage) {
    const char *cmds[] = {"train", "eval", "sample", "reconstruct", "encode", "bench", "classifier",
                          "models"};
    cr_assert_eq(run("--help"), 0);
    cr_assert(strstr(out_text, "usage: gwae <command>"));
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        cr_assert_eq(run("%s --help", cmds[i]), 0, "%s --help: %s", cmds[i], err_text);
        char want[64];
        snprintf(want, sizeof want, "usage: gwae %s", cmds[i]);
        cr_assert(strstr(out_text, want), "%s --help prints no usage line: %s", cmds[i], out_text);
        cr_assert_eq(err_text[0], '\0', "%s --help wrote to stderr: %s", cmds[i], err_text);
    }
}

Test(cli, unknown_command_or_option_is_one_line_and_exit_2) {
    assert_refused(run("frobnicate"), 2, "unknown command 'frobnicate'", "unknown command");
    assert_refused(run("%s", ""), 2, "a command is required", "no command");
    assert_refused(run("train --frob 3 --out x"), 2, "unknown option '--frob'", "unknown option");
    assert_refused(run("train --out x --batch"), 2, "--batch needs a value", "missing value");
    assert_refused(run("sample"), 2, "RUN_DIR is required", "missing run dir");
    assert_refused(run("encode a b"), 2, "unexpected argument 'b'", "extra argument");
    assert_refused(run("bench --iters 0"), 2, "--iters: 0 is out of range", "bench range");
    assert_refused(run("train"), 2, "--out DIR", "no run directory");
}

/* ---- bad input: one line, non-zero, nothing in the run directory changed ---- */


/* makes tmp/run holding one file of the user's and snapshots it */
static void user_run_dir(char *run_dir, size_t size, struct snapshot *before) {
    snprintf(run_dir, size, "%s", at("run"));
    mkdir(run_dir, 0755);
    write_file(at("run/notes.txt"), "mine\n");
    snap(run_dir, before);
}

Test(cli, bad_data_options_and_values_leave_the_run_directory_alone) {
    char run_dir[PATH_MAX];
    struct snapshot before;
    user_run_dir(run_dir, sizeof run_dir, &before);
    /* missing dataset folder */
    assert_refused(run("train --out %s --data %s", run_dir, at("no-such-dir")), 1, "cannot open",
                   "missing dataset");
    assert_unchanged(run_dir, &before, "missing dataset");
    /* corrupt files: garbage, and an IDX header announcing more images than the file holds */
    mkdir(at("bad"), 0755);
    const char *names[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                           "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    char path[PATH_MAX];
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", at("bad"), names[i]);
        write_gz(path, (const unsigned char *)"not an idx file at all", 22);
    }
    assert_refused(run("train --out %s --data %s", run_dir, at("bad")), 1, "not an IDX file",
                   "corrupt dataset");
    assert_unchanged(run_dir, &before, "corrupt dataset");
    const unsigned char truncated[16 + 10] = {0, 0, 8, 3, 0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28};
    snprintf(path, sizeof path, "%s/%s", at("bad"), names[0]);
    write_gz(path, truncated, sizeof truncated);
    assert_refused(run("train --out %s --data %s", run_dir, at("bad")), 1, "train-images-idx3-ubyte.gz",
                   "truncated dataset");
    assert_unchanged(run_dir, &before, "truncated dataset");
    /* values the model or the parser refuses */
    assert_refused(run("train --out %s --image-size 48", run_dir), 2, "image size 48", "image size");
    assert_refused(run("train --out %s --prior lognormal", run_dir), 2, "unknown prior 'lognormal'",
                   "unknown prior");
    assert_refused(run("train --out %s --dataset cifar", run_dir), 2, "unknown value 'cifar'",
                   "unknown dataset");
    assert_refused(run("train --out %s --batch abc", run_dir), 2, "--batch: 'abc' is not an integer",
                   "non-numeric batch");
    assert_refused(run("train --out %s --lr 1e-3x", run_dir), 2, "is not a number", "non-numeric lr");
    assert_refused(run("train --out %s --latent 0", run_dir), 2, "--latent: 0 is out of range",
                   "latent 0");
    assert_refused(run("train --out %s --batch 99999999999", run_dir), 2, "out of range", "huge batch");
    if (!tn_cuda_available())
        assert_refused(run("train --out %s --device cuda", run_dir), 2, "no CUDA device", "cuda");
    assert_unchanged(run_dir, &before, "bad values");
    snap_free(&before);
}

Test(cli, an_unwritable_run_directory_is_refused_before_any_work) {
    assert_refused(run("train " TINY " --out /proc/forbidden/run"), 1, "/proc/forbidden",
                   "run dir under /proc");
    write_file(at("plain-file"), "x");
    assert_refused(run("train " TINY " --out %s", at("plain-file")), 1, "not a directory",
                   "run dir is a file");
    assert_refused(run("train " TINY " --out %s/sub", at("plain-file")), 1, "cannot create",
                   "run dir below a file");
}

Test(cli, a_finished_run_is_never_overwritten_or_resumed_into_another_model) {
    train_tiny("run", 2, "");
    train_tiny("other", 1, "--latent 8");
    char run_dir[PATH_MAX], other[PATH_MAX];
    snprintf(run_dir, sizeof run_dir, "%s", at("run"));
    snprintf(other, sizeof other, "%s", at("other"));
    struct snapshot before;
    snap(run_dir, &before);
    assert_refused(run("train " TINY " --steps 2 --out %s", run_dir), 1, "already holds a run",
                   "new run over a run");
    assert_unchanged(run_dir, &before, "new run over a run");
    assert_refused(run("train --resume %s --latent 8", run_dir), 2, "--latent 8 conflicts", "resume --latent");
    assert_refused(run("train --resume %s --batch x", run_dir), 2, "not an integer", "resume --batch x");
    assert_refused(run("train --resume %s --image-size 64", run_dir), 2, "conflicts", "resume --image-size");
    assert_unchanged(run_dir, &before, "resume with other settings");
    snap_free(&before);

    /* a checkpoint of another configuration copied in */
    char cmd[3 * PATH_MAX];
    snprintf(cmd, sizeof cmd, "cp %s %s", at("other/checkpoint_last.safetensors"),
             at("run/checkpoint_last.safetensors"));
    cr_assert_eq(system(cmd), 0);
    snap(run_dir, &before);
    assert_refused(run("train --resume %s --steps 4", run_dir), 1, "another configuration: latent is 8",
                   "foreign checkpoint");
    assert_unchanged(run_dir, &before, "foreign checkpoint");
    snap_free(&before);

    /* config.json edited to another model; then a truncated checkpoint */
    snprintf(cmd, sizeof cmd, "sed -i 's/\"latent\": 16/\"latent\": 12/' %s", at("run/config.json"));
    cr_assert_eq(system(cmd), 0);
    snap(run_dir, &before);
    assert_refused(run("train --resume %s --steps 4", run_dir), 1, "another configuration", "edited config");
    assert_refused(run("eval %s", run_dir), 1, "another configuration", "eval of edited config");
    assert_unchanged(run_dir, &before, "edited config");
    snap_free(&before);
    snprintf(cmd, sizeof cmd, "head -c 300 %s > %s", at("other/checkpoint_best.safetensors"),
             at("other/checkpoint_last.safetensors"));
    cr_assert_eq(system(cmd), 0);
    snap(other, &before);
    assert_refused(run("train --resume %s --steps 4", other), 1, "checkpoint", "truncated checkpoint");
    assert_unchanged(other, &before, "truncated checkpoint");
    write_file(at("other/config.json"), "{\"latent\": \"many\"}");
    snap_free(&before);
    snap(other, &before);
    assert_refused(run("train --resume %s", other), 1, "config.json", "corrupt config.json");
    assert_unchanged(other, &before, "corrupt config.json");
    snap_free(&before);
}

/* ---- a run and the commands that use it ---- */



Test(cli, a_tiny_run_writes_every_file_and_every_command_uses_it) {
    train_tiny("run", 2, "--log-every 1");
    const char *files[] = {"config.json", "log.jsonl", "checkpoint_last.safetensors",
                           "checkpoint_best.safetensors", "metrics.json"};
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", at("run"), files[i]);
        cr_assert(exists(path), "%s is missing", path);
    }
    assert_png(at("run/reconstructions.png"));
    assert_png(at("run/samples.png"));
    assert_contains(at("run/config.json"), "\"latent\": 16");
    assert_contains(at("run/log.jsonl"), "{\"event\": \"step\", \"step\": 2, \"epoch\": 1, \"loss\": ");
    assert_contains(at("run/log.jsonl"), "\"loss_gw\": ");
    assert_contains(at("run/log.jsonl"), "\"step_time_s\": ");
    assert_contains(at("run/metrics.json"), "\"test_psnr_mean\": ");
    assert_contains(at("run/metrics.json"), "\"test_psnr_stderr\": ");
    assert_contains(at("run/metrics.json"), "\"final_loss_gw\": ");
    assert_contains(at("run/metrics.json"), "\"steps\": 2");
    assert_contains(at("run/metrics.json"), "\"wall_time_s\": ");

    cr_assert_eq(run("eval %s", at("run")), 0, "eval: %s", err_text);
    cr_assert(strstr(out_text, "\"test_psnr_mean\""), "eval printed: %s", out_text);
    assert_contains(at("run/metrics.json"), "\"checkpoint\": \"best\"");
    assert_contains(at("run/metrics.json"), "\"final_loss_gw\": "); /* kept by the merge */

    cr_assert_eq(run("sample %s --n 6 --cols 3 --out %s", at("run"), at("s.png")), 0, "%s", err_text);
    assert_png(at("s.png"));
    cr_assert_eq(run("reconstruct %s --n 4 --checkpoint last --out %s", at("run"), at("r.png")), 0,
                 "%s", err_text);
    assert_png(at("r.png"));

    cr_assert_eq(run("encode %s --split test --out %s", at("run"), at("z.csv")), 0, "%s", err_text);
    static char csv[1 << 16];
    slurp(at("z.csv"), csv, sizeof csv);
    cr_assert(strncmp(csv, "z0,z1,", 6) == 0 && strstr(csv, ",z15,floor_hue,"), "csv header: %.200s", csv);
    int lines = 0;
    for (char *c = csv; *c; c++) lines += *c == '\n';
    cr_assert_eq(lines, 1 + 16, "16 test scenes and a header expected, got %d lines", lines);
    cr_assert_eq(run("encode %s --split valid --out %s", at("run"), at("z.npy")), 0, "%s", err_text);
    slurp(at("z.npy"), csv, sizeof csv);
    cr_assert(memcmp(csv, "\x93NUMPY", 6) == 0 && strstr(csv + 10, "(16, 16)"), "latents .npy: %s",
              csv + 10);
    slurp(at("z.factors.npy"), csv, sizeof csv);
    cr_assert(memcmp(csv, "\x93NUMPY", 6) == 0 && strstr(csv + 10, "(16, 6)"), "factors .npy: %s",
              csv + 10);
    assert_refused(run("encode %s --out %s", at("run"), at("z.txt")), 2, ".npy or .csv", "encode .txt");
}


Test(cli, a_resumed_run_continues_exactly_as_a_straight_one) {
    train_tiny("straight", 11, "--log-every 1");
    train_tiny("resumed", 5, "--log-every 1");
    cr_assert_eq(run("train --resume %s --steps 11", at("resumed")), 0, "resume: %s", err_text);
    assert_contains(at("resumed/log.jsonl"), "{\"event\": \"resume\", \"step\": 5, \"epoch\": 0}");
    assert_contains(at("resumed/config.json"), "\"steps\": 11");
    char a[4096], b[4096];
    for (int step = 6; step <= 11; step += 5) {
        step_line(at("straight/log.jsonl"), step, a, sizeof a);
        step_line(at("resumed/log.jsonl"), step, b, sizeof b);
        cr_assert_str_eq(a, b, "step %d differs after a resume", step);
    }
}

Test(cli, a_non_finite_loss_stops_the_run_and_keeps_the_last_good_checkpoint) {
    int rc = run("train " TINY " --steps 30 --lr 10 --lr-critic 10 --c-init 1e6 --out %s", at("run"));
    cr_assert_eq(rc, 1, "exit code %d: %s", rc, err_text);
    const char *last = strrchr(err_text, '\n');
    cr_assert(last && strstr(err_text, "is not finite") && strstr(err_text, "stopping") &&
                  strstr(err_text, "checkpoint_last.safetensors"), "message: %s", err_text);
    cr_assert(strstr(err_text, "gwae train: step "), "the message names the step: %s", err_text);
    cr_assert_eq(run("sample %s --checkpoint last --n 4 --out %s", at("run"), at("s.png")), 0,
                 "the last good checkpoint does not load: %s", err_text);
}

Test(cli, bench_json_prints_one_object_per_configuration) {
    cr_assert_eq(run("bench --config small --iters 1 --json --threads 1"), 0, "%s", err_text);
    const char *fields[] = {"\"model\": \"gwae\"", "\"config\": \"small\"", "\"image_size\": 32",
                            "\"batch\": 64", "\"latent\": 16", "\"prior\": \"np\"",
                            "\"threads\": 1", "\"device\": \"cpu\"", "\"ms_per_iter_median\": ",
                            "\"ms_main_step\": ", "\"ms_adversary_steps\": "};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        cr_assert(strstr(out_text, fields[i]), "bench --json lacks %s: %s", fields[i], out_text);
    cr_assert_eq(strchr(out_text, '\n'), out_text + strlen(out_text) - 1, "one line expected: %s", out_text);
}

/* ---- --device cuda ---- */

/* Without a usable GPU (a CPU-only build, or no device at run time) both commands refuse
 * --device cuda with one line that says so, before any work. */
Test(cli, device_cuda_without_a_gpu_is_refused_in_one_line) {
    if (tn_cuda_available()) cr_skip_test("a CUDA device is present: nothing to refuse");
    assert_refused(run("bench --device cuda --iters 1"), 2, "--device cuda: no CUDA device",
                   "bench on cuda");
    assert_refused(run("train " TINY " --steps 1 --device cuda --out %s", at("gpu-run")), 2,
                   "--device cuda: no CUDA device", "train on cuda");
    struct stat st;
    cr_assert_neq(stat(at("gpu-run"), &st), 0, "a refused run left a directory behind");
    train_tiny("run", 2, "");
    struct snapshot before;
    snap(at("run"), &before);
    const char *uses[] = {"eval %s --device cuda", "sample %s --device cuda",
                          "reconstruct %s --device cuda", "encode %s --device cuda --out z.npy",
                          "classifier %s --device cuda"};
    for (size_t i = 0; i < sizeof uses / sizeof uses[0]; i++) {
        char args[PATH_MAX + 128];
        snprintf(args, sizeof args, uses[i], at("run"));
        assert_refused(run("%s", args), 2, "--device cuda: no CUDA device", uses[i]);
    }
    assert_unchanged(at("run"), &before, "commands refused on cuda");
    snap_free(&before);
}

/* With a GPU: a short training run on it, then every command that uses a model, on it too. */
Test(cli, train_bench_and_every_command_run_on_cuda) {
    if (!tn_cuda_available()) cr_skip_test("no CUDA device: %s", tn_cuda_unavailable_reason());
    cr_assert_eq(run("train " TINY " --steps 3 --device cuda --out %s", at("gpu-run")), 0,
                 "train on cuda: %s", err_text);
    cr_assert_eq(run("bench --device cuda --config small --iters 1"), 0, "bench on cuda: %s",
                 err_text);
    const char *uses[] = {"eval %s --device cuda --pairs 20 --gw-batches 1",
                          "sample %s --device cuda", "reconstruct %s --device cuda",
                          "encode %s --device cuda --out z.npy", "classifier %s --device cuda"};
    for (size_t i = 0; i < sizeof uses / sizeof uses[0]; i++) {
        char args[PATH_MAX + 128];
        snprintf(args, sizeof args, uses[i], at("gpu-run"));
        cr_assert_eq(run("%s", args), 0, "%s: %s", uses[i], err_text);
    }
}

/* ---- held-out classes and the evaluation ---- */

Test(cli, bad_holdout_lists_are_one_line_exit_2_and_change_nothing) {
    char run_dir[PATH_MAX];
    struct snapshot before;
    user_run_dir(run_dir, sizeof run_dir, &before);
    assert_refused(run("train --out %s --holdout-classes 3,3", run_dir), 2, "listed twice", "dup");
    assert_refused(run("train --out %s --holdout-classes 12", run_dir), 2, "out of range", "12");
    assert_refused(run("train --out %s --holdout-classes x", run_dir), 2, "comma-separated", "x");
    assert_refused(run("train --out %s --holdout-classes 0,1,2,3,4,5,6,7,8", run_dir), 2,
                   "fewer than 2", "all but one");
    assert_refused(run("train " TINY " --out %s --holdout-classes 1", run_dir), 2,
                   "labelled dataset", "shapes");
    assert_unchanged(run_dir, &before, "bad holdout lists");
    snap_free(&before);
}


Test(cli, eval_of_a_shapes_run_writes_every_measurement_and_figure) {
    train_tiny("run", 16, "--log-every 4"); /* 8 batches per epoch: two epoch lines */
    assert_contains(at("run/log.jsonl"), "\"event\": \"epoch\", \"epoch\": 2,");
    assert_contains(at("run/log.jsonl"), "\"gw_estimate\": ");
    assert_contains(at("run/log.jsonl"), "\"gw_solver\": ");
    assert_contains(at("run/log.jsonl"), "\"gw_solver_square\": ");
    assert_contains(at("run/log.jsonl"), "\"gw_solver_encoded\": ");
    int rc = run("eval %s --pairs 300 --gw-batches 2 --classifier-epochs 1", at("run"));
    cr_assert_eq(rc, 0, "eval: %s", err_text);
    const char *keys[] = {"test_psnr_mean", "test_loss_gw", "gw_estimate_mean", "gw_estimate_stderr",
                          "gw_solver_mean", "gw_solver_square_mean", "gw_solver_generated_mean",
                          "gw_solver_encoded_mean",
                          "isometry_correlation", "dci_disentanglement", "dci_completeness",
                          "dci_informativeness", "dci_max_depth", "fd_prior", "fd_reconstruction",
                          "fd_train_test", "fd_classifier_accuracy", "eval_time_s"};
    assert_keys(at("run/metrics.json"), keys, sizeof keys / sizeof keys[0]);
    assert_contains(at("run/metrics.json"), "\"fd_classifier_trained_now\": true");
    assert_contains(at("run/metrics.json"), "\"dci_scatter_factor\": \"object_hue\"");
    cr_assert(!strstr(out_text, "ood_"), "a shapes run has no OOD set: %s", out_text);
    const char *pngs[] = {"traversals.png", "reconstructions.png", "samples.png", "loss_curves.png",
                          "gw_curve.png", "isometry.png", "dci_scatter.png"};
    for (size_t i = 0; i < sizeof pngs / sizeof pngs[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "run/%s", pngs[i]);
        assert_png(at(name));
    }
    cr_assert(exists(at("run/classifier.safetensors")));
    rc = run("eval %s --skip-gw --skip-isometry --skip-dci --skip-figures", at("run"));
    cr_assert_eq(rc, 0, "second eval: %s", err_text);
    cr_assert(strstr(out_text, "\"fd_classifier_trained_now\": false"), "classifier not reused: %s",
              out_text);
    cr_assert(!strstr(out_text, "gw_solver") && !strstr(out_text, "dci_"), "skipped parts ran");
    cr_assert_eq(run("classifier %s --epochs 1 --limit 32", at("run")), 0, "%s", err_text);
    cr_assert(strstr(out_text, "\"classifier_test_accuracy\": ") &&
                  strstr(out_text, "\"classifier_train_images\": 32"), "classifier printed %s", out_text);
}

Test(cli, bad_eval_options_are_refused_before_any_work) {
    train_tiny("run", 2, "");
    char run_dir[PATH_MAX];
    snprintf(run_dir, sizeof run_dir, "%s", at("run"));
    struct snapshot before;
    snap(run_dir, &before);
    assert_refused(run("eval %s --isometry cubic", run_dir), 2, "unknown value 'cubic'", "isometry");
    assert_refused(run("eval %s --ood-score latent", run_dir), 2, "--ood-score latent: the model gwae "
                   "has the scores: decoded, data", "ood");
    assert_refused(run("eval %s --pairs 1", run_dir), 2, "--pairs: 1 is out of range", "pairs");
    assert_refused(run("eval %s --gw-batches abc", run_dir), 2, "not an integer", "gw-batches");
    assert_refused(run("eval %s --skip-fid=maybe", run_dir), 2, "--skip-fid", "bool value");
    assert_refused(run("eval %s", at("nothing-here")), 1, "config.json", "missing run");
    assert_unchanged(run_dir, &before, "bad eval options");
    snap_free(&before);
}

Test(cli, a_fashion_run_with_held_out_classes_gets_both_ood_sets) {
    char data[PATH_MAX];
    write_fake_fashion(data);
    int rc = run("train --data %s --holdout-classes 5,7,9 --batch 8 --width 0.125 --steps 2 "
                 "--out %s", data, at("run"));
    cr_assert_eq(rc, 0, "train: %s", err_text);
    assert_contains(at("run/config.json"), "\"holdout_classes\": \"5,7,9\"");
    rc = run("eval %s --limit 12 --skip-gw --skip-isometry --skip-fid --ood-score data", at("run"));
    cr_assert_eq(rc, 0, "eval: %s", err_text);
    const char *keys[] = {"ood_heldout_auc", "ood_shapes_auc"};
    assert_keys(at("run/metrics.json"), keys, sizeof keys / sizeof keys[0]);
    assert_contains(at("run/metrics.json"), "\"ood_in_distribution_images\": 12");
    assert_contains(at("run/metrics.json"), "\"ood_heldout_images\": 12");
    assert_contains(at("run/metrics.json"), "\"test_images\": 12");
    assert_contains(at("run/metrics.json"), "\"ood_score\": \"data\"");
    assert_png(at("run/roc.png"));
}

/* A run written before --holdout-classes, --warmup-steps and --sn-iterations existed (so
 * trained without warm-up and with one power iteration) still evaluates and resumes, and a
 * run that used a warm-up is not taken for one of those. */
Test(cli, a_run_from_before_holdout_classes_still_evaluates) {
    train_tiny("run", 2, "--warmup-steps 0");
    char cmd[PATH_MAX + 96];
    snprintf(cmd, sizeof cmd, "sed -i '/holdout_classes/d;/warmup_steps/d;/sn_iterations/d' %s",
             at("run/config.json"));
    cr_assert_eq(system(cmd), 0);
    int rc = run("eval %s --skip-fid --skip-figures --pairs 20", at("run"));
    cr_assert_eq(rc, 0, "eval of an older run: %s", err_text);
    cr_assert_eq(run("train --resume %s --steps 3", at("run")), 0, "resume of an older run: %s",
                 err_text);
    train_tiny("warm", 2, "--warmup-steps 5");
    snprintf(cmd, sizeof cmd, "sed -i '/warmup_steps/d' %s", at("warm/config.json"));
    cr_assert_eq(system(cmd), 0);
    assert_refused(run("eval %s --skip-fid --skip-figures --pairs 20", at("warm")), 1,
                   "warmup-steps", "a warm-up run read as an old one");
}
