/* idx.c - the IDX reader of data/idx.h, through zlib's gzread (which also reads plain files). */
#include "idx.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* Reads exactly n bytes or reports how many were missing. */
static enum tn_status read_exact(gzFile f, const char *path, void *buf, int64_t n, const char *what) {
    uint8_t *p = buf;
    while (n > 0) {
        unsigned chunk = n > (1 << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(f, p, chunk);
        if (got < 0) {
            int code;
            const char *msg = gzerror(f, &code);
            return tn_error(TN_ERR_IO, "%s: cannot read %s: %s", path, what, msg);
        }
        if (got == 0) return tn_error(TN_ERR_INVALID, "%s: truncated (file ends inside the %s)", path, what);
        p += got;
        n -= got;
    }
    return TN_OK;
}

enum tn_status gw_idx_load(const char *path, struct gw_idx *out) {
    memset(out, 0, sizeof *out);
    gzFile f = gzopen(path, "rb");
    if (!f) return tn_error(TN_ERR_IO, "%s: cannot open", path);
    uint8_t magic[4];
    enum tn_status st = read_exact(f, path, magic, 4, "header");
    if (st == TN_OK && (magic[0] != 0 || magic[1] != 0))
        st = tn_error(TN_ERR_INVALID, "%s: not an IDX file (bad magic number)", path);
    if (st == TN_OK && magic[2] != 0x08)
        st = tn_error(TN_ERR_INVALID, "%s: IDX type 0x%02x, only unsigned bytes (0x08) are supported",
                      path, magic[2]);
    if (st == TN_OK && (magic[3] < 1 || magic[3] > GW_IDX_MAX_DIMS))
        st = tn_error(TN_ERR_INVALID, "%s: %d dims, 1 to %d supported", path, magic[3], GW_IDX_MAX_DIMS);
    int64_t count = 1;
    for (int d = 0; st == TN_OK && d < magic[3]; d++) {
        uint8_t b[4];
        st = read_exact(f, path, b, 4, "dims");
        if (st != TN_OK) break;
        int64_t dim = ((int64_t)b[0] << 24) | ((int64_t)b[1] << 16) | ((int64_t)b[2] << 8) | b[3];
        if (dim <= 0 || dim > (1 << 28) || count > ((int64_t)1 << 34) / dim)
            st = tn_error(TN_ERR_INVALID, "%s: implausible size %lld in dim %d", path, (long long)dim, d);
        out->dims[d] = dim;
        count *= dim;
    }
    if (st == TN_OK) {
        out->ndim = magic[3];
        out->count = count;
        out->data = malloc((size_t)count);
        if (!out->data) st = tn_error(TN_ERR_OOM, "%s: no memory for %lld bytes", path, (long long)count);
    }
    if (st == TN_OK) st = read_exact(f, path, out->data, count, "values");
    if (st == TN_OK) {
        uint8_t extra;
        if (gzread(f, &extra, 1) > 0)
            st = tn_error(TN_ERR_INVALID, "%s: more bytes than its dims announce", path);
    }
    gzclose(f);
    if (st != TN_OK) gw_idx_free(out);
    return st;
}

void gw_idx_free(struct gw_idx *idx) {
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
