/* gw_png.h - PNG files in and out: writing 8-bit RGB images and grids of image tensors
 * (reconstructions.png, samples.png) atomically, and reading any PNG back as 8-bit RGB.
 *
 * JPEG input lives in gw_image_folder.c; this file knows nothing about datasets.
 */
#ifndef GW_PNG_H
#define GW_PNG_H

#include <stdint.h>

#include "tensor/tn_tensor.h"

/* Writes rgb[height, width, 3] (interleaved bytes) as an 8-bit RGB PNG, atomically. */
enum tn_status gw_png_write(const char *path, int width, int height, const uint8_t *rgb);

/* Tiles images [N, C, H, W] (C = 1 or 3, floats clamped to [0, 1], any device) into a grid of
 * cols columns (cols <= 0: ceil(sqrt(N))) with pad white pixels around and between tiles. */
enum tn_status gw_png_write_grid(const char *path, const struct tn_tensor *images, int cols,
                                 int pad);

/* Reads a PNG of any type (1-16 bit, gray, gray+alpha, palette, RGB, RGBA) as 8-bit RGB,
 * alpha dropped: *rgb is malloc'ed [height, width, 3] for the caller to free. A missing file
 * is TN_ERR_IO, a bad one TN_ERR_INVALID, both naming the file. */
enum tn_status gw_png_read(const char *path, int *width, int *height, uint8_t **rgb);

#endif
