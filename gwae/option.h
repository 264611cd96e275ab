/* option.h - a setting as models, priors and the tool declare it: one row that says its name,
 * type, range, where its value lives in a settings struct, its help and where its default
 * comes from.
 *
 * A model or prior keeps its own settings in a struct of its own and lists them as a table of
 * struct gw_option whose offsets point into that struct; the tool parses the command line,
 * prints --help, writes config.json and reads it back from these same rows (tools/options.h),
 * so an option and its default are written down once, beside the code that uses them.
 * Not here: parsing (tools/options.c) and what any setting means (the model's file).
 */
#ifndef GW_OPTION_H
#define GW_OPTION_H

#include <stddef.h>

enum gw_opt_kind {
    GW_OPT_INT,    /* int */
    GW_OPT_I64,    /* int64_t */
    GW_OPT_U64,    /* uint64_t */
    GW_OPT_FLOAT,  /* float */
    GW_OPT_DOUBLE, /* double */
    GW_OPT_BOOL,   /* bool: a flag on the command line, true/false in config.json */
    GW_OPT_STRING, /* char[size] */
};

/* What an option is to a run directory. */
enum gw_opt_class {
    GW_OPT_FIXED, /* saved in config.json and part of the run: a resume may not change it */
    GW_OPT_RUN,   /* saved, but a resume may change it (how long to train, how often to log) */
    GW_OPT_LOCAL, /* this invocation only, never saved (threads, paths of outputs) */
};

struct gw_option {
    const char *name;            /* without the leading "--" */
    enum gw_opt_kind kind;
    size_t offset;               /* of the value in its settings struct */
    size_t size;                 /* GW_OPT_STRING: the buffer's size */
    double min, max;             /* numeric kinds: the inclusive range; GW_OPT_STRING: min > 0
                                    refuses the empty text */
    const char *const *choices;  /* GW_OPT_STRING: the allowed values (NULL-terminated) or NULL */
    enum gw_opt_class cls;
    const char *group;           /* heading in --help ("Data", "Model gwae", ...) */
    const char *metavar;         /* "N", "PATH"; NULL for flags */
    const char *help;
    const char *source;          /* the default's source ("official 0.1: settings/bvae.yaml beta"),
                                    or NULL for a tool setting */
};

/* offset and size of field in struct type, the third and fourth members of a row */
#define GW_FIELD(type, field) offsetof(type, field), sizeof(((type *)0)->field)

#endif
