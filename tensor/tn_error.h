/* tn_error.h - errors of the tensor layer and of everything built on it.
 *
 * Two kinds of error, handled two ways (docs/architecture.md, "Errors"):
 *  - programmer errors (shape or device mismatch, bad axis, an op on a freed graph) call
 *    tn_fatal(), which prints the op name and file:line and aborts;
 *  - environment errors (out of memory, no device, unreadable file) return a tn_status and
 *    leave a message that tn_last_error() returns. A name from outside (a path, a tensor
 *    name read from a file) goes into a message through tn_quote, so that its bytes cannot
 *    break the line or drive the terminal.
 * Library code never calls exit().
 */
#ifndef TN_ERROR_H
#define TN_ERROR_H

#include <stddef.h>
#include <stdnoreturn.h>

enum tn_status {
    TN_OK = 0,
    TN_ERR_OOM,         /* an allocation failed, even after the cache was emptied */
    TN_ERR_NO_DEVICE,   /* the device asked for is not present */
    TN_ERR_UNSUPPORTED, /* the backend has no kernel for this op */
    TN_ERR_INVALID,     /* an argument read from outside (a file, a command line) is wrong */
    TN_ERR_IO,          /* reading or writing a file failed */
    TN_ERR_DEVICE,      /* the device library reported an error */
};

/* The message of the last error set on this thread ("" if none). */
const char *tn_last_error(void);

/* Sets the thread's last error message and returns status, for `return tn_error(...)`. */
enum tn_status tn_error(enum tn_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A buffer size for tn_quote that fits a path of ordinary length. */
#define TN_QUOTE_SIZE 320

/* Copies s into out (size >= 4 bytes, always NUL-terminated) made safe for a one-line message:
 * control bytes (C0, DEL, C1), bytes that are not valid UTF-8 and backslashes are written as
 * \xNN and \\, valid UTF-8 is kept, and the text is cut with "..." when it does not fit.
 * Returns out. */
const char *tn_quote(const char *s, char *out, size_t size);

/* Name of a status ("TN_ERR_OOM"). */
const char *tn_status_name(enum tn_status status);

/* Prints "file:line: what: message" to stderr and aborts. Use through TN_FATAL / TN_CHECK. */
noreturn void tn_fatal(const char *file, int line, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define TN_FATAL(what, ...) tn_fatal(__FILE__, __LINE__, (what), __VA_ARGS__)

/* Aborts with the message when cond is false (a programmer error, never input data). */
#define TN_CHECK(cond, what, ...)                                  \
    do {                                                           \
        if (!(cond)) tn_fatal(__FILE__, __LINE__, (what), __VA_ARGS__); \
    } while (0)

#endif
