/* tn_error.c - the thread-local last-error message, the quoting of names for messages, and
 * the abort path for programmer errors. */
#include "tn_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[512];

const char *tn_last_error(void) { return last_error; }

enum tn_status tn_error(enum tn_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

/* The length of the valid UTF-8 sequence at p (2-4 bytes, RFC 3629: no overlong form, no
 * surrogate, nothing above U+10FFFF, and not a C1 control), or 0. */
static size_t utf8_length(const unsigned char *p) {
    unsigned char b = p[0];
    size_t n = b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 ? 4 : 0;
    if (b > 0xf4) n = 0;
    unsigned char lo = 0x80, hi = 0xbf; /* the allowed range of the second byte */
    if (b == 0xc2) lo = 0xa0;
    if (b == 0xe0) lo = 0xa0;
    if (b == 0xed) hi = 0x9f;
    if (b == 0xf0) lo = 0x90;
    if (b == 0xf4) hi = 0x8f;
    if (n == 0 || p[1] < lo || p[1] > hi) return 0;
    for (size_t k = 2; k < n; k++)
        if (p[k] < 0x80 || p[k] > 0xbf) return 0;
    return n;
}

/* The quoted form of the character at p into piece (at most 4 bytes, not terminated); its
 * length, and the bytes of s it stands for in *used. */
static size_t quote_piece(const unsigned char *p, char *piece, size_t *used) {
    size_t n = *p >= 0x80 ? utf8_length(p) : 0;
    *used = n ? n : 1;
    if (n) {
        memcpy(piece, p, n);
        return n;
    }
    if (*p == '\\') {
        piece[0] = piece[1] = '\\';
        return 2;
    }
    if (*p >= 0x20 && *p < 0x7f) {
        piece[0] = (char)*p;
        return 1;
    }
    static const char hex[] = "0123456789abcdef";
    piece[0] = '\\';
    piece[1] = 'x';
    piece[2] = hex[*p >> 4];
    piece[3] = hex[*p & 15];
    return 4;
}

const char *tn_quote(const char *s, char *out, size_t size) {
    const unsigned char *p = (const unsigned char *)s;
    size_t total = 0, used;
    char piece[4];
    for (const unsigned char *q = p; *q; q += used) total += quote_piece(q, piece, &used);
    size_t room = total < size ? size - 1 : size - 4; /* keep 3 bytes for "..." when cutting */
    size_t n = 0;
    for (; *p; p += used) {
        size_t len = quote_piece(p, piece, &used);
        if (n + len > room) break;
        memcpy(out + n, piece, len);
        n += len;
    }
    if (*p) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return out;
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
