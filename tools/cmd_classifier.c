/* cmd_classifier.c - `gwae classifier RUN_DIR`: trains the feature classifier of a run's
 * Frechet distances (eval/classifier.h) on the run's training split, with the project's own
 * engine, saves it as RUN_DIR/classifier.safetensors (atomically) and prints its test
 * accuracy as one JSON object. `gwae eval` uses that file, or trains one the same way when
 * the run has none. The class column is Fashion-MNIST's label or the scenes' shape factor.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_fid.h"
#include "nn/nn_json.h"
#include "tool.h"

struct classifier_options {
    struct use_options use; /* first: limit (training images), seed, data, threads */
    int epochs, batch;
    double lr;
};

#define C(field) offsetof(struct classifier_options, field), \
                 sizeof(((struct classifier_options *)0)->field)

static const struct gw_option classifier_specs[] = {
    {"epochs", GW_OPT_INT, C(epochs), 1, 1000, NULL, GW_OPT_LOCAL, "Training", "N", "passes over the training images", NULL},
    {"batch", GW_OPT_INT, C(batch), 1, 65536, NULL, GW_OPT_LOCAL, "Training", "B", "batch size", NULL},
    {"lr", GW_OPT_DOUBLE, C(lr), 1e-9, 10, NULL, GW_OPT_LOCAL, "Training", "X", "Adam's learning rate", NULL},
};

static const char *const shared_names[] = {"limit", "seed", "data", "threads", "device",
                                           "max-data-memory", NULL};

static const char classifier_usage[] =
    "usage: gwae classifier RUN_DIR [options]\n\n"
    "Trains the feature classifier of gwae eval's Frechet distances on the run's training split\n"
    "(a small CNN: three stride-2 convs and a 128-unit feature layer; the label of\n"
    "Fashion-MNIST, the shape factor of the generated scenes), saves it as\n"
    "RUN_DIR/classifier.safetensors and prints its accuracy on the test split. It is not\n"
    "Inception-v3: distances in its features are not comparable to published FIDs.\n"
    "--limit N trains on the first N training images.\n";

int cmd_classifier(int argc, char **argv) {
    struct gw_classifier_options d = gw_classifier_defaults();
    struct classifier_options o;
    memset(&o, 0, sizeof o);
    use_defaults(&o.use);
    o.use.seed = d.seed;
    o.epochs = d.epochs;
    o.batch = d.batch;
    o.lr = d.lr;
    const char *dir = NULL;
    int rc = use_parse_extra("classifier", classifier_usage, shared_names, classifier_specs,
                             (int)(sizeof classifier_specs / sizeof classifier_specs[0]), argc,
                             argv, &o, sizeof o, &dir);
    if (rc) return rc < 0 ? 0 : rc;
    struct gw_classifier_options co = {.epochs = o.epochs, .batch = o.batch, .lr = o.lr,
                                       .limit = o.use.limit, .seed = o.use.seed};
    struct session ses;
    tn_scope_begin();
    if ((rc = session_open("classifier", dir, &o.use, true, &ses))) {
        tn_scope_end();
        return rc;
    }
    double t0 = tool_now();
    struct gw_classifier *c;
    bool trained;
    char *text = NULL;
    rc = eval_classifier_obtain("classifier", &ses, &co, true, &c, &trained);
    if (!rc) {
        const struct gw_dataset *test = &ses.data.test;
        struct nn_json_writer w;
        nn_json_begin(&w, false);
        nn_json_put_int(&w, "classifier_classes", c->classes);
        nn_json_put_int(&w, "classifier_epochs", co.epochs);
        nn_json_put_int(&w, "classifier_train_images", co.limit > 0 && co.limit < ses.data.train.count
                                                    ? co.limit : ses.data.train.count);
        nn_json_put_number(&w, "classifier_test_accuracy",
                    gw_classifier_accuracy(c, test, gw_classifier_column(test), 0));
        nn_json_put_number(&w, "classifier_time_s", tool_now() - t0);
        text = nn_json_end(&w);
        gw_classifier_free(c);
    }
    session_close(&ses);
    tn_scope_end();
    if (text) printf("%s", text);
    free(text);
    return rc;
}
