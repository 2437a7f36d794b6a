/* core.c -- error messages, RNG, aligned allocation, timing, threads.
 * Nothing here knows about networks or files. */
#include "ltsnn/core.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

lt_status lt_err_set(lt_err *err, lt_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = st;
    }
    return st;
}

lt_status lt_err_prefix(lt_err *err, const char *fmt, ...)
{
    if (!err)
        return LT_OK;
    char pre[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = strlen(pre);
    if (n >= sizeof err->msg)
        n = sizeof err->msg - 1;
    memcpy(err->msg, pre, n);
    size_t m = strnlen(old, sizeof old - 1);
    if (m > sizeof err->msg - 1 - n)
        m = sizeof err->msg - 1 - n;
    memcpy(err->msg + n, old, m);
    err->msg[n + m] = 0;
    return err->status;
}

const char *lt_status_str(lt_status st)
{
    switch (st) {
    case LT_OK: return "ok";
    case LT_ERR_ARG: return "bad argument";
    case LT_ERR_IO: return "i/o error";
    case LT_ERR_FORMAT: return "bad file format";
    case LT_ERR_SHAPE: return "shape mismatch";
    case LT_ERR_NOMEM: return "out of memory";
    case LT_ERR_PARSE: return "parse error";
    case LT_ERR_UNSUPPORTED: return "unsupported";
    case LT_ERR_EOF: return "end of data";
    case LT_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

/* ---- xoshiro256** (Blackman & Vigna), seeded with splitmix64 ---- */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void lt_rng_seed(lt_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t lt_rng_u64(lt_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

uint32_t lt_rng_below(lt_rng *r, uint32_t n)
{
    /* Lemire's multiply-shift with rejection: unbiased. */
    uint64_t m = (uint64_t)(uint32_t)(lt_rng_u64(r) >> 32) * n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t thr = (uint32_t)(-n) % n;
        while (lo < thr) {
            m = (uint64_t)(uint32_t)(lt_rng_u64(r) >> 32) * n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double lt_rng_uniform(lt_rng *r) { return (double)(lt_rng_u64(r) >> 11) * 0x1.0p-53; }

float lt_rng_uniformf(lt_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * (float)lt_rng_uniform(r);
}

double lt_rng_normal(lt_rng *r)
{
    double u1 = lt_rng_uniform(r), u2 = lt_rng_uniform(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void lt_rng_shuffle_u32(lt_rng *r, uint32_t *a, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = lt_rng_below(r, (uint32_t)i);
        uint32_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

int lt_mul_ok(size_t a, size_t b, size_t *out)
{
    if (a && b > SIZE_MAX / a)
        return 0;
    *out = a * b;
    return 1;
}

void *lt_alloc(size_t n)
{
    void *p = NULL;
    size_t m = (n + 63) & ~(size_t)63;
    if (m < n)
        return NULL;
    if (posix_memalign(&p, 64, m ? m : 64))
        return NULL;
    return p;
}

/* Large blocks (the net's arena): aligned to 2 MiB and marked for
 * transparent huge pages where the kernel offers them on request (Debian's
 * default "madvise"), so first touching a few hundred MB costs a few
 * hundred page faults instead of a hundred thousand, and the streamed
 * activations need fewer TLB entries.  Freed with lt_free like the rest. */
void *lt_alloc_big(size_t n)
{
    const size_t huge = (size_t)2 << 20;
    if (n < 2 * huge)
        return lt_alloc(n);
    void *p = NULL;
    size_t m = (n + huge - 1) & ~(huge - 1);
    if (m < n || posix_memalign(&p, huge, m))
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, m, MADV_HUGEPAGE); /* a hint: refused is fine */
#endif
    return p;
}

void *lt_calloc(size_t n)
{
    void *p = lt_alloc(n);
    if (p)
        memset(p, 0, n);
    return p;
}

void lt_free(void *p) { free(p); }

double lt_time_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int g_threads = 0;

void lt_set_threads(int n)
{
    g_threads = n > 0 ? n : 0;
#ifdef _OPENMP
    if (n > 0)
        omp_set_num_threads(n);
#endif
}

int lt_get_threads(void)
{
#ifdef _OPENMP
    return g_threads > 0 ? g_threads : omp_get_max_threads();
#else
    return 1;
#endif
}

size_t lt_mem_available(void)
{
    size_t avail = 0;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                avail = (size_t)kb * 1024;
                break;
            }
        fclose(f);
    }
    struct rlimit rl;
    if (!getrlimit(RLIMIT_AS, &rl) && rl.rlim_cur != RLIM_INFINITY) {
        /* what is already mapped counts against the limit */
        size_t used = 0;
        FILE *s = fopen("/proc/self/statm", "r");
        unsigned long long pages;
        if (s && fscanf(s, "%llu", &pages) == 1)
            used = (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
        if (s)
            fclose(s);
        size_t left = rl.rlim_cur > used ? (size_t)rl.rlim_cur - used : 0;
        if (!avail || left < avail)
            avail = left;
    }
    return avail;
}
