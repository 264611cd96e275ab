/* image.h - decoding PNG and JPEG streams to 8-bit RGB, private to gwae/data/ (the public
 * readers, gw_image_read, gw_image_decode and gw_png_read, are in dataset.h).
 *
 * Every decode reads the declared size first and refuses more than max_pixels before it
 * allocates anything for the pixels. The folder loader decodes files in parallel, so a decode
 * that will hold more than GW_IMAGE_LARGE_BYTES takes a process-wide lock first when asked to
 * (gate): at most one large decode runs at a time, and the thread count multiplies only the
 * small ones.
 */
#ifndef GW_IMAGE_H
#define GW_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define GW_IMAGE_LARGE_BYTES ((uint64_t)64 << 20)

/* A decoded image, and whether its decode holds the large-image lock. */
struct gw_rgb {
    int width, height;
    uint8_t *rgb; /* [height, width, 3], malloc'ed */
    bool locked;
};

/* Takes the large-image lock when gate is set and a decode needs more than
 * GW_IMAGE_LARGE_BYTES bytes (sets img->locked). */
void gw_image_lock_large(struct gw_rgb *img, bool gate, uint64_t bytes);

/* Releases the lock if img holds it. */
void gw_image_unlock(struct gw_rgb *img);

/* Decodes the PNG stream f (at its start) into img. False with the reason in msg. */
bool gw_png_decode(FILE *f, uint64_t max_pixels, bool gate, struct gw_rgb *img, char *msg,
                   size_t size);

/* Decodes the JPEG stream f (at its start) into img, at 1/2, 1/4 or 1/8 scale while the short
 * side stays >= min_side. False with the reason in msg. */
bool gw_jpeg_decode(FILE *f, uint64_t max_pixels, int min_side, bool gate, struct gw_rgb *img,
                    char *msg, size_t size);

#endif
