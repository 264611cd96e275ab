/* idx.h - reading IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or not.
 *
 * An IDX file is a 4-byte magic (two zero bytes, a type code, the number of dims), the dims
 * as big-endian 32-bit integers, then the values. Only unsigned bytes (type 0x08) are read,
 * which is what the MNIST family uses. Every size is checked against the data actually
 * present, so a truncated or corrupt file gives an error, never a read past the end.
 */
#ifndef GW_IDX_H
#define GW_IDX_H

#include <stdint.h>

#include "tensor/tn_error.h"

#define GW_IDX_MAX_DIMS 4

struct gw_idx {
    int ndim;
    int64_t dims[GW_IDX_MAX_DIMS]; /* e.g. [60000, 28, 28] for images, [60000] for labels */
    int64_t count;                 /* product of dims */
    uint8_t *data;                 /* count bytes, row-major */
};

/* Reads an IDX file of unsigned bytes (a .gz is decompressed on the fly). */
enum tn_status gw_idx_load(const char *path, struct gw_idx *out);

/* Frees the data of an IDX file. */
void gw_idx_free(struct gw_idx *idx);

#endif
