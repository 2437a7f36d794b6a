/* ltsnn/synth.h -- data ltsnn makes itself or reads from Debian's archive:
 * the built-in demo event data, the DVS (event-camera) simulator, IDX files,
 * and Fashion-MNIST (IDX files from the package dataset-fashion-mnist).
 * docs/data.md describes each in more detail. */
#ifndef LTSNN_SYNTH_H
#define LTSNN_SYNTH_H

#include "ltsnn/data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- DVS (event-camera) simulator ----
 * Turns a sequence of intensity images (float, [0, 1], [H, W] row-major) at
 * increasing timestamps (microseconds) into events.  Each pixel keeps a
 * reference log level r; the log intensity L = log(I + eps) is taken to move
 * linearly between two frames, and whenever L - r reaches the pixel's ON
 * threshold (or r - L its OFF threshold) an event is emitted at the
 * interpolated crossing time and r moves by that threshold, so a change of
 * k thresholds within one frame interval gives k events spread over it.
 * After an event the pixel is blind for refractory_us: its reference follows
 * L until the period ends (as a real pixel's reset switch does), so changes
 * inside the period are lost, not delayed.  Thresholds differ per pixel
 * (Gaussian mismatch, clipped at 0.01).  Background activity is a Poisson
 * process of noise_hz per pixel (hot pixels: hot_hz more), random polarity,
 * independent of the reference and of the refractory period.  Events of one
 * step come out sorted by t (ties: raster order, signal before noise);
 * successive steps are later in time, so the whole output is sorted.
 * Deterministic for a seed.  docs/data.md has the details. */
typedef struct lt_dvs_opts {
    float c_on, c_off;     /* contrast thresholds, log units (default 0.2, 0.2) */
    float c_sigma;         /* per-pixel threshold mismatch, std in log units (default 0.03) */
    float eps;             /* L = log(I + eps) (default 0.01) */
    int64_t refractory_us; /* default 0 */
    double noise_hz;       /* background activity per pixel (default 0) */
    float hot_frac;        /* fraction of hot pixels, drawn per seed (default 0) */
    double hot_hz;         /* their rate, on top of noise_hz (default 200) */
    uint64_t seed;         /* mismatch, hot pixels and noise (default 1) */
} lt_dvs_opts;

typedef struct lt_dvs_event {
    int64_t t;
    uint16_t x, y;
    uint8_t p;
} lt_dvs_event;

/* Simulator state for one sensor; fields are private to dvssim.c. */
typedef struct lt_dvs {
    int W, H;
    lt_dvs_opts o;
    float *ref;          /* [H, W] reference log level */
    float *prev;         /* [H, W] log level of the previous frame */
    float *cur;          /* [H, W] scratch: log level of the frame being stepped to */
    float *thr_on;       /* [H, W] per-pixel ON threshold */
    float *thr_off;      /* [H, W] per-pixel OFF threshold */
    int64_t *t_last;     /* [H, W] time of the pixel's last signal event */
    uint32_t *hot;       /* [n_hot] indices of hot pixels */
    size_t n_hot;
    int64_t t_prev;      /* time of the previous frame */
    int started;
    double t_noise;      /* time of the next background event (us) */
    lt_rng rng;
    lt_dvs_event *buf, *tmp; /* one step's events, and merge-sort scratch */
    size_t buf_n, buf_cap;
} lt_dvs;

void lt_dvs_opts_default(lt_dvs_opts *o);
lt_status lt_dvs_init(lt_dvs *s, int W, int H, const lt_dvs_opts *o, lt_err *err);
/* Re-draw mismatch, hot pixels and noise from a new seed and forget the
 * frames seen (the next frame is a first frame again); keeps the memory. */
void lt_dvs_reset(lt_dvs *s, uint64_t seed);
/* New options (seed included) for the same sensor size; then as lt_dvs_reset. */
lt_status lt_dvs_reconfigure(lt_dvs *s, const lt_dvs_opts *o, lt_err *err);
void lt_dvs_free(lt_dvs *s);
/* The first frame sets the references; it emits nothing. */
void lt_dvs_start(lt_dvs *s, const float *img, int64_t t);
/* Append the events of (t_prev, t] to out.  t must exceed the previous frame's. */
lt_status lt_dvs_step(lt_dvs *s, lt_events *out, const float *img, int64_t t, lt_err *err);
/* The same with frames already in log units (L = log(I + eps) computed by the caller). */
void lt_dvs_start_log(lt_dvs *s, const float *logimg, int64_t t);
lt_status lt_dvs_step_log(lt_dvs *s, lt_events *out, const float *logimg, int64_t t, lt_err *err);
/* A whole sequence: frames [n, H, W] at ts[n] (increasing); appends to out. */
lt_status lt_dvs_simulate(lt_events *out, const float *frames, const int64_t *ts, size_t n, int W, int H,
                          const lt_dvs_opts *o, lt_err *err);

/* ---- built-in demo data: deterministic synthetic event-camera samples,
 * turned into frames by the same binner as real recordings ----
 * Ten classes of a random textured shape in motion, told apart only by the
 * sense of the motion: 0 right, 1 left, 2 down, 3 up (translation),
 * 4 cw, 5 ccw (a textured bar or cross spinning), 6 expand, 7 contract (a
 * textured disc, square or ring zooming), 8 down-right, 9 up-left (diagonal
 * translation).  Each
 * class's partner (0/1, 2/3, ...) is its time reverse, and the object's
 * contrast sign is random, so per-pixel event counts summed over time carry
 * (almost) nothing about which of the pair a sample is: only the temporal
 * order does.  Position, size, texture, speed, start and end times, sensor
 * threshold mismatch, background activity and hot pixels vary per sample.
 * Each sample is rendered at max(4T, 40) + 1 instants over 100 ms, run
 * through the DVS simulator and binned into T equal-time binary frames [T, 2, H, W]
 * (lt_bin_events), stored bit-packed.  Sample i has label i % 10 and its own
 * RNG seeded from (seed, i), so the bytes do not depend on the thread count.
 * Defaults: n 5000, T 10, H = W = 32, seed 1; the test split is the same
 * with n 1000 and seed 2 (lt_demo_opts_split).  Geometry scales with
 * min(H, W) / 32.  The default train split takes about 3 s of CPU time,
 * spread over the threads.  docs/data.md has the numbers and why a linear
 * model on time-summed counts fails on it. */
typedef struct lt_demo_opts {
    size_t n;        /* samples */
    int T, H, W;     /* frames produced through the event binner */
    uint64_t seed;   /* train and test splits use different seeds */
} lt_demo_opts;

#define LT_DEMO_CLASSES 10
#define LT_DEMO_DURATION_US 100000
void lt_demo_opts_default(lt_demo_opts *o);
/* The defaults for one split: train (n 5000, seed 1) or test (n 1000, seed 2). */
void lt_demo_opts_split(lt_demo_opts *o, int train);
const char *lt_demo_class_name(int k); /* "right", "left", ...; NULL out of range */
lt_status lt_demo_make(lt_dataset *d, const lt_demo_opts *o, lt_err *err);
/* One sample's events (sensor H x W, t in [0, LT_DEMO_DURATION_US]), sorted by t,
 * appended to out; *label gets its class.  What lt_demo_make bins. */
lt_status lt_demo_events(lt_events *out, int32_t *label, const lt_demo_opts *o, size_t i, lt_err *err);

/* ---- Fashion-MNIST (gzipped IDX from /usr/share/datasets/fashion-mnist) ----
 * static: the analog 1x28x28 image (8 bits, scale 1/255) fed at every step (Ts = 1);
 * neuromorphic: the DVS simulator moves each image through three saccades
 * (as N-MNIST was recorded) and the events are binned into T binary 2-channel frames.
 * The neuromorphic recording: the 28x28 image, centred on a H x W sensor
 * (default 34x34), is rendered with bilinear interpolation at render_hz while
 * its offset follows three 100 ms saccades around a triangle, (0,-2) ->
 * (+3,+2) -> (-3,+2) -> (0,-2) pixels (x right, y down), each with a cosine
 * velocity profile, on a dark screen (pixel value v gives intensity
 * 0.1 + 0.9 v / 255); 300 ms per sample, binned into T equal-time frames. */
typedef enum lt_fmnist_mode { LT_FMNIST_STATIC = 0, LT_FMNIST_NEURO } lt_fmnist_mode;

typedef struct lt_fmnist_opts {
    lt_fmnist_mode mode;
    int T;            /* neuromorphic: frames per sample (default 10) */
    int H, W;         /* neuromorphic: frame size (default 34x34 like N-MNIST) */
    size_t limit;     /* 0 = all samples */
    uint64_t seed;    /* simulator noise */
    int threads;      /* 0 = library default */
    /* added (neuromorphic only) */
    int render_hz;    /* rendering rate (default 1000) */
    lt_dvs_opts dvs;  /* simulator options (default: lt_dvs_opts_default with
                       * refractory 1 ms and noise 0.1 Hz; seed ignored: sample i
                       * uses (seed, i)) */
    float contrast_step; /* from halfway through each recording the image's contrast over the
                          * background is multiplied by this (1: none, the default): input whose
                          * statistics change within a sample */
} lt_fmnist_opts;

#define LT_FMNIST_DIR "/usr/share/datasets/fashion-mnist"
#define LT_FMNIST_CLASSES 10
#define LT_FMNIST_DURATION_US 300000

void lt_fmnist_opts_default(lt_fmnist_opts *o);
const char *lt_fmnist_class_name(int k); /* "t-shirt/top", ...; NULL out of range */
/* root: folder with {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz; train: 1 train split, 0 test. */
lt_status lt_fmnist_make(lt_dataset *d, const char *root, int train, const lt_fmnist_opts *o,
                         void (*progress)(void *ctx, size_t done, size_t total), void *ctx, lt_err *err);
/* One image (28x28 bytes) through the saccades and the simulator: events on
 * the o->H x o->W sensor, sorted by t in [0, LT_FMNIST_DURATION_US], appended
 * to out.  `seed` seeds the simulator. */
lt_status lt_fmnist_saccade_events(lt_events *out, const uint8_t *img28, const lt_fmnist_opts *o, uint64_t seed,
                                   lt_err *err);
/* The neuromorphic samples as ATIS .bin recordings in N-MNIST's layout,
 * OUT/Train|Test/<label>/<NNNNN>.bin (NNNNN: 1-based index in the IDX file),
 * folders created as needed; the same events lt_fmnist_make bins (same seed),
 * so `ltsnn data prepare` on OUT as n-mnist reproduces its frames.
 * o->limit, o->threads as for lt_fmnist_make; o->mode is ignored. */
lt_status lt_fmnist_write_bin(const char *out_root, const char *root, int train, const lt_fmnist_opts *o,
                              void (*progress)(void *ctx, size_t done, size_t total), void *ctx, lt_err *err);

#ifdef __cplusplus
}
#endif
#endif
