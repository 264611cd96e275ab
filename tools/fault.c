/* fault.c - the crash injection of fault.h. */
#include "fault.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_file.h"

static char wanted[32]; /* the point GWAE_FAULT names, "" when unset */
static long wanted_pass, passes;

/* the atomic writer's hook: a save about to rename its temporary file */
static void before_rename(const char *tmp_path) {
    (void)tmp_path;
    fault_point("save");
}

void fault_init(void) {
    const char *spec = getenv("GWAE_FAULT");
    wanted[0] = '\0';
    passes = 0;
    if (!spec) return;
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : 0;
    if (!colon || len == 0 || len >= sizeof wanted || (wanted_pass = atol(colon + 1)) < 1) {
        fprintf(stderr, "gwae: GWAE_FAULT=%s ignored (POINT:N expected)\n", spec);
        return;
    }
    memcpy(wanted, spec, len);
    wanted[len] = '\0';
    if (strcmp(wanted, "save") == 0) nn_set_write_hook(before_rename);
}

void fault_point(const char *point) {
    if (!wanted[0] || strcmp(point, wanted) != 0 || ++passes != wanted_pass) return;
    fflush(stdout);
    fflush(stderr);
    raise(SIGKILL);
}
