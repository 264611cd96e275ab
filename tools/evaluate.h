/* evaluate.h - what the tool computes with a trained model: mean loss terms over a split,
 * PSNR of reconstructions, encodings, and the two figures (reconstructions and samples).
 *
 * Everything here runs the model in evaluation mode (the prior's batch norm on its running
 * statistics, no power iteration) and restores training mode after. The draws come from a
 * generator the caller passes, so that validation losses of different epochs are comparable.
 * Not here: files other than the PNG figures (the commands write them).
 */
#ifndef TOOL_EVALUATE_H
#define TOOL_EVALUATE_H

#include "gwae/data/dataset.h"
#include "gwae/model.h"
#include "nn/nn_json.h"

/* The version of what eval measures and how, written into metrics.json as "eval_version":
 * bumped whenever a measurement's definition changes, so that `gwae compare` never sets
 * numbers measured differently side by side. 2: the model family (model-agnostic GW scale,
 * non-finite PSNR reported as such, OOD scores per model). */
#define EVAL_VERSION "2"

/* Puts m in evaluation mode with gradient recording off; returns the previous grad mode for
 * eval_end. */
bool eval_begin(struct gw_model *m);

/* Back to training mode and the grad mode eval_begin returned. */
void eval_end(struct gw_model *m, bool grad);

/* Images [first, first + n) of d as a batch [n, C, S, S] on m's device (the CPU when m is
 * NULL), in the current scope. */
struct tn_tensor *eval_batch_at(const struct gw_model *m, const struct gw_dataset *d, int64_t first,
                              int64_t n);

/* Means of the main loss terms (gw_model_eval_step) over the first n images of d (n <= 0:
 * all), in batches of the model's batch size, into mean (made with gw_model_terms; read once
 * at the end, NAN in every slot when no batch was used); a last batch of one image is left out
 * (batch statistics need two). Returns the number of images used. */
int64_t eval_losses(struct gw_model *m, const struct gw_dataset *d, int64_t n, struct tn_rng *rng,
                    struct gw_terms *mean);

/* PSNR per image (MAX 1, MSE over all values) of the first n images of d (n <= 0: all):
 * decoded from a sample of q(z|x) (the official metric; the code itself for a deterministic
 * encoder) and from its mean mu. Mean and standard error over the images of each: NAN (not a
 * number, never a floor) when an image's error is not finite. Returns the number of images. */
int64_t eval_psnr(struct gw_model *m, const struct gw_dataset *d, int64_t n, struct tn_rng *rng,
                  double psnr[2], double stderr_[2]);

/* Codes of the first n images of d (n <= 0: all) into out[n, L] (malloc'ed): mu of q(z|x)
 * when rng is NULL, else a sample z ~ q(z|x) drawn from rng (gw_model_code). */
int64_t eval_encode(struct gw_model *m, const struct gw_dataset *d, int64_t n, struct tn_rng *rng,
                    float **out);

/* Appends "<prefix><name>": value for every set term of t (its last read). */
void eval_json_terms(struct nn_json_writer *w, const char *prefix, const struct gw_terms *t);

/* Writes a grid of n prior samples (cols columns) decoded in evaluation mode to path. */
enum tn_status eval_samples_png(struct gw_model *m, const char *path, int n, int cols,
                                struct tn_rng *rng);

/* Writes the first n images of d (top row) over their reconstructions from mu (bottom row). */
enum tn_status eval_reconstructions_png(struct gw_model *m, const struct gw_dataset *d, int n,
                                        const char *path);

#endif
