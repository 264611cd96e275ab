/* test_support.h - what every test file shares: the leak-checking fixture, tensor builders
 * from host values, and comparison helpers.
 *
 * Every test runs inside the fixture: it opens a scope and records the allocator's counters
 * at the start, then closes the scope and asserts that live tensors and bytes in use are
 * back at their start values (the leak check the issue asks for after every test), on the
 * CPU and on CUDA device 0 (whose counters read 0 when no test touches a GPU).
 */
#ifndef TEST_SUPPORT_H
#define TEST_SUPPORT_H

#include <criterion/criterion.h>

#include "autograd/ag.h"
#include "tensor/tn_random.h"

/* Fixture hooks: .init = leak_check_begin, .fini = leak_check_end. */
void leak_check_begin(void);
void leak_check_end(void);

/* Removes path and, when it is a folder, everything under it (a test's scratch folder). */
void remove_tree(const char *path);

/* A test suite whose every test is leak-checked. */
#define LEAK_CHECKED_SUITE(name) TestSuite(name, .init = leak_check_begin, .fini = leak_check_end)

/* A CPU tensor of shape with the given values (row-major). */
struct tn_tensor *make_tensor(int ndim, const int64_t *shape, const float *values);

/* A CPU tensor of shape with values uniform in [lo, hi). */
struct tn_tensor *make_random(struct tn_rng *rng, int ndim, const int64_t *shape, float lo,
                              float hi);

/* A non-contiguous view with the given shape: the data is laid out with the last two dims
 * swapped and the view transposes them back, so strides are not row-major. */
struct tn_tensor *make_random_transposed(struct tn_rng *rng, int ndim, const int64_t *shape,
                                         float lo, float hi);

/* Asserts that t's elements equal expected to within atol + rtol |expected|. */
void assert_close(const struct tn_tensor *t, const float *expected, double atol, double rtol);

/* Asserts that t has the given shape. */
void assert_shape(const struct tn_tensor *t, int ndim, const int64_t *shape);

#endif
