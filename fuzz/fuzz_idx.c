/* fuzz_idx.c - libFuzzer target for the IDX reader (gwae/data/idx.c), gzip or plain.
 *
 * Each input is taken as the bytes of an IDX file, put in a memory file (memfd) and read with
 * gw_idx_load_fd, so that the zlib stream, the header checks, the bound of what the file can
 * hold and the growing values buffer all run as on a real file. The reader must return a
 * status for any input: a crash, a sanitizer report or a leak is a bug. Seeds:
 * fuzz/corpus/idx/ (tests/test_readers.c replays them). Build with fuzz/CMakeLists.txt.
 */
#define _GNU_SOURCE /* memfd_create */

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gwae/data/idx.h"

/* The libFuzzer entry point: one input, never a crash. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int file = -1;
    if (file < 0) file = memfd_create("fuzz_idx", 0);
    if (file < 0 || ftruncate(file, 0) != 0) return 0;
    if (size && pwrite(file, data, size, 0) != (ssize_t)size) return 0;
    if (lseek(file, 0, SEEK_SET) != 0) return 0;
    int fd = dup(file); /* gw_idx_load_fd closes what it is given */
    if (fd < 0) return 0;
    struct gw_idx idx;
    if (gw_idx_load_fd(fd, "<memory>", (uint64_t)1 << 24, &idx) == TN_OK) gw_idx_free(&idx);
    return 0;
}
