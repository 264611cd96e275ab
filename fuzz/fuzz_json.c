/* fuzz_json.c - libFuzzer target for the JSON readers of config.json and metrics.json: the
 * flat-object parser nn_json_flat_parse over the strict pull reader (both nn/nn_json.c),
 * then the configuration reader on top of it (settings_load_text: the model and prior
 * registries' rows, the strict number parses, the legacy keys, the checks).
 *
 * Both must return true or false with a reason for any input: a crash, a sanitizer report or
 * a leak is a bug. Seeds: fuzz/corpus/json/ (tests/test_readers.c replays them), with real
 * config.json files of several models. Build with fuzz/CMakeLists.txt.
 */
#include <stddef.h>
#include <stdint.h>

#include "nn/nn_json.h"
#include "settings.h"

/* The libFuzzer entry point: one input, never a crash. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct nn_json_flat o;
    char why[256];
    nn_json_flat_parse((const char *)data, size, &o, why, sizeof why);
    nn_json_flat_free(&o);
    struct tool_settings s;
    settings_defaults(&s);
    settings_load_text((const char *)data, size, &s, why, sizeof why);
    return 0;
}
