/* fuzz_json.c - libFuzzer target for the JSON reader of config.json and metrics.json: the
 * flat-object parser json_flat_parse (tools/json.c) over the string reader of nn/nn_json.c.
 *
 * The parser is what reads every file; what the tool does with the values (the configuration
 * reader above it) is checked by its own tests. The parser must return true or false with a
 * reason for any input: a crash, a sanitizer report or a leak is a bug. Seeds:
 * fuzz/corpus/json/ (tests/test_readers.c replays them). Build with fuzz/CMakeLists.txt.
 */
#include <stddef.h>
#include <stdint.h>

#include "json.h"

/* The libFuzzer entry point: one input, never a crash. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    struct json_flat o;
    char why[256];
    json_flat_parse((const char *)data, size, &o, why, sizeof why);
    json_flat_free(&o);
    return 0;
}
