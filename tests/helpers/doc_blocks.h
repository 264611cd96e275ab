/* doc_blocks.h - reads the fenced code blocks of a Markdown document and the doc-test markers
 * that say how tests/test_docs.c checks each one (the convention is in docs/architecture.md,
 * "Code in the docs").
 *
 * Every ```c block is a check: compiled as a file or as a function body (the default is a
 * file), compiled and run with its output compared, compared with a source file as an excerpt,
 * or skipped as illustrative with a reason. A marker is an HTML comment on the lines right
 * above a fence, invisible when the Markdown is rendered:
 *     <!-- doc-test: KIND ARGUMENTS
 *     optional context lines (C, at file scope; a line "..." is where the block goes)
 *     -->
 * Blocks of other languages are checks only when marked `output PROGRAM ARGS`. Not here:
 * compiling or running anything (test_docs.c does).
 */
#ifndef DOC_BLOCKS_H
#define DOC_BLOCKS_H

#include <stddef.h>

enum doc_kind {
    DOC_COMPILE,      /* C at file scope (the default), after the prelude and the context */
    DOC_BODY,         /* C statements, compiled as the body of a function */
    DOC_RUN,          /* a whole C program: compiled, run; stdout = the next fenced block */
    DOC_OUTPUT,       /* any block: the stdout of the build's PROGRAM ARGS */
    DOC_EXCERPT,      /* C copied from the file PATH: its lines must appear there in order */
    DOC_ILLUSTRATIVE, /* not compiled; the marker says why */
};

struct doc_check {
    enum doc_kind kind;
    int line;          /* line of the opening fence in the document (1-based) */
    char *code;        /* the block's text, its indentation removed */
    char *context;     /* DOC_COMPILE, DOC_BODY: the marker's extra lines, or NULL */
    char *argument;    /* DOC_OUTPUT: PROGRAM ARGS; DOC_EXCERPT: PATH; DOC_ILLUSTRATIVE: why */
    char *expected;    /* DOC_RUN, DOC_OUTPUT: the output the document shows */
};

struct doc_file {
    struct doc_check *checks;
    int n;
};

/* Parses the Markdown file at path into *doc; on a malformed marker or fence returns -1 with
 * "path:line: what is wrong" in err, else 0. */
int doc_parse(const char *path, struct doc_file *doc, char *err, size_t err_size);

/* Frees what doc_parse made. */
void doc_free(struct doc_file *doc);

/* The name of a kind as markers spell it ("compile", "run", ...). */
const char *doc_kind_name(enum doc_kind kind);

#endif
