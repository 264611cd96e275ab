/* rae.h - the options of the relational autoencoders (rae-sfg, rae-ssfg, rae-mssfg,
 * rae-pssfg, rae-max-sfg), for the tests and the benchmarks that build them directly (rae.c
 * has the models; docs/models.md gives each default with its source).
 */
#ifndef GW_MODELS_RAE_H
#define GW_MODELS_RAE_H

#include "gwae/model.h"
#include "vae_family.h"

/* The settings of every relational autoencoder (each entry shows the rows it uses). */
struct rae_options {
    char reconstruction[GW_RECON_NAME_MAX];
    char encoder[16];    /* deterministic (DRAE) or gaussian */
    char directions[16]; /* rae-sfg: gaussian (the RAE code's unnormalised N(0, I)) or uniform */
    float gamma;         /* weight of the discrepancy: loss = mean rec + gamma SFG / (2B) */
    float beta;          /* fused weight: (1 - beta) W + beta GW per slice */
    float power;         /* p of the 1-D costs */
    float kappa;         /* concentration of the vMF / power spherical slicing law */
    int projections;     /* L */
    int search_steps;    /* T ascent steps on the locations */
    int mixture;         /* k locations (rae-mssfg) */
    double search_lr;    /* Adam's learning rate in the ascent */
    bool warm_start;     /* start each search from the last batch's locations */
};

extern const struct gw_model_entry gw_model_rae_sfg, gw_model_rae_ssfg, gw_model_rae_mssfg,
    gw_model_rae_pssfg, gw_model_rae_max_sfg;

#endif
