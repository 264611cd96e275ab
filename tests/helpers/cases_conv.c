/* cases_conv.c - test cases of the conv ops (being written). */
#include "op_cases.h"

static const struct op_case cases[] = {{0}};

const struct op_case_table cases_conv = {cases, 0};
