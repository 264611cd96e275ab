/* shapes.c - a generated scene dataset in the spirit of DeepMind's 3D Shapes: a room corner
 * (floor below, two walls above, the floor/wall line rising towards the corner) and one object
 * standing on the floor, with six known generative factors per image.
 *
 * Factors, drawn uniformly and independently per image (the grids of 3D Shapes):
 *   floor_hue, wall_hue, object_hue  10 values k/10 (saturated HSV colours)
 *   scale                             8 values k/7 (object half-size 0.12 to 0.22 of the image)
 *   shape                             0 cube, 1 cylinder, 2 sphere, 3 capsule
 *   orientation                       15 values k/14 (an in-plane tilt of -30 to +30 degrees,
 *                                     invisible on the sphere, as in 3D Shapes)
 * Drawing is flat shading with fake lighting (faces for the cube, Lambert plus a highlight for
 * the round shapes) and a soft shadow on the floor. Edges are anti-aliased analytically: every
 * shape is a signed distance function, so coverage is the distance in pixels clamped to one
 * pixel, at any image size and with no supersampling. The factors come from one Philox stream
 * of the seed; images are then rendered in parallel, so the result does not depend on the
 * thread count. Not a 3D renderer: no perspective on the object, no occlusion but the object's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"

#define HORIZON 0.55f   /* the floor/wall line at the corner (fraction of the height) */
#define HORIZON_RISE 0.22f /* how much lower the line is per unit of distance from the corner */
#define BASE 0.80f      /* where the object stands on the floor */

static const char *const factor_names[6] = {"floor_hue", "wall_hue", "object_hue",
                                            "scale", "shape", "orientation"};
static const int factor_levels[6] = {10, 10, 10, 8, 4, 15};

static float clamp01(float x) {
    return x < 0.0f ? 0.0f : x > 1.0f ? 1.0f : x;
}

/* Saturated colour of hue h in [0, 1) (HSV with S = V = 1). */
static void hue_rgb(float h, float rgb[3]) {
    float h6 = h * 6.0f;
    int i = (int)h6 % 6;
    float f = h6 - floorf(h6);
    float table[6][3] = {{1, f, 0},     {1 - f, 1, 0}, {0, 1, f},
                         {0, 1 - f, 1}, {f, 0, 1},     {1, 0, 1 - f}};
    memcpy(rgb, table[i], sizeof table[i]);
}

/* Per-pixel background weights for one image size: colour = wall * a + floor * b, and the
 * floor coverage (for the shadow). The same for every image, so computed once. */
struct background {
    float *a, *b, *floor;
};

static int background_new(int size, struct background *bg) {
    size_t n = (size_t)size * (size_t)size;
    bg->a = malloc(3 * n * sizeof(float));
    if (!bg->a) return 0;
    bg->b = bg->a + n;
    bg->floor = bg->b + n;
    float edge = 1.0f / sqrtf(1.0f + HORIZON_RISE * HORIZON_RISE); /* distance per unit of v */
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
            float u = (x + 0.5f) / size, v = (y + 0.5f) / size;
            float horizon = HORIZON + HORIZON_RISE * fabsf(u - 0.5f);
            float fc = clamp01((v - horizon) * size * edge + 0.5f);
            float right = clamp01((u - 0.5f) * size + 0.5f); /* the corner, anti-aliased */
            float wall = (0.76f + 0.16f * right) * (1.0f - 0.12f * v);
            float floor_shade = 0.62f + 0.38f * clamp01((v - HORIZON) / (1.0f - HORIZON));
            size_t i = (size_t)y * size + x;
            bg->a[i] = wall * (1.0f - fc);
            bg->b[i] = floor_shade * fc;
            bg->floor[i] = fc;
        }
    return 1;
}

/* The object of one scene, in image units (the image is [0, 1] x [0, 1], y down). */
struct object {
    int shape;
    float cx, cy, r;  /* centre and half-size */
    float cs, sn;     /* rotation */
    float px;         /* pixels per object unit (r * size), for anti-aliasing */
    float rgb[3];
};

/* Signed distance (object units, < 0 inside) of local point (qx, qy) and its shade in [0, 1];
 * the world-space offset (dx, dy) / r orients the lighting, which does not turn with the
 * object. *spec receives a white highlight for the round shapes. */
static float shade_object(const struct object *o, float qx, float qy, float dx, float dy,
                          float *shade, float *spec) {
    static const float lx = -0.45f, ly = -0.55f, lz = 0.70f; /* light from the upper left */
    *spec = 0.0f;
    float d, nx, ny;
    switch (o->shape) {
    case 0: { /* cube: a front face, a lit top face and a darker right face */
        float ex = fabsf(qx) - 0.85f, ey = fabsf(qy) - 0.85f;
        float ox = ex > 0 ? ex : 0, oy = ey > 0 ? ey : 0, in = ex > ey ? ex : ey;
        d = sqrtf(ox * ox + oy * oy) + (in < 0 ? in : 0);
        float top = clamp01((-0.40f - qy) * o->px + 0.5f);
        float right = clamp01((qx - 0.45f) * o->px + 0.5f);
        *shade = (0.80f + (0.60f - 0.80f) * right) * (1 - top) + 1.0f * top;
        return d;
    }
    case 1: { /* cylinder: a rounded box shaded across, with a lit elliptic top */
        const float hx = 0.70f, hy = 0.90f, rr = 0.30f;
        float ex = fabsf(qx) - (hx - rr), ey = fabsf(qy) - (hy - rr);
        float ox = ex > 0 ? ex : 0, oy = ey > 0 ? ey : 0, in = ex > ey ? ex : ey;
        d = sqrtf(ox * ox + oy * oy) + (in < 0 ? in : 0) - rr;
        float n = qx / hx;
        n = n < -1 ? -1 : n > 1 ? 1 : n;
        float side = 0.30f + 0.70f * fmaxf(0.0f, -0.5f * n + 0.85f * sqrtf(1 - n * n));
        float ty = (qy + 0.62f) / 0.26f, e = n * n + ty * ty;
        float cap = clamp01((1.0f - e) * 0.13f * o->px + 0.5f);
        *shade = side * (1 - cap) + 0.97f * cap;
        return d;
    }
    case 2: /* sphere: rotation changes nothing, so the world offset gives the normal */
        d = sqrtf(dx * dx + dy * dy) - 1.0f;
        nx = dx;
        ny = dy;
        break;
    default: { /* capsule: a vertical segment with round ends, normal turned back to world */
        float sy = qy < -0.50f ? -0.50f : qy > 0.50f ? 0.50f : qy;
        float lxq = qx / 0.45f, lyq = (qy - sy) / 0.45f;
        d = sqrtf(qx * qx + (qy - sy) * (qy - sy)) - 0.45f;
        nx = o->cs * lxq - o->sn * lyq;
        ny = o->sn * lxq + o->cs * lyq;
        break;
    }
    }
    float nn = nx * nx + ny * ny;
    if (nn > 1.0f) {
        nx /= sqrtf(nn);
        ny /= sqrtf(nn);
        nn = 1.0f;
    }
    float nz = sqrtf(1.0f - nn);
    float lambert = fmaxf(0.0f, nx * lx + ny * ly + nz * lz);
    *shade = 0.25f + 0.75f * lambert;
    /* Blinn highlight, half vector of the light and the viewer (0, 0, 1) */
    float hx = lx, hy = ly, hz = lz + 1.0f, hn = sqrtf(hx * hx + hy * hy + hz * hz);
    float h = fmaxf(0.0f, (nx * hx + ny * hy + nz * hz) / hn);
    float h2 = h * h, h4 = h2 * h2, h8 = h4 * h4;
    *spec = 0.55f * h8 * h8 * h8; /* h^24 */
    return d;
}

/* Renders one scene of factors f[6] into out[3, size, size]. */
static void render(const float *f, int size, const struct background *bg, uint8_t *out) {
    float floor_rgb[3], wall_rgb[3];
    struct object o;
    hue_rgb(f[0], floor_rgb);
    hue_rgb(f[1], wall_rgb);
    hue_rgb(f[2], o.rgb);
    o.shape = (int)f[4];
    o.r = 0.12f + 0.10f * f[3];
    o.cx = 0.5f;
    o.cy = BASE - 0.9f * o.r;
    float angle = (f[5] - 0.5f) * 1.0471976f; /* pi / 3: -30 to +30 degrees */
    o.cs = cosf(angle);
    o.sn = sinf(angle);
    o.px = o.r * size;
    /* boxes of the object (1.3 r covers the rotated cube's corners) and of its shadow */
    float ext = 1.3f * o.r;
    int ox0 = (int)floorf((o.cx - ext) * size), ox1 = (int)ceilf((o.cx + ext) * size);
    int oy0 = (int)floorf((o.cy - ext) * size), oy1 = (int)ceilf((o.cy + ext) * size);
    float scx = o.cx + 0.25f * o.r, scy = BASE + 0.01f, srx = 1.25f * o.r, sry = 0.25f * o.r;
    int sy0 = (int)floorf((scy - sry) * size), sy1 = (int)ceilf((scy + sry) * size);
    size_t plane = (size_t)size * (size_t)size;
    for (int y = 0; y < size; y++) {
        float v = (y + 0.5f) / size;
        int in_obj_rows = y >= oy0 && y <= oy1, in_shadow_rows = y >= sy0 && y <= sy1;
        for (int x = 0; x < size; x++) {
            size_t i = (size_t)y * size + x;
            float c[3];
            for (int k = 0; k < 3; k++) c[k] = wall_rgb[k] * bg->a[i] + floor_rgb[k] * bg->b[i];
            float u = (x + 0.5f) / size;
            if (in_shadow_rows) {
                float ex = (u - scx) / srx, ey = (v - scy) / sry, e = ex * ex + ey * ey;
                float dark = 0.45f * clamp01((1.0f - e) * 1.6f) * bg->floor[i];
                for (int k = 0; k < 3; k++) c[k] *= 1.0f - dark;
            }
            if (in_obj_rows && x >= ox0 && x <= ox1) {
                float dx = (u - o.cx) / o.r, dy = (v - o.cy) / o.r;
                float qx = o.cs * dx + o.sn * dy, qy = -o.sn * dx + o.cs * dy;
                float shade, spec;
                float d = shade_object(&o, qx, qy, dx, dy, &shade, &spec);
                float alpha = clamp01(0.5f - d * o.px);
                if (alpha > 0.0f)
                    for (int k = 0; k < 3; k++) {
                        float obj = o.rgb[k] * shade + spec;
                        c[k] += alpha * ((obj < 1.0f ? obj : 1.0f) - c[k]);
                    }
            }
            for (int k = 0; k < 3; k++)
                out[k * plane + i] = (uint8_t)(clamp01(c[k]) * 255.0f + 0.5f);
        }
    }
}

enum tn_status gw_shapes_generate(int64_t n, int size, uint64_t seed, struct gw_dataset *out) {
    memset(out, 0, sizeof *out);
    if (n < 0 || size < 1)
        return tn_error(TN_ERR_INVALID, "shapes: cannot generate %lld scenes of %dx%d",
                        (long long)n, size, size);
    size_t plane = (size_t)size * (size_t)size;
    out->pixels = malloc(n ? (size_t)n * 3 * plane : 1);
    out->factors = malloc((size_t)(n ? n : 1) * 6 * sizeof(float));
    struct background bg = {0};
    if (!out->pixels || !out->factors || !background_new(size, &bg)) {
        gw_dataset_free(out);
        free(bg.a);
        return tn_error(TN_ERR_OOM, "shapes: out of host memory for %lld scenes of %dx%d",
                        (long long)n, size, size);
    }
    out->count = n;
    out->channels = 3;
    out->size = size;
    out->n_factors = 6;
    for (int k = 0; k < 6; k++) strcpy(out->factor_names[k], factor_names[k]);
    struct tn_rng rng = tn_rng_new(seed);
    tn_rng_uniform_host(&rng, out->factors, 6 * n);
    for (int64_t i = 0; i < 6 * n; i++) {
        int k = (int)(i % 6), levels = factor_levels[k];
        int level = (int)(out->factors[i] * (float)levels);
        if (level >= levels) level = levels - 1;
        /* hues are k/10 in [0, 1) like 3D Shapes; scale and orientation span [0, 1] */
        out->factors[i] = k < 3 ? (float)level / levels : k == 4 ? (float)level
                                                                 : (float)level / (levels - 1);
    }
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++)
        render(out->factors + i * 6, size, &bg, out->pixels + (size_t)i * 3 * plane);
    free(bg.a);
    return TN_OK;
}
