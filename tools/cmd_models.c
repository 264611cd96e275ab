/* cmd_models.c - `gwae models`: the model and prior registries, one line each, from the same
 * entries that `train --help`, the option checks and config.json use. With --options, each
 * model's and prior's own options with their official defaults and where those come from.
 */
#include <stdio.h>
#include <string.h>

#include "settings.h"
#include "tool.h"

struct models_options {
    bool options;
};

static const struct gw_option models_specs[] = {
    {"options", GW_OPT_BOOL, GW_FIELD(struct models_options, options), 0, 0, NULL, GW_OPT_LOCAL,
     "Options", NULL, "also list each model's and prior's options", NULL},
};

static const struct opt_table models_table = {models_specs, 1, NULL};

/* "np, gaussian, fnp, gmp" of a NULL-terminated list into out */
static void join(const char *const *names, char *out, size_t size) {
    out[0] = '\0';
    for (int i = 0; names && names[i]; i++) {
        size_t used = strlen(out);
        snprintf(out + used, size - used, "%s%s", i ? ", " : "", names[i]);
    }
}

/* the rows of one entry with their official values (in opts) */
static void print_rows(const struct gw_option *rows, int n, const void *opts) {
    if (n == 0) return;
    struct opt_table t = {rows, n, NULL};
    opt_print_help(&t, opts);
}

int cmd_models(int argc, char **argv) {
    struct models_options o = {false};
    struct opt_result r;
    int rc = opt_parse("models", &models_table, &o, argc, argv, 0, &r);
    if (rc) return rc;
    if (r.help) {
        printf("usage: gwae models [--options]\n\n"
               "Lists the models (gwae train --model NAME) and the priors (--prior NAME), one line\n"
               "each: the model's priors (its default first) and its out-of-distribution scores\n"
               "(gwae eval --ood-score). --options adds their own options, with the official\n"
               "defaults and their sources (the small default of gwae train changes a few).\n");
        opt_print_help(&models_table, &o);
        return 0;
    }
    printf("models:\n");
    for (const struct gw_model_entry *const *e = gw_models; *e; e++) {
        char priors[128], scores[128];
        join((*e)->priors, priors, sizeof priors);
        join((*e)->ood_scores, scores, sizeof scores);
        printf("  %-11s %s [priors: %s; ood: %s]\n", (*e)->name, (*e)->summary, priors,
               scores[0] ? scores : "none");
        if (o.options) {
            _Alignas(max_align_t) unsigned char opts[GW_OPTIONS_MAX] = {0};
            if ((*e)->defaults) (*e)->defaults(opts);
            print_rows((*e)->options, (*e)->n_options, opts);
            printf("\n");
        }
    }
    printf("priors:\n");
    for (const struct gw_prior_entry *const *e = gw_priors; *e; e++) {
        printf("  %-11s %s\n", (*e)->name, (*e)->summary);
        if (o.options && (*e)->n_options) {
            _Alignas(max_align_t) unsigned char opts[GW_OPTIONS_MAX] = {0};
            if ((*e)->defaults) (*e)->defaults(opts);
            print_rows((*e)->options, (*e)->n_options, opts);
            printf("\n");
        }
    }
    return 0;
}
