/* png_write.h - PNG figures out: 8-bit RGB images and grids of image tensors
 * (reconstructions.png, samples.png), written atomically. Reading PNG is the data library's
 * (gw_png_read in gwae/data/dataset.h).
 */
#ifndef TOOL_PNG_WRITE_H
#define TOOL_PNG_WRITE_H

#include <stdint.h>

#include "tensor/tn_tensor.h"

/* Writes rgb[height, width, 3] (interleaved bytes) as an 8-bit RGB PNG, atomically. */
enum tn_status png_write(const char *path, int width, int height, const uint8_t *rgb);

/* Tiles images [N, C, H, W] (C = 1 or 3, floats clamped to [0, 1], any device) into a grid of
 * cols columns (cols <= 0: ceil(sqrt(N))) with pad white pixels around and between tiles. */
enum tn_status png_write_grid(const char *path, const struct tn_tensor *images, int cols,
                              int pad);

#endif
