/* progress.c - the progress line: rate and ETA over this session's steps, the loss terms.
 *
 * The rate counts wall time since the session's first step, validation and figures included,
 * so the ETA is what the user will wait, not an optimistic step time.
 */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "tool.h"

void progress_init(struct progress *p, int64_t first_step, int64_t total) {
    p->tty = isatty(2);
    p->drawn = false;
    p->start = tool_now();
    p->last_draw = 0;
    p->first_step = first_step;
    p->total = total;
}

void progress_duration(double seconds, char *out, int size) {
    long s = seconds > 0 ? (long)(seconds + 0.5) : 0;
    if (s >= 3600) snprintf(out, (size_t)size, "%ldh%02ldm", s / 3600, s / 60 % 60);
    else if (s >= 60) snprintf(out, (size_t)size, "%ldm%02lds", s / 60, s % 60);
    else snprintf(out, (size_t)size, "%lds", s);
}

bool progress_due(struct progress *p, int64_t step, bool logged) {
    return p->tty ? tool_now() - p->last_draw >= 0.1 || step >= p->total : logged;
}

void progress_step(struct progress *p, int64_t step, int64_t epoch, const struct gw_terms *t) {
    double now = tool_now();
    p->last_draw = now;
    double rate = (double)(step - p->first_step) / (now - p->start > 1e-9 ? now - p->start : 1e-9);
    char eta[32];
    progress_duration(rate > 0 ? (double)(p->total - step) / rate : 0, eta, sizeof eta);
    char line[256];
    int used = snprintf(line, sizeof line, "step %lld/%lld  epoch %lld  %.2f it/s  ETA %s ",
                        (long long)step, (long long)p->total, (long long)epoch, rate, eta);
    for (int i = 0; i < t->n && used > 0 && (size_t)used < sizeof line; i++)
        if (t->set[i] && t->info[i].label)
            used += snprintf(line + used, sizeof line - (size_t)used, " %s %.4g", t->info[i].label,
                             t->host[i]);
    if (p->tty) {
        fprintf(stderr, "\r%s\033[K", line);
        p->drawn = true;
    } else {
        fprintf(stderr, "%s\n", line);
    }
    fflush(stderr);
}

void progress_message(struct progress *p, const char *fmt, ...) {
    if (p->drawn) fprintf(stderr, "\r\033[K");
    p->drawn = false;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

void progress_done(struct progress *p) {
    if (p->drawn) fputc('\n', stderr);
    p->drawn = false;
    fflush(stderr);
}
