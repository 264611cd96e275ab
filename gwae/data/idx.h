/* idx.h - reading IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or not.
 *
 * An IDX file is a 4-byte magic (two zero bytes, a type code, the number of dims), the dims
 * as big-endian 32-bit integers, then the values. Only unsigned bytes (type 0x08) are read,
 * which is what the MNIST family uses. Only a regular file is opened (a FIFO or a device is
 * refused at once), and the header may claim no more than the file can hold: a plain file
 * exactly its size after the header, a gzip file at most GW_IDX_GZIP_RATIO bytes per byte.
 * The values are read into a buffer that grows with the data that arrives, so a file that
 * still holds less than it claims fails at the end of its data, having taken no more memory
 * than that data, never a read past the end.
 */
#ifndef GW_IDX_H
#define GW_IDX_H

#include <stdint.h>

#include "tensor/tn_error.h"

#define GW_IDX_MAX_DIMS 4
#define GW_IDX_GZIP_RATIO 1032 /* deflate's largest expansion: 258 bytes from 2 bits */

struct gw_idx {
    int ndim;
    int64_t dims[GW_IDX_MAX_DIMS]; /* e.g. [60000, 28, 28] for images, [60000] for labels */
    int64_t count;                 /* product of dims */
    uint8_t *data;                 /* count bytes, row-major */
};

/* Reads the header of an IDX file only: ndim, dims and count, data NULL (nothing to free),
 * checked against what the file can hold, as gw_idx_load checks it. */
enum tn_status gw_idx_read_header(const char *path, struct gw_idx *out);

/* Reads an IDX file of unsigned bytes (a .gz is decompressed on the fly); a header claiming
 * more than max_bytes of values is refused before any is read (0: no limit but the file's). */
enum tn_status gw_idx_load(const char *path, uint64_t max_bytes, struct gw_idx *out);

/* gw_idx_load from an open file descriptor, which it takes over and closes; name is for
 * messages (what the fuzz target calls, with the bytes in a memory file). */
enum tn_status gw_idx_load_fd(int fd, const char *name, uint64_t max_bytes, struct gw_idx *out);

/* Frees the data of an IDX file. */
void gw_idx_free(struct gw_idx *idx);

#endif
