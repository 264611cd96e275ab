/* nets.h - the encoder and decoder every model of the family is built from: the official GWAE
 * networks (gwae-spec.md section 2), so that a comparison between models isolates the
 * objective.
 *
 * Encoder: logit transform of the image, k4 s2 p1 convs with SiLU (replicate padding by
 * default) down to 4x4 (3->32->64->128->256 at 64x64; 3->64->128->256 at 32x32), flatten,
 * Linear to 256, SiLU, then the heads mu ("fc") and, for a Gaussian encoder, logvar
 * ("fc_logvar"). Decoder: the mirror with transposed convs, ending in a sigmoid. Every hidden
 * width is multiplied by the width setting.
 */
#ifndef GW_NETS_H
#define GW_NETS_H

#include "gwae/model.h"
#include "nn/nn_layers.h"

struct gw_encoder {
    struct nn_module base;       /* "encoder": children "trunk", "fc" and "fc_logvar" */
    struct nn_module *trunk;     /* convs + linear + SiLU, [B,C,S,S] -> [B,H] */
    struct nn_linear *head_mu;   /* [B,H] -> [B,L] */
    struct nn_linear *head_logvar; /* [B,H] -> [B,L], NULL for a deterministic encoder */
};

/* A hidden width of the official networks scaled by c->width, at least 1. */
int64_t gw_nets_width(const struct gw_common *c, int64_t base);

/* The encoder of c; gaussian: with the logvar head. Weights drawn from rng. */
struct gw_encoder *gw_encoder_new(const struct gw_common *c, bool gaussian, struct tn_rng *rng);

/* mu [B, L] and logvar [B, L] (NULL without the head) of images x [B, C, S, S] in [0, 1]. */
void gw_encoder_forward(struct gw_encoder *e, struct tn_tensor *x, struct tn_tensor **mu,
                        struct tn_tensor **logvar);

/* The decoder of c ("decoder"): [B, L] -> [B, C, S, S] in (0, 1). Weights drawn from rng. */
struct nn_sequential *gw_decoder_new(const struct gw_common *c, struct tn_rng *rng);

/* The decoder's output before its final sigmoid: logits [B, C, S, S]. */
struct tn_tensor *gw_decoder_logits(struct nn_sequential *d, struct tn_tensor *z);

#endif
