/* idx.c - the IDX reader of data/idx.h, through zlib's gzread (which also reads plain files).
 * Sizes are unsigned 64-bit and each product is checked before it is formed; the bound on
 * what the file can hold is checked before anything is allocated. */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include "idx.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "nn/nn_file.h"

#define FIRST_PIECE ((uint64_t)1 << 20) /* the values buffer starts here and doubles */

/* An open IDX file: the zlib stream, the quoted name for messages, the file's size and
 * whether it is gzip-compressed. */
struct reader {
    gzFile f;
    const char *name;
    uint64_t file_size;
    bool gzip;
};

/* Reads exactly n bytes (n < 2^30) or says where the file ended. */
static enum tn_status read_exact(const struct reader *r, void *buf, unsigned n, const char *what) {
    uint8_t *p = buf;
    while (n > 0) {
        int got = gzread(r->f, p, n);
        if (got < 0) {
            int code;
            return tn_error(TN_ERR_INVALID, "%s: cannot read the %s: %s", r->name, what,
                            gzerror(r->f, &code));
        }
        if (got == 0)
            return tn_error(TN_ERR_INVALID, "%s: truncated (the file ends inside the %s)",
                            r->name, what);
        p += got;
        n -= (unsigned)got;
    }
    return TN_OK;
}

/* Reads and checks the magic and the dims into out (data NULL). */
static enum tn_status read_header(const struct reader *r, uint64_t max_bytes, struct gw_idx *out) {
    uint8_t magic[4];
    enum tn_status st = read_exact(r, magic, 4, "header");
    if (st != TN_OK) return st;
    if (magic[0] != 0 || magic[1] != 0)
        return tn_error(TN_ERR_INVALID, "%s: not an IDX file (bad magic number)", r->name);
    if (magic[2] != 0x08)
        return tn_error(TN_ERR_INVALID, "%s: IDX type 0x%02x, only unsigned bytes (0x08) are "
                        "supported", r->name, magic[2]);
    if (magic[3] < 1 || magic[3] > GW_IDX_MAX_DIMS)
        return tn_error(TN_ERR_INVALID, "%s: %d dims, 1 to %d supported", r->name, magic[3],
                        GW_IDX_MAX_DIMS);
    uint64_t count = 1;
    for (int d = 0; d < magic[3]; d++) {
        uint8_t b[4];
        if ((st = read_exact(r, b, 4, "dims")) != TN_OK) return st;
        uint64_t dim = (uint64_t)b[0] << 24 | (uint64_t)b[1] << 16 | (uint64_t)b[2] << 8 | b[3];
        if (dim == 0) return tn_error(TN_ERR_INVALID, "%s: dim %d is 0", r->name, d);
        if (count > UINT64_MAX / dim)
            return tn_error(TN_ERR_INVALID, "%s: dim %d (%" PRIu64 ") makes the size overflow",
                            r->name, d, dim);
        out->dims[d] = (int64_t)dim;
        count *= dim;
    }
    out->ndim = magic[3];
    uint64_t header = 4 + 4 * (uint64_t)magic[3];
    uint64_t room = r->file_size - header;
    if (r->gzip && count / GW_IDX_GZIP_RATIO > r->file_size)
        return tn_error(TN_ERR_INVALID, "%s: the dims announce %" PRIu64 " bytes of values, "
                        "more than a gzip file of %" PRIu64 " bytes can hold (at most %d per "
                        "byte)", r->name, count, r->file_size, GW_IDX_GZIP_RATIO);
    if (!r->gzip && count > room)
        return tn_error(TN_ERR_INVALID, "%s: truncated: the dims announce %" PRIu64 " bytes of "
                        "values but the file holds %" PRIu64 " after its header", r->name, count,
                        room);
    if (!r->gzip && count < room)
        return tn_error(TN_ERR_INVALID, "%s: more bytes than its dims announce (%" PRIu64
                        " after the header, %" PRIu64 " announced)", r->name, room, count);
    if (max_bytes && count > max_bytes)
        return tn_error(TN_ERR_INVALID, "%s: the dims announce %" PRIu64 " bytes of values, "
                        "over the %" PRIu64 " allowed", r->name, count, max_bytes);
    out->count = (int64_t)count;
    return TN_OK;
}

/* Reads the out->count values into a buffer that grows as they arrive, then checks that
 * nothing follows them. */
static enum tn_status read_values(const struct reader *r, struct gw_idx *out) {
    uint64_t want = (uint64_t)out->count, have = 0, cap = 0;
    while (have < want) {
        if (have == cap) {
            uint64_t next = cap ? 2 * cap : FIRST_PIECE;
            if (next > want) next = want;
            uint8_t *grown = realloc(out->data, (size_t)next);
            if (!grown)
                return tn_error(TN_ERR_OOM, "%s: out of host memory for %" PRIu64 " bytes",
                                r->name, next);
            out->data = grown;
            cap = next;
        }
        uint64_t chunk = cap - have < (1u << 30) ? cap - have : (1u << 30);
        enum tn_status st = read_exact(r, out->data + have, (unsigned)chunk, "values");
        if (st != TN_OK) return st;
        have += chunk;
    }
    uint8_t extra;
    if (gzread(r->f, &extra, 1) > 0)
        return tn_error(TN_ERR_INVALID, "%s: more bytes than its dims announce", r->name);
    return TN_OK;
}

/* Reads the file open on fd (taken over): the header, and the values when with_values. */
static enum tn_status load(int fd, const char *name, uint64_t max_bytes, bool with_values,
                           struct gw_idx *out) {
    memset(out, 0, sizeof *out);
    struct reader r = {.name = name};
    uint8_t magic[2];
    struct stat info;
    if (fstat(fd, &info) != 0 || pread(fd, magic, 2, 0) < 0) {
        close(fd);
        return tn_error(TN_ERR_IO, "%s: cannot read", name);
    }
    r.file_size = (uint64_t)info.st_size;
    r.gzip = r.file_size >= 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    r.f = gzdopen(fd, "rb");
    if (!r.f) {
        close(fd);
        return tn_error(TN_ERR_OOM, "%s: out of host memory", name);
    }
    enum tn_status st = read_header(&r, max_bytes, out);
    if (st == TN_OK && with_values) st = read_values(&r, out);
    gzclose(r.f);
    if (st != TN_OK) gw_idx_free(out);
    return st;
}

/* Opens path (a regular file only) and reads it. */
static enum tn_status load_path(const char *path, uint64_t max_bytes, bool with_values,
                                struct gw_idx *out) {
    memset(out, 0, sizeof *out);
    char shown[TN_QUOTE_SIZE];
    int fd;
    uint64_t size;
    enum tn_status st = nn_open_regular(path, "", &fd, &size);
    if (st != TN_OK) return st;
    return load(fd, tn_quote(path, shown, sizeof shown), max_bytes, with_values, out);
}

enum tn_status gw_idx_read_header(const char *path, struct gw_idx *out) {
    return load_path(path, 0, false, out);
}

enum tn_status gw_idx_load(const char *path, uint64_t max_bytes, struct gw_idx *out) {
    return load_path(path, max_bytes, true, out);
}

enum tn_status gw_idx_load_fd(int fd, const char *name, uint64_t max_bytes, struct gw_idx *out) {
    return load(fd, name, max_bytes, true, out);
}

void gw_idx_free(struct gw_idx *idx) {
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
