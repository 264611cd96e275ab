/* nn_file.h - opening files for reading safely, and writing files atomically.
 *
 * Every reader (checkpoints, datasets, JSON) opens its file through nn_open_regular, which
 * refuses anything but a regular file without ever blocking: opening a FIFO for reading
 * waits for a writer, and a device may never answer. Writes go to a temporary file beside the
 * target, filled, synced, then renamed over it: a crash or a failed write leaves the old file
 * (if any) whole and no temporary behind. Checkpoints, figures, logs and arrays are all
 * written this way.
 */
#ifndef NN_FILE_H
#define NN_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tensor/tn_error.h"

/* Opens path read-only if it is a regular file, never blocking (O_NONBLOCK, then fstat): a
 * FIFO, socket, device or folder is refused. On success *fd, in blocking mode, and its *size.
 * Otherwise TN_ERR_IO with errno set (EINVAL for a file that is not regular, EISDIR for a
 * folder) and one line: "<label> <path>: cannot open: <reason>" or "<label> <path>: not a
 * regular file (a FIFO)", the path quoted by tn_quote and "<label> " left out when label is "". */
enum tn_status nn_open_regular(const char *path, const char *label, int *fd, uint64_t *size);

/* Writes n bytes to fd, retrying short writes; false with errno set on failure. */
bool nn_write_all(int fd, const void *data, size_t n);

/* Writes path atomically: fill(fd, ctx) writes the contents into "<path>.tmp.<pid>" and
 * returns false with errno set on failure. Errors are TN_ERR_IO with a message that starts
 * with label (e.g. "checkpoint") and names the failed step. */
enum tn_status nn_write_atomic(const char *path, const char *label,
                               bool (*fill)(int fd, void *ctx), void *ctx);

/* Sets a function that nn_write_atomic calls with the temporary file's path once it is
 * written and synced, just before the rename (NULL: none). For crash tests only. */
void nn_set_write_hook(void (*hook)(const char *tmp_path));

/* Writes len bytes of data to path atomically (nn_write_atomic with label "file"). */
enum tn_status nn_write_file_atomic(const char *path, const void *data, size_t len);

#endif
