/* ltsnn/core.h -- status codes, error messages, RNG, small shared types.
 *
 * Every library function that touches the outside world (files, flags,
 * memory) returns an lt_status and, on failure, writes a message into a
 * caller-provided lt_err.  The library never prints and never exits.
 * Programming mistakes (shapes that disagree between layers the library
 * built itself) are asserts, not statuses. */
#ifndef LTSNN_CORE_H
#define LTSNN_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum lt_status {
    LT_OK = 0,
    LT_ERR_ARG,      /* a bad argument or option value */
    LT_ERR_IO,       /* open/read/write/rename failed */
    LT_ERR_FORMAT,   /* a file is corrupt, truncated or of the wrong format */
    LT_ERR_SHAPE,    /* a shape, name or size does not fit */
    LT_ERR_NOMEM,    /* allocation failed */
    LT_ERR_PARSE,    /* a model string or similar text is malformed */
    LT_ERR_UNSUPPORTED, /* valid input that this build cannot handle */
    LT_ERR_EOF,      /* a stream has no more data (not an error for readers) */
    LT_ERR_INTERRUPTED /* stopped on request (a signal): state saved where the call says */
} lt_status;

/* The message buffer every fallible call fills.  `status` repeats the code
 * returned, so a caller can pass the struct around without the return. */
typedef struct lt_err {
    lt_status status;
    char msg[6144];     /* room for two long paths and the reason after them */
} lt_err;

/* Format a message into err (if non-NULL) and return st.  Usage:
 *   return lt_err_set(err, LT_ERR_FORMAT, "%s: byte %zu: expected ...", path, off); */
lt_status lt_err_set(lt_err *err, lt_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Prepend context ("while reading X: ") to an existing message. */
lt_status lt_err_prefix(lt_err *err, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
const char *lt_status_str(lt_status st);

/* ---- random numbers: xoshiro256** seeded through splitmix64 ----
 * Deterministic for a seed on every platform; the state is 4 words so it
 * can be stored in checkpoints (metadata "rng") and restored exactly. */
typedef struct lt_rng {
    uint64_t s[4];
} lt_rng;

void lt_rng_seed(lt_rng *r, uint64_t seed);
uint64_t lt_rng_u64(lt_rng *r);
uint32_t lt_rng_below(lt_rng *r, uint32_t n); /* uniform in [0, n), n > 0 */
double lt_rng_uniform(lt_rng *r);             /* [0, 1) with 53 bits */
float lt_rng_uniformf(lt_rng *r, float lo, float hi);
double lt_rng_normal(lt_rng *r);              /* standard normal (Box-Muller) */
void lt_rng_shuffle_u32(lt_rng *r, uint32_t *a, size_t n); /* Fisher-Yates */

/* ---- small helpers ---- */
/* a*b without overflow; returns 0 and leaves *out alone on overflow. */
int lt_mul_ok(size_t a, size_t b, size_t *out);
/* 64-byte aligned allocation of n bytes (n may be 0); free with lt_free. */
void *lt_alloc(size_t n);
void *lt_calloc(size_t n);
/* lt_alloc for blocks of many MB: 2 MiB aligned, transparent huge pages
 * requested (Linux); not zeroed; free with lt_free. */
void *lt_alloc_big(size_t n);
void lt_free(void *p);
double lt_time_s(void); /* monotonic seconds */
/* Bytes this process can still get: the kernel's MemAvailable, lowered to
 * what RLIMIT_AS (ulimit -v) leaves; 0 when neither is known. */
size_t lt_mem_available(void);

/* Number of worker threads kernels use (OpenMP); 0 = library default. */
void lt_set_threads(int n);
int lt_get_threads(void);

#ifdef __cplusplus
}
#endif
#endif
