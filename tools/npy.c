/* npy.c - the .npy and CSV writers of npy.h.
 *
 * Each file is built in memory first and then written in one go through nn_write_file_atomic,
 * so a failed write leaves the old file (if any) in place and no temporary file behind.
 */
#define _POSIX_C_SOURCE 200809L

#include "npy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_file.h"

enum tn_status npy_write(const char *path, int64_t rows, int64_t cols, const float *data) {
    if (rows < 0 || cols < 0) return tn_error(TN_ERR_INVALID, "%s: negative shape", path);
    char dict[128];
    int dict_len = snprintf(dict, sizeof dict,
                            "{'descr': '<f4', 'fortran_order': False, 'shape': (%" PRId64
                            ", %" PRId64 "), }",
                            rows, cols);
    /* magic (6) + version (2) + header length (2) + dict padded with spaces and a final
     * newline to a multiple of 64 bytes, so that the data starts aligned */
    size_t header = 10 + (size_t)dict_len + 1;
    header = (header + 63) / 64 * 64;
    size_t count = (size_t)rows * (size_t)cols;
    size_t total = header + count * 4;
    uint8_t *buf = malloc(total);
    if (!buf) return tn_error(TN_ERR_OOM, "%s: out of host memory for %zu bytes", path, total);
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    size_t text_len = header - 10;
    buf[8] = (uint8_t)(text_len & 0xff);
    buf[9] = (uint8_t)(text_len >> 8);
    memcpy(buf + 10, dict, (size_t)dict_len);
    memset(buf + 10 + dict_len, ' ', text_len - (size_t)dict_len - 1);
    buf[header - 1] = '\n';
    uint8_t *p = buf + header;
    for (size_t i = 0; i < count; i++, p += 4) {
        uint32_t bits;
        memcpy(&bits, &data[i], 4);
        p[0] = (uint8_t)bits;
        p[1] = (uint8_t)(bits >> 8);
        p[2] = (uint8_t)(bits >> 16);
        p[3] = (uint8_t)(bits >> 24);
    }
    enum tn_status st = nn_write_file_atomic(path, buf, total);
    free(buf);
    return st;
}

/* Writes one CSV field, quoted (RFC 4180) when it holds a comma, quote or line break. */
static void put_field(FILE *f, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

enum tn_status csv_write(const char *path, int64_t rows, int64_t cols,
                            const char *const *names, const float *data) {
    if (rows < 0 || cols < 1) return tn_error(TN_ERR_INVALID, "%s: bad shape", path);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return tn_error(TN_ERR_OOM, "%s: out of host memory", path);
    for (int64_t c = 0; c < cols; c++) {
        if (c) fputc(',', f);
        put_field(f, names[c]);
    }
    fputc('\n', f);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t c = 0; c < cols; c++)
            fprintf(f, c ? ",%.9g" : "%.9g", (double)data[r * cols + c]);
        fputc('\n', f);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        free(buf);
        return tn_error(TN_ERR_OOM, "%s: out of host memory", path);
    }
    enum tn_status st = nn_write_file_atomic(path, buf, len);
    free(buf);
    return st;
}
