/* nn_file.c - the checked open for reading and the atomic file writes of nn_file.h. */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include "nn_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a file that is not regular is, for the message. */
static const char *kind_of(mode_t mode) {
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISDIR(mode)) return "a folder";
    return "not a file";
}

enum tn_status nn_open_regular(const char *path, const char *label, int *fd, uint64_t *size) {
    char shown[TN_QUOTE_SIZE];
    const char *sep = label[0] ? " " : "";
    tn_quote(path, shown, sizeof shown);
    *fd = -1;
    *size = 0;
    /* O_NONBLOCK: a FIFO opens at once instead of waiting for a writer; O_NOCTTY: a terminal
     * does not become the controlling one */
    int f = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (f < 0) {
        int err = errno;
        tn_error(TN_ERR_IO, "%s%s%s: cannot open: %s", label, sep, shown, strerror(err));
        errno = err;
        return TN_ERR_IO;
    }
    struct stat info;
    int err = 0;
    if (fstat(f, &info) != 0) {
        err = errno;
        tn_error(TN_ERR_IO, "%s%s%s: cannot stat: %s", label, sep, shown, strerror(err));
    } else if (!S_ISREG(info.st_mode)) {
        err = S_ISDIR(info.st_mode) ? EISDIR : EINVAL;
        tn_error(TN_ERR_IO, "%s%s%s: not a regular file (%s)", label, sep, shown,
                 kind_of(info.st_mode));
    } else {
        int flags = fcntl(f, F_GETFL);
        if (flags < 0 || fcntl(f, F_SETFL, flags & ~O_NONBLOCK) != 0) {
            err = errno;
            tn_error(TN_ERR_IO, "%s%s%s: cannot open: %s", label, sep, shown, strerror(err));
        }
    }
    if (err) {
        close(f);
        errno = err;
        return TN_ERR_IO;
    }
    *fd = f;
    *size = (uint64_t)info.st_size;
    return TN_OK;
}

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
    if (!tmp) return tn_error(TN_ERR_OOM, "%s: out of host memory writing a file", label);
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
        char shown[TN_QUOTE_SIZE], shown_tmp[TN_QUOTE_SIZE];
        status = tn_error(TN_ERR_IO, "%s %s: %s %s failed: %s", label,
                          tn_quote(path, shown, sizeof shown), step,
                          tn_quote(tmp, shown_tmp, sizeof shown_tmp), strerror(err));
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
