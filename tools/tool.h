/* tool.h - what the gwae program's files share: the commands, their exit codes and the one
 * way they report an error (one line on stderr: "gwae <command>: <reason>").
 *
 * Exit codes: 0 success; 1 the work failed (a missing or corrupt file, a checkpoint of another
 * configuration, an unwritable run directory, a non-finite loss); 2 the command line is wrong
 * (unknown command or option, a value that is not a number or is out of range); 128 + the
 * signal when `train` stopped for SIGINT (130) or SIGTERM (143) after saving its checkpoint.
 */
#ifndef TOOL_H
#define TOOL_H

#define TOOL_EXIT_FAIL 1
#define TOOL_EXIT_USAGE 2

/* Prints "gwae <cmd>: <message>" as one line on stderr (line breaks in the message become
 * spaces, other control bytes and invalid UTF-8 \xNN, backslashes \\: tn_quote) and returns
 * code, for `return tool_fail(...)`. */
int tool_fail(const char *cmd, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The commands: each takes the arguments after its name and returns the exit code. */
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_reconstruct(int argc, char **argv);
int cmd_encode(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_classifier(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_compare(int argc, char **argv);

/* Seconds on a monotonic clock. */
double tool_now(void);

#endif
