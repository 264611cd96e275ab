/* fuzz_checkpoint.c - libFuzzer target for the checkpoint reader (nn/nn_checkpoint.c).
 *
 * Each input is taken as the bytes of a checkpoint file and loaded, from memory, into a small
 * fixed model: enc.weight [2,3], enc.bias [3], scale [], empty [0,2], with metadata rng.seed,
 * rng.offset, step and optim.kind = "rmsprop" (tests/test_checkpoint.c replays
 * fuzz/corpus/checkpoint/ against the same model; keep the two in step). Each input is loaded
 * twice, refusing and then skipping unexpected tensors, so both paths run. The reader must return a status for any
 * input: a crash, a sanitizer report or a leak is a bug. Build with fuzz/CMakeLists.txt
 * (clang, -fsanitize=fuzzer,address,undefined); docs/checkpoints.md says how to run it.
 */
#include <stddef.h>
#include <stdint.h>

#include "nn/nn_checkpoint.h"

struct fuzz_model {
    struct tn_rng rng;
    int64_t step;
    struct nn_ckpt *c;
};

static struct fuzz_model model;

/* Builds the model once; the list holds the only references to its tensors, so they live for
 * the whole run, as a training run's would. */
static void model_init(void) {
    static const char *const names[4] = {"enc.weight", "enc.bias", "scale", "empty"};
    static const int ndims[4] = {2, 1, 0, 2};
    static const int64_t shapes[4][2] = {{2, 3}, {3}, {0}, {0, 2}};
    model.c = nn_ckpt_new();
    tn_scope_begin();
    for (int i = 0; i < 4; i++)
        nn_ckpt_add_tensor(model.c, names[i], tn_zeros(TN_CPU, ndims[i], shapes[i]));
    tn_scope_end();
    nn_ckpt_add_rng(model.c, "rng", &model.rng);
    nn_ckpt_add_i64(model.c, "step", &model.step);
    nn_ckpt_add_check(model.c, "optim.kind", "rmsprop");
}

/* The libFuzzer entry point: one input, never a crash. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!model.c) model_init();
    nn_ckpt_allow_extra(model.c, false);
    nn_ckpt_load_memory(model.c, data, size);
    nn_ckpt_allow_extra(model.c, true);
    nn_ckpt_load_memory(model.c, data, size);
    return 0;
}
