/* nn_file.c - the atomic file writes of nn_file.h. */
#define _POSIX_C_SOURCE 200809L

#include "nn_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool nn_write_all(int fd, const void *data, size_t n) {
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(fd, p, n > ((size_t)1 << 30) ? ((size_t)1 << 30) : n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Flushes the directory holding path, so that the rename itself survives a crash. */
static void sync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir) return;
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd); /* some file systems refuse to sync a directory; the rename is done anyway */
        close(fd);
    }
    free(dir);
}

static void (*write_hook)(const char *tmp_path);

void nn_set_write_hook(void (*hook)(const char *tmp_path)) { write_hook = hook; }

enum tn_status nn_write_atomic(const char *path, const char *label,
                               bool (*fill)(int fd, void *ctx), void *ctx) {
    size_t tmp_len = strlen(path) + 32;
    char *tmp = malloc(tmp_len);
    if (!tmp) return tn_error(TN_ERR_OOM, "%s %s: out of host memory", label, path);
    snprintf(tmp, tmp_len, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
    const char *step = "creating";
    bool ok = fd >= 0;
    int err = errno;
    if (ok) {
        step = "writing";
        ok = fill(fd, ctx);
        err = errno;
    }
    if (ok) {
        step = "syncing";
        ok = fsync(fd) == 0;
        err = errno;
    }
    if (fd >= 0 && close(fd) != 0 && ok) {
        step = "closing";
        ok = false;
        err = errno;
    }
    if (ok && write_hook) write_hook(tmp);
    if (ok) {
        step = "renaming";
        ok = rename(tmp, path) == 0;
        err = errno;
    }
    enum tn_status status = TN_OK;
    if (ok) {
        sync_dir(path);
    } else {
        if (fd >= 0) unlink(tmp); /* only a file this call created */
        status = tn_error(TN_ERR_IO, "%s %s: %s %s failed: %s", label, path, step, tmp,
                          strerror(err));
    }
    free(tmp);
    return status;
}

struct buffer {
    const void *data;
    size_t len;
};

/* nn_write_atomic's fill callback: writes the whole buffer. */
static bool fill_buffer(int fd, void *p) {
    struct buffer *b = p;
    return nn_write_all(fd, b->data, b->len);
}

enum tn_status nn_write_file_atomic(const char *path, const void *data, size_t len) {
    struct buffer b = {data, len};
    return nn_write_atomic(path, "file", fill_buffer, &b);
}
