/* registry.c - the model registry: every model the tool knows, in the order `gwae models`
 * lists them. Adding a model is its file in this folder and one line of MODELS below.
 */
#include "gwae/model.h"

#define MODELS(X)        \
    X(gw_model_gwae)     \
    X(gw_model_ae)       \
    X(gw_model_vae)      \
    X(gw_model_beta_vae) \
    X(gw_model_beta_tcvae) \
    X(gw_model_factorvae) \
    X(gw_model_wae_mmd)  \
    X(gw_model_rae_sfg)  \
    X(gw_model_rae_ssfg) \
    X(gw_model_rae_mssfg) \
    X(gw_model_rae_pssfg) \
    X(gw_model_rae_max_sfg) \
    X(gw_model_swae)     \
    X(gw_model_gmg_encoder)

#define DECLARE(entry) extern const struct gw_model_entry entry;
#define ADDRESS(entry) &entry,

MODELS(DECLARE)

const struct gw_model_entry *const gw_models[] = {MODELS(ADDRESS) NULL};
