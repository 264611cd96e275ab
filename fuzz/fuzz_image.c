/* fuzz_image.c - libFuzzer target for the image reader (gwae/data/image_folder.c and
 * png_read.c): PNG through libpng, JPEG through libjpeg-turbo, then the crop and the resize.
 *
 * Each input is taken as the bytes of an image file, opened as a memory stream (fmemopen) and
 * decoded by gw_image_decode to 8 x 8, with a pixel limit of 2^20 instead of the real 2^26 so
 * that a forged header cannot make each run allocate hundreds of megabytes (the limit's check
 * is the same code either way). The reader must return a status for any input: a crash, a
 * sanitizer report or a leak is a bug. Seeds: fuzz/corpus/image/ (tests/test_readers.c
 * replays them). Build with fuzz/CMakeLists.txt.
 */
#define _POSIX_C_SOURCE 200809L /* fmemopen */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gwae/data/dataset.h"

/* The libFuzzer entry point: one input, never a crash. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0; /* fmemopen refuses an empty buffer */
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f) return 0;
    uint8_t out[3 * 8 * 8];
    gw_image_decode(f, "<memory>", 8, (uint64_t)1 << 20, out);
    fclose(f);
    return 0;
}
