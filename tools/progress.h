/* progress.h - the human progress line of training on stderr.
 *
 * On a terminal the line is redrawn in place ("\r" and clear-to-end-of-line), at most ten
 * times a second; otherwise (a file, a pipe, CI) a plain line is printed at every logged
 * step. Messages (epoch summaries, where files went) go through progress_message so they
 * never land in the middle of a redrawn line. Not here: log.jsonl (cmd_train.c).
 */
#ifndef TOOL_PROGRESS_H
#define TOOL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "gwae/terms.h"

struct progress {
    bool tty;            /* stderr is a terminal */
    bool drawn;          /* a redrawable line is on screen */
    double start;        /* when this session's first step began */
    double last_draw;
    int64_t first_step;  /* the step count when this session began */
    int64_t total;       /* planned steps (the cap), for the ETA */
};

/* Starts the progress of a session beginning at step first_step of total. */
void progress_init(struct progress *p, int64_t first_step, int64_t total);

/* True when step (done) should be shown: on a terminal at most ten times a second (and at the
 * last step), otherwise at every logged step. The caller then reads the terms and calls
 * progress_step, so that nothing is read from the device for a line not drawn. */
bool progress_due(struct progress *p, int64_t step, bool logged);

/* Shows step (done) in epoch (1-based) with the terms that have a progress label. */
void progress_step(struct progress *p, int64_t step, int64_t epoch, const struct gw_terms *t);

/* Prints one message line, first clearing a redrawn progress line. */
void progress_message(struct progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Ends the redrawn line (a newline) if one is on screen. */
void progress_done(struct progress *p);

/* Formats seconds as "3m31s", "1h02m" or "12s" into out. */
void progress_duration(double seconds, char *out, int size);

#endif
