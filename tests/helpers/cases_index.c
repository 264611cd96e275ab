/* cases_index.c - test cases of the index ops (being written). */
#include "op_cases.h"

static const struct op_case cases[] = {{0}};

const struct op_case_table cases_index = {cases, 0};
