/* check.h -- the tiny test harness every tests/test_*.c uses.
 * CHECK records a failure and goes on; the program's exit status is the
 * verdict (main returns check_done()).  Each test prints one line per failure
 * and a closing "name: N passed, N failed" line. */
#ifndef LT_CHECK_H
#define LT_CHECK_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check_pass_, check_fail_, check_skip_;
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
#define CHECK_CLOSE(a, b, tol, fmt, ...) do { double ca_ = (a), cb_ = (b); \
    CHECK(check_close(ca_, cb_, (tol)), "%.9g vs %.9g (tol %g): " fmt, ca_, cb_, (double)(tol), ##__VA_ARGS__); } while (0)

/* largest |a-b| / max(1, |a|, |b|) over n floats (NaN counts as worst); *at gets its index.
 * Shared by the kernel tests that compare a fast kernel with its plain oracle. */
static inline double check_max_err(const float *a, const float *b, size_t n, size_t *at)
{
    double worst = 0.0;
    *at = 0;
    for (size_t i = 0; i < n; i++) {
        double m = fabs(a[i]) > fabs(b[i]) ? fabs(a[i]) : fabs(b[i]);
        double e = fabs((double)a[i] - b[i]) / (m > 1.0 ? m : 1.0);
        if (e > worst || isnan(e)) {
            worst = e;
            *at = i;
        }
    }
    return worst;
}

/* A part that could not run here (a file or package this machine lacks):
 * said, counted, and never counted as passed. */
#define CHECK_SKIP(...) do { check_skip_++; printf("%s: skipped: ", check_name_); printf(__VA_ARGS__); \
    printf("\n"); } while (0)

static inline void check_begin(const char *name) { check_name_ = name; }
/* The exit status: 0 all checks passed, 1 a check failed or nothing was
 * checked at all, 77 (scripts/run-tests.sh: skipped) everything skipped. */
static inline int check_done(void)
{
    printf("%s: %d passed, %d failed, %d skipped\n", check_name_, check_pass_, check_fail_, check_skip_);
    if (check_fail_)
        return 1;
    if (!check_pass_ && check_skip_)
        return 77;
    if (!check_pass_) {
        printf("%s: nothing was checked\n", check_name_);
        return 1;
    }
    return 0;
}
#endif
