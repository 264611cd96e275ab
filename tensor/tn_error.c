/* tn_error.c - the thread-local last-error message and the abort path for programmer errors. */
#include "tn_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static _Thread_local char last_error[512];

const char *tn_last_error(void) { return last_error; }

enum tn_status tn_error(enum tn_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

const char *tn_status_name(enum tn_status status) {
    switch (status) {
    case TN_OK: return "TN_OK";
    case TN_ERR_OOM: return "TN_ERR_OOM";
    case TN_ERR_NO_DEVICE: return "TN_ERR_NO_DEVICE";
    case TN_ERR_UNSUPPORTED: return "TN_ERR_UNSUPPORTED";
    case TN_ERR_INVALID: return "TN_ERR_INVALID";
    case TN_ERR_IO: return "TN_ERR_IO";
    case TN_ERR_DEVICE: return "TN_ERR_DEVICE";
    }
    return "TN_ERR_?";
}

void tn_fatal(const char *file, int line, const char *what, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "%s:%d: %s: ", file, line, what);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    abort();
}
