/* terms.h - the named scalars a model's step reports (loss terms, GWAE's scale C, mean critic
 * values), kept on the model's device until the trainer reads them all at once.
 *
 * A model lists its terms once, in log order, as a table of struct gw_term_info; its loss and
 * adversary steps put 0-dim tensors into the slots (a copy on the device, no host read), and
 * gw_terms_read brings every slot to the host in one transfer. So a training step on a GPU
 * costs no synchronisation until a log line or a checkpoint needs the values.
 * Not here: which terms a model has (its file) and how they are logged (tools/cmd_train.c).
 */
#ifndef GW_TERMS_H
#define GW_TERMS_H

#include <stdbool.h>

#include "tensor/tn_tensor.h"

#define GW_TERMS_MAX 16

/* One term: its log.jsonl key and its label in the progress line (NULL: not shown there). */
struct gw_term_info {
    const char *name;
    const char *label;
};

struct gw_terms {
    const struct gw_term_info *info; /* the model's table */
    int n;                           /* entries in info */
    bool set[GW_TERMS_MAX];          /* slots written since the last gw_terms_clear */
    struct tn_tensor *values;        /* [GW_TERMS_MAX] on the model's device (a kept reference) */
    double host[GW_TERMS_MAX];       /* the last gw_terms_read; NAN in slots not set */
};

/* Sets up terms for the n-entry table info with its slots on device, none set. */
void gw_terms_init(struct gw_terms *t, const struct gw_term_info *info, int n,
                   struct tn_device device);

/* Drops the device slots. */
void gw_terms_free(struct gw_terms *t);

/* Marks every slot as not set and zeroes them on the device. */
void gw_terms_clear(struct gw_terms *t);

/* Copies the one-element tensor value into slot index on the device and marks it set. */
void gw_terms_put(struct gw_terms *t, int index, struct tn_tensor *value);

/* sum += weight * t over the slots t has set (on the device), marking them set in sum. */
void gw_terms_accumulate(struct gw_terms *sum, const struct gw_terms *t, double weight);

/* sum *= factor on the device (a mean from a weighted sum). */
void gw_terms_scale(struct gw_terms *sum, double factor);

/* One device-to-host copy of every slot into host[] (NAN where not set). */
void gw_terms_read(struct gw_terms *t);

/* The first set term whose last read value is not finite (its name; *value holds it), or NULL. */
const char *gw_terms_first_bad(const struct gw_terms *t, double *value);

/* The last read value of the term called name, NAN when it is not set or unknown. */
double gw_terms_get(const struct gw_terms *t, const char *name);

#endif
