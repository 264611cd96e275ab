/* npy.h - files of numbers for other tools: float32 matrices as NumPy .npy (format 1.0,
 * little-endian '<f4', C order) and as CSV with a header line, each written atomically
 * (nn_write_file_atomic: a reader never sees half a file).
 *
 * Only writing: reading .npy back is left to NumPy and to the tests.
 */
#ifndef TOOL_NPY_H
#define TOOL_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "tensor/tn_error.h"

/* Writes data[rows, cols] (row-major float32) as a .npy file of shape (rows, cols). */
enum tn_status npy_write(const char *path, int64_t rows, int64_t cols, const float *data);

/* Writes data[rows, cols] as CSV: a header line of the cols names, then one line per row. */
enum tn_status csv_write(const char *path, int64_t rows, int64_t cols,
                            const char *const *names, const float *data);

#endif
