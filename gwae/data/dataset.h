/* dataset.h - datasets of images in [0, 1] with optional labels or generative factors, their
 * loaders (IDX files, a generated scene dataset with known factors, a folder of PNG/JPEG
 * images), seeded train/validation/test splits and shuffled batches.
 *
 * Images are kept as bytes [N, C, S, S] (C = 3, S the model's image size) and turned into
 * float tensors one batch at a time. Grayscale data is repeated to three channels and every
 * image is resized to S x S when loaded (28x28 Fashion-MNIST becomes 32x32 or 64x64).
 * Loaders return a tn_status with a one-line message on a missing or corrupt source. Before
 * anything large is allocated, a loader bounds what the dataset will take in host memory
 * (its images at the model's size, plus the raw IDX values) by max_memory, and refuses it with
 * a message naming the limit. What each reader refuses: docs/tool.md, "What readers refuse".
 */
#ifndef GW_DATA_H
#define GW_DATA_H

#include <stdint.h>
#include <stdio.h>

#include "tensor/tn_error.h"

#include "tensor/tn_random.h"

struct gw_dataset {
    int64_t count;           /* N images */
    int channels, size;      /* C (3) and S */
    uint8_t *pixels;         /* [N, C, S, S] */
    int n_factors;           /* values per image in factors: 1 for class labels, 0 for none */
    float *factors;          /* [N, n_factors]: class labels or generative factors, or NULL */
    char factor_names[8][32];/* names of the factor columns ("label", "floor_hue", ...) */
};

/* Which loader reads a dataset. */
enum gw_source {
    GW_SOURCE_FASHION_MNIST, /* IDX files: <dir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz] */
    GW_SOURCE_SHAPES,        /* generated scenes with 6 known factors (see data/shapes.c) */
    GW_SOURCE_FOLDER,        /* every .png/.jpg/.jpeg in a folder, centre-cropped and resized */
};

/* Splits of one source: train, validation and test, and the test images of held-out
 * classes (empty unless gw_data_options.holdout is set). */
struct gw_splits {
    struct gw_dataset train, valid, test;
    struct gw_dataset held_out; /* out-of-distribution set: test images of the held-out classes */
};

/* The default of gw_data_options.max_memory: 8 GiB, room for CelebA-sized data (200,000
 * images at 64x64 take 2.5 GB) on an ordinary machine, far below what a forged header asks. */
#define GW_DATA_MAX_MEMORY_DEFAULT ((uint64_t)8 << 30)

struct gw_data_options {
    enum gw_source source;
    const char *path;        /* folder of the files (fashion-mnist, folder); unused for shapes */
    int size;                /* S: images are resized to S x S */
    int64_t limit;           /* use at most this many training images (0: all) */
    int64_t shapes_count;    /* generated scenes (shapes source) */
    double valid_fraction;   /* of the training images held out for validation (0.1) */
    double test_fraction;    /* of the images used as test where the source has no test set */
    uint64_t seed;           /* seeds the split (and the generated scenes) */
    uint32_t holdout;        /* bit k set: class k is removed from train/valid/test and its
                                test images form held_out (labelled sources: fashion-mnist) */
    uint64_t max_memory;     /* bytes of host memory one dataset may take, checked before
                                loading (0: GW_DATA_MAX_MEMORY_DEFAULT); --max-data-memory */
};

/* Loads the source and splits it; TN_ERR_IO / TN_ERR_INVALID with a message on failure. */
enum tn_status gw_data_load(const struct gw_data_options *opts, struct gw_splits *out);

/* Frees the memory of every split. */
void gw_splits_free(struct gw_splits *s);

/* Frees one dataset's memory. */
void gw_dataset_free(struct gw_dataset *d);

/* Images idx[0..n) of d as a float tensor [n, C, S, S] in [0, 1] (in the current scope). */
struct tn_tensor *gw_dataset_batch(const struct gw_dataset *d, const int64_t *idx, int64_t n);

/* A random permutation of [0, n) drawn from rng (for shuffling an epoch). */
void gw_permutation(struct tn_rng *rng, int64_t n, int64_t *out);

/* Resizes one image plane of bytes (bilinear, as an area-weighted average when shrinking). */
void gw_resize_plane(const uint8_t *src, int src_h, int src_w, uint8_t *dst, int dst_h, int dst_w);

/* Generates the scene dataset: n images of size S with factors floor_hue, wall_hue,
 * object_hue, scale, shape, orientation (each in [0, 1] except shape: 0, 1, 2, 3). */
enum tn_status gw_shapes_generate(int64_t n, int size, uint64_t seed, struct gw_dataset *out);

/* Sorted paths of the .png/.jpg/.jpeg files (any case) in dir; free with gw_image_list_free.
 * TN_ERR_IO when dir cannot be opened, TN_ERR_INVALID when it holds no such file. */
enum tn_status gw_image_list(const char *dir, char ***paths, int64_t *count);

/* Frees a list made by gw_image_list. */
void gw_image_list_free(char **paths, int64_t count);

/* Images whose declared width x height exceeds this are refused before they are decoded:
 * 67,108,864 pixels, e.g. 8192 x 8192, more than any camera's photo (a 61-megapixel one is
 * 9504 x 6336); a larger header is a forged or corrupt one. */
#define GW_IMAGE_MAX_PIXELS ((uint64_t)1 << 26)

/* Reads one PNG or JPEG file (told apart by content), centre-crops it to a square and resizes
 * it to size x size as planar RGB bytes out[3, size, size]. Only a regular file is opened
 * (TN_ERR_IO names anything else); TN_ERR_INVALID names a bad file or one over
 * GW_IMAGE_MAX_PIXELS. Safe to call from parallel threads (large decodes take turns). */
enum tn_status gw_image_read(const char *path, int size, uint8_t *out);

/* gw_image_read from an open stream f at its start, refusing images over max_pixels; name is
 * for messages (what the fuzz target calls, with the bytes in a memory stream). */
enum tn_status gw_image_decode(FILE *f, const char *name, int size, uint64_t max_pixels,
                               uint8_t *out);

/* Reads a PNG of any type (1-16 bit, gray, gray+alpha, palette, RGB, RGBA) as 8-bit RGB,
 * alpha dropped: *rgb is malloc'ed [height, width, 3] for the caller to free. A missing file
 * is TN_ERR_IO, a bad one TN_ERR_INVALID, both naming the file (png_read.c). */
enum tn_status gw_png_read(const char *path, int *width, int *height, uint8_t **rgb);

#endif
