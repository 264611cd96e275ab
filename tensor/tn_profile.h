/* tn_profile.h - an op profiler: with TN_PROFILE=1 in the environment, every kernel call is
 * timed and, at exit, a table of time per op (calls, total ms, share) goes to stderr;
 * TN_PROFILE=2 adds a table per op and input shapes (the 40 costliest), to find the layer.
 *
 * The switch is read once; when off, a kernel call costs one predictable branch more. Times
 * are wall-clock around the kernel (CPU kernels are synchronous; on CUDA a time is the launch
 * unless TN_CUDA_SYNC makes every op wait). Not here: the autograd tape (ag_dot.c draws it).
 */
#ifndef TN_PROFILE_H
#define TN_PROFILE_H

#include <stdbool.h>

#include "tn_op.h"

/* True when TN_PROFILE is set to a non-zero value (read on the first call). */
bool tn_profile_enabled(void);

/* Monotonic time in nanoseconds, for timing one kernel call. */
long long tn_profile_now_ns(void);

struct tn_tensor;

/* Adds one call of op on inputs in[n] that took ns nanoseconds and wrote out_numel values. */
void tn_profile_add(enum tn_op op, int n, struct tn_tensor *const *in, long long ns,
                    long long out_numel);

#endif
