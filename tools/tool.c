/* tool.c - what every command of the gwae program uses: the one-line error report and a
 * monotonic clock (tool.h). The commands themselves are in cmd_*.c, main in gwae.c.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "tool.h"

#include "tensor/tn_error.h"

int tool_fail(const char *cmd, int code, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *c = msg; *c; c++)
        if (*c == '\n' || *c == '\r') *c = ' ';
    char safe[4 * sizeof msg]; /* control bytes and bad UTF-8 (from a path) as \xNN */
    fflush(stdout);
    fprintf(stderr, "gwae %s: %s\n", cmd, tn_quote(msg, safe, sizeof safe));
    return code;
}

double tool_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
