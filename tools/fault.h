/* fault.h - crash injection for the tests: the tool kills itself with SIGKILL at a named point
 * of a training run when the environment asks for it, so that tests can check what a crash at
 * that moment leaves behind and that the run resumes from it.
 *
 * GWAE_FAULT=POINT:N kills the process the Nth time it passes POINT (N >= 1). The points:
 *   step        after a training step, before anything of that step is saved
 *   save        inside a checkpoint save, the temporary file written and synced, not renamed
 *   epoch-saved after an epoch's checkpoint_last is saved, before its figures and log line
 *   validate    at the start of a validation (the end of an epoch or of a part epoch)
 * Unset (as in any real use), every point costs one branch.
 */
#ifndef TOOL_FAULT_H
#define TOOL_FAULT_H

/* Reads GWAE_FAULT and, for "save", hooks the atomic writer (nn_set_write_hook). */
void fault_init(void);

/* Counts a pass through point and kills the process if GWAE_FAULT names this pass. */
void fault_point(const char *point);

#endif
