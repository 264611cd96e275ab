/* cases_shape.c - test cases of the shape ops (being written). */
#include "op_cases.h"

static const struct op_case cases[] = {{0}};

const struct op_case_table cases_shape = {cases, 0};
