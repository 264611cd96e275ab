/* test_cli_crash.c - what a crash, a kill or Ctrl-C leaves, run as a user runs the tool: a
 * training run killed mid-step, mid-save, right after an end-of-epoch save and in the
 * validation after a save at an epoch's last batch (GWAE_FAULT, tools/fault.h) resumes and
 * reaches the same step-20 losses as a straight run; SIGINT saves and says how to go on; --out
 * never overwrites another run's files; nothing is written through a symbolic link; a failed
 * first save leaves no dead end; eval checks its outputs before any work.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers/cli_support.h"
#include "run_dir.h"
#include "settings.h"
#include "tensor/tn_cuda.h"

TestSuite(cli, .init = cli_setup, .fini = cli_teardown, .timeout = 120);

/* runs `GWAE_FAULT=fault gwae <args>` in tmp, which must die by SIGKILL at the fault */
static void run_killed(const char *fault, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void run_killed(const char *fault, const char *fmt, ...) {
    char args[4096], cmd[4 * PATH_MAX + 4096 + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    /* the shell reports a child killed by signal 9 as exit code 128 + 9 */
    snprintf(cmd, sizeof cmd, "cd %s && GWAE_FAULT=%s %s %s >%s 2>%s; echo $? >%s", tmp, fault,
             gwae, args, at(".stdout"), at(".stderr"), at(".rc"));
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    char rc[16];
    slurp(at(".rc"), rc, sizeof rc);
    slurp(at(".stderr"), err_text, sizeof err_text);
    cr_assert_eq(atoi(rc), 128 + 9, "GWAE_FAULT=%s: not killed at the fault (exit %s): %s", fault,
                 rc, err_text);
}

/* a run killed at fault resumes and ends at the same step as a straight run, with the same
 * losses from the step it resumed at (TINY: 8 batches per epoch) */
static void kill_and_resume(const char *fault, const char *extra) {
    train_tiny("straight", 20, extra);
    run_killed(fault, "train " TINY " --steps 20 --out %s %s", at("killed"), extra);
    cr_assert_eq(run("train --resume %s", at("killed")), 0, "%s: resume: %s", fault, err_text);
    assert_contains(at("killed/log.jsonl"), "\"event\": \"end\", \"step\": 20,");
    char a[4096], b[4096];
    step_line(at("straight/log.jsonl"), 20, a, sizeof a);
    step_line(at("killed/log.jsonl"), 20, b, sizeof b);
    cr_assert_str_eq(a, b, "%s: the resumed run's step 20 differs from a straight run's", fault);
    DIR *d = opendir(at("killed"));
    for (struct dirent *e; (e = readdir(d));)
        cr_assert_null(strstr(e->d_name, ".tmp."), "%s: %s left behind", fault, e->d_name);
    closedir(d);
}

Test(cli, a_run_killed_mid_step_resumes_and_finishes) {
    kill_and_resume("step:13", "--checkpoint-every 5 --log-every 1");
}

/* the temporary file of the killed save is removed by the resume */
Test(cli, a_run_killed_mid_save_resumes_and_finishes) {
    kill_and_resume("save:3", "--checkpoint-every 5 --log-every 1");
    cr_assert(strstr(err_text, "removed 1 temporary file left by an interrupted save"), "%s",
              err_text);
}

Test(cli, a_run_killed_right_after_an_end_of_epoch_save_resumes_and_finishes) {
    kill_and_resume("epoch-saved:1", "--log-every 1");
}

/* a --checkpoint-every save at an epoch's last batch records batch 8 of 8; killed in the
 * validation that follows, the run used to be refused for ever on resume */
Test(cli, a_run_killed_in_validation_after_a_save_at_the_last_batch_resumes) {
    kill_and_resume("validate:1", "--checkpoint-every 8 --log-every 1");
}

Test(cli, sigint_saves_a_resumable_checkpoint_and_says_how_to_go_on) {
    char cmd[4 * PATH_MAX + 256];
    snprintf(cmd, sizeof cmd,
             "cd %s && (%s train " TINY " --steps 100000 --epochs 100000 --out %s >%s 2>%s & "
             "pid=$!; for i in $(seq 200); do grep -q '\"step\": 1[0-9]' %s/log.jsonl "
             "2>/dev/null && break; sleep 0.05; done; kill -INT $pid; wait $pid; echo $? >%s)",
             tmp, gwae, at("run"), at(".stdout"), at(".stderr"), at("run"), at(".rc"));
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    char rc[16];
    slurp(at(".rc"), rc, sizeof rc);
    slurp(at(".stderr"), err_text, sizeof err_text);
    cr_assert_eq(atoi(rc), 130, "exit %s after SIGINT: %s", rc, err_text);
    const char *last = strrchr(err_text, '\n');
    while (last && last > err_text && last[-1] != '\n') last--;
    cr_assert(strstr(err_text, "stopped by SIGINT at step") &&
                  strstr(err_text, "gwae train --resume"), "the last line: %s", err_text);
    assert_contains(at("run/log.jsonl"), "\"event\": \"interrupted\"");
    cr_assert_eq(run("train --resume %s --steps 40", at("run")), 0, "resume after SIGINT: %s",
                 err_text);
}

Test(cli, out_refuses_a_directory_with_another_runs_files_and_log_links_are_refused) {
    mkdir(at("leftover"), 0755);
    write_file(at("leftover/checkpoint_last.safetensors"), "not mine");
    assert_refused(run("train " TINY " --out %s", at("leftover")), 1,
                   "holds checkpoint_last.safetensors of another run", "a run's leftovers");
    slurp(at("leftover/checkpoint_last.safetensors"), out_text, sizeof out_text);
    cr_assert_str_eq(out_text, "not mine", "the other run's checkpoint was overwritten");
    train_tiny("run", 2, "");
    cr_assert_eq(symlink(at("elsewhere.txt"), at("link.jsonl")), 0);
    char cmd[2 * PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "mv %s %s", at("link.jsonl"), at("run/log.jsonl"));
    cr_assert_eq(system(cmd), 0);
    assert_refused(run("train --resume %s --steps 4", at("run")), 1, "symbolic link",
                   "log.jsonl as a symbolic link");
    cr_assert(!exists(at("elsewhere.txt")), "a line was written through the link");
}

/* a new run whose first save fails (here: a file size limit, as a full disk) leaves nothing
 * behind, so that the same --out works once there is room */
Test(cli, a_run_whose_first_save_fails_leaves_no_dead_end) {
    char cmd[4 * PATH_MAX + 256];
    snprintf(cmd, sizeof cmd, "cd %s && trap '' XFSZ && ulimit -f 64 && %s train " TINY
             " --steps 2 --out %s >%s 2>%s; echo $? >%s", tmp, gwae, at("run"), at(".stdout"),
             at(".stderr"), at(".rc"));
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    char rc[16];
    slurp(at(".rc"), rc, sizeof rc);
    slurp(at(".stderr"), err_text, sizeof err_text);
    cr_assert_eq(atoi(rc), 1, "exit %s with a 64 KB file limit: %s", rc, err_text);
    struct stat st;
    cr_assert_neq(stat(at("run"), &st), 0, "the failed run left %s behind: %s", at("run"), err_text);
    train_tiny("run", 2, "");
}

Test(cli, eval_refuses_a_run_it_could_not_write_before_any_work) {
    train_tiny("run", 2, "");
    mkdir(at("run/metrics.json.d"), 0755);
    remove(at("run/metrics.json"));
    cr_assert_eq(rename(at("run/metrics.json.d"), at("run/metrics.json")), 0);
    assert_refused(run("eval %s --pairs 20", at("run")), 1, "is not a regular file",
                   "metrics.json a directory");
    cr_assert(!exists(at("run/classifier.safetensors")), "eval trained its classifier first");
}

/* the limit on a dataset's memory is the user's to raise, and refuses before anything */
Test(cli, max_data_memory_refuses_a_dataset_over_it_before_any_work) {
    assert_refused(run("train " TINY " --steps 2 --max-data-memory 0.0001 --out %s", at("run")), 1,
                   "over the limit of 0.0001 GiB for one dataset (raise it with --max-data-memory)",
                   "a dataset over the limit");
    struct stat st;
    cr_assert_neq(stat(at("run"), &st), 0, "a refused run left a directory behind");
    train_tiny("run", 2, "--max-data-memory 1");
    assert_refused(run("eval %s --max-data-memory 0.0001", at("run")), 1, "--max-data-memory",
                   "eval over the limit");
}

/* a checkpoint whose weights hold a NaN (with a valid checksum: written by the tool's own
 * writer) is refused by every command that uses a model, naming the tensor */
Test(cli, a_model_with_non_finite_weights_is_refused_naming_the_tensor) {
    train_tiny("run", 2, "");
    struct tool_settings s;
    char err[PATH_MAX + 512], path[PATH_MAX + 64];
    settings_defaults(&s);
    cr_assert(settings_load_run(at("run"), &s, err, sizeof err), "%s", err);
    struct tn_rng rng = tn_rng_new(s.seed);
    struct gw_model *m;
    tn_scope_begin();
    cr_assert_eq(gw_model_new(&s.model, s.model_options, s.prior_options, &rng, &m), TN_OK);
    struct run_state st = {.rng = rng};
    struct nn_ckpt *c = run_ckpt_full(&s, m, &st);
    snprintf(path, sizeof path, "%s/checkpoint_last.safetensors", at("run"));
    cr_assert_eq(run_ckpt_load(c, &s, &st, path), TN_OK, "%s", tn_last_error());
    struct tn_tensor *w = nn_module_find(&m->base, "decoder.0.bias");
    float *v = calloc((size_t)w->numel, sizeof *v);
    tn_to_host(w, v);
    v[3] = NAN;
    tn_write_host(w, v);
    free(v);
    cr_assert_eq(run_ckpt_save(c, &st, path), TN_OK, "%s", tn_last_error());
    snprintf(path, sizeof path, "%s/checkpoint_best.safetensors", at("run"));
    cr_assert_eq(run_ckpt_save(c, &st, path), TN_OK, "%s", tn_last_error());
    nn_ckpt_free(c);
    gw_model_free(m);
    tn_scope_end();
    const char *uses[] = {"eval %s", "sample %s", "reconstruct %s", "encode %s --out z.npy"};
    for (size_t i = 0; i < sizeof uses / sizeof uses[0]; i++) {
        char args[PATH_MAX + 64];
        snprintf(args, sizeof args, uses[i], at("run"));
        assert_refused(run("%s", args), 1, "decoder.0.bias holds a non-finite value", uses[i]);
    }
}
