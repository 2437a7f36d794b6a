/* check.h -- the tiny test harness every tests/test_*.c uses.
 * CHECK records a failure and goes on; the program's exit status is the
 * verdict (main returns check_done()).  Each test prints one line per failure
 * and a closing "name: N passed, N failed" line. */
#ifndef LT_CHECK_H
#define LT_CHECK_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_pass_, check_fail_;
static const char *check_name_ = "test";

#define CHECK(cond, ...) do { \
    if (cond) { check_pass_++; } else { check_fail_++; \
        fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); } } while (0)

/* relative-or-absolute closeness: |a-b| <= tol * max(1, |a|, |b|) */
static inline int check_close(double a, double b, double tol)
{
    double m = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    if (m < 1.0) m = 1.0;
    return fabs(a - b) <= tol * m;
}
#define CHECK_CLOSE(a, b, tol, ...) do { double a_ = (a), b_ = (b); int ok_ = check_close(a_, b_, (tol)); \
    if (!ok_) fprintf(stderr, "  got %.9g, want %.9g (tol %g)\n", a_, b_, (double)(tol)); \
    CHECK(ok_, __VA_ARGS__); } while (0)

static inline void check_begin(const char *name) { check_name_ = name; }
static inline int check_done(void)
{
    printf("%s: %d passed, %d failed\n", check_name_, check_pass_, check_fail_);
    return check_fail_ ? 1 : 0;
}
#endif
