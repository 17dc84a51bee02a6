// A convolution with few input channels followed by max pooling, in one pass: the first layer of an
// image classifier (conv → max pool). The convolution's output is never stored: each pooled output
// is the maximum of its window's convolution values, computed in registers, and a byte records which
// window position won. The backward pass needs only the weight and bias gradients (the images need
// none): each pooled gradient goes to the winning position's patch, so it reads the 4× smaller pooled
// map instead of a full-size gradient that oneDNN's pooling backward would write and its
// convolution backward-weights read. Outputs are in the channel-blocked layout (nChw16c / nChw8c).
#include "internal.h"
#include <stdlib.h>

// *target += value for a vector `value` stored at an unaligned float pointer.
#define BP_ADD_TO(target, value)                                                                                      \
    do {                                                                                                              \
        __typeof__(value) sum_;                                                                                       \
        memcpy(&sum_, (target), sizeof sum_);                                                                         \
        sum_ += (value);                                                                                              \
        memcpy((target), &sum_, sizeof sum_);                                                                         \
    } while (0)

// Columns of pooled outputs computed together (independent FMA chains).
#define BP_COLUMNS 8

typedef struct {
    const bp_conv_pool_shape *s;
    const float *padded; // NHWC input with the convolution's padding as zeros: [N, Hp, Wp, C]
    int64_t padded_h, padded_w;
    const float *weight, *bias;
    float *output;
    uint8_t *argmax;            // forward: written
    const uint8_t *winners;     // backward: the forward's argmax
    const float *output_gradient;
    float *partials; // per range: weight gradient then bias gradient, at slot `begin`
    int64_t partial_size;
    const int64_t *offsets; // tap_offsets
    int64_t taps;
} conv_pool_job;

// The zero-padded copy of the input the kernels read without bounds checks.
static float *pad_input(const bp_conv_pool_shape *s, const float *input, int64_t *padded_h, int64_t *padded_w) {
    int64_t rows = (s->pooled_h * s->pool_h - 1) * s->stride_h + (s->kernel_h - 1) * s->dilation_h + 1;
    int64_t columns = (s->pooled_w * s->pool_w - 1) * s->stride_w + (s->kernel_w - 1) * s->dilation_w + 1;
    int64_t hp = rows > s->pad_top + s->height ? rows : s->pad_top + s->height;
    int64_t wp = columns > s->pad_left + s->width ? columns : s->pad_left + s->width;
    int64_t c = s->in_channels;
    float *padded = calloc((size_t)(s->batch * hp * wp * c), sizeof(float));
    if (!padded) return 0;
    for (int64_t n = 0; n < s->batch; n++)
        for (int64_t h = 0; h < s->height; h++)
            memcpy(padded + ((n * hp + h + s->pad_top) * wp + s->pad_left) * c, input + (n * s->height + h) * s->width * c,
                   (size_t)(s->width * c) * sizeof(float));
    *padded_h = hp;
    *padded_w = wp;
    return padded;
}

// Offsets of each tap (kh, kw, c) from a window's top-left element in the padded input, padded with
// zeros to a multiple of BP_TAP_CHUNK (the extra taps read a real element; their sums are dropped).
#define BP_TAP_CHUNK 9
static int64_t *tap_offsets(const bp_conv_pool_shape *s, int64_t padded_w, int64_t *count) {
    const int64_t taps = s->kernel_h * s->kernel_w * s->in_channels;
    const int64_t padded = (taps + BP_TAP_CHUNK - 1) / BP_TAP_CHUNK * BP_TAP_CHUNK;
    int64_t *offsets = calloc((size_t)padded, sizeof(int64_t));
    if (!offsets) return 0;
    int64_t t = 0;
    for (int64_t kh = 0; kh < s->kernel_h; kh++)
        for (int64_t kw = 0; kw < s->kernel_w; kw++)
            for (int64_t c = 0; c < s->in_channels; c++)
                offsets[t++] = (kh * s->dilation_h * padded_w + kw * s->dilation_w) * s->in_channels + c;
    *count = taps;
    return offsets;
}

// The locals of one forward item (n, channel block cb, pooled row ph): the block's bias and
// weights, the image (`channels` per pixel) and where the item's pooled outputs start.
#define BP_FORWARD_ITEM(B, channels)                                                                                  \
    const int64_t ph = item % s->pooled_h, cb = item / s->pooled_h % blocks, n = item / s->pooled_h / blocks;         \
    v##B bias = 0;                                                                                                   \
    if (job->bias) memcpy(&bias, job->bias + cb * B, sizeof bias);                                                  \
    const float *w = job->weight + cb * B;                                                                           \
    const float *image = job->padded + n * hp * wp * (channels);                                                     \
    const int64_t out_base = ((n * blocks + cb) * s->pooled_h + ph) * s->pooled_w;

// One version per channel block B (16: AVX-512 registers, 8: AVX2), each multi-versioned.
#define BP_CONV_POOL_KERNELS(B)                                                                                       \
    typedef float v##B __attribute__((ext_vector_type(B)));                                                         \
    typedef int32_t i##B __attribute__((ext_vector_type(B)));                                                        \
    typedef uint8_t u##B __attribute__((ext_vector_type(B)));                                                        \
                                                                                                                      \
    /* Items are (n, channel block, pooled row); BP_COLUMNS pooled columns at a time. */                            \
    BP_VECTOR static void forward_range_##B(void *context, int64_t begin, int64_t end) {                            \
        const conv_pool_job *job = context;                                                                          \
        const bp_conv_pool_shape *s = job->s;                                                                        \
        const int64_t blocks = s->out_channels / B, ic = s->in_channels, oc = s->out_channels;                      \
        const int64_t wp = job->padded_w, hp = job->padded_h, window = s->pool_h * s->pool_w, taps = job->taps;      \
        const int64_t *offsets = job->offsets;                                                                       \
        for (int64_t item = begin; item < end; item++) {                                                             \
            BP_FORWARD_ITEM(B, ic)                                                                                   \
            for (int64_t pw0 = 0; pw0 < s->pooled_w; pw0 += BP_COLUMNS) {                                            \
                v##B best[BP_COLUMNS];                                                                               \
                i##B winner[BP_COLUMNS];                                                                             \
                for (int64_t q = 0; q < window; q++) {                                                               \
                    const int64_t oh = ph * s->pool_h + q / s->pool_w;                                               \
                    v##B acc[BP_COLUMNS];                                                                            \
                    const float *x[BP_COLUMNS];                                                                      \
                    for (int p = 0; p < BP_COLUMNS; p++) {                                                           \
                        acc[p] = bias;                                                                               \
                        const int64_t column = pw0 + p < s->pooled_w ? pw0 + p : s->pooled_w - 1;                    \
                        const int64_t ow = column * s->pool_w + q % s->pool_w;                                       \
                        x[p] = image + (oh * s->stride_h * wp + ow * s->stride_w) * ic;                              \
                    }                                                                                                \
                    for (int64_t t = 0; t < taps; t++) {                                                             \
                        v##B wv;                                                                                     \
                        memcpy(&wv, w + t * oc, sizeof wv);                                                          \
                        const int64_t offset = offsets[t];                                                           \
                        for (int p = 0; p < BP_COLUMNS; p++) acc[p] += x[p][offset] * wv;                            \
                    }                                                                                                \
                    for (int p = 0; p < BP_COLUMNS; p++) {                                                           \
                        if (q == 0) {                                                                                \
                            best[p] = acc[p];                                                                        \
                            winner[p] = 0;                                                                           \
                        } else {                                                                                     \
                            /* Strictly greater: the first maximum wins; a NaN never replaces. */                   \
                            i##B greater = acc[p] > best[p];                                                         \
                            best[p] = greater ? acc[p] : best[p];                                                    \
                            winner[p] = greater ? (i##B)(int32_t)q : winner[p];                                      \
                        }                                                                                            \
                    }                                                                                                \
                }                                                                                                    \
                for (int p = 0; p < BP_COLUMNS && pw0 + p < s->pooled_w; p++) {                                      \
                    memcpy(job->output + (out_base + pw0 + p) * B, &best[p], sizeof best[p]);                        \
                    const u##B bytes = __builtin_convertvector(winner[p], u##B);                                     \
                    memcpy(job->argmax + (out_base + pw0 + p) * B, &bytes, sizeof bytes);                            \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
    }                                                                                                                \
                                                                                                                      \
    /* Items are images; each range sums into its own partial gradient, BP_TAP_CHUNK taps of one */                 \
    /* channel block at a time in registers over all of an image's pooled positions. */                            \
    BP_VECTOR static void backward_range_##B(void *context, int64_t begin, int64_t end) {                           \
        const conv_pool_job *job = context;                                                                          \
        const bp_conv_pool_shape *s = job->s;                                                                        \
        const int64_t blocks = s->out_channels / B, ic = s->in_channels, taps = job->taps;                           \
        const int64_t wp = job->padded_w, hp = job->padded_h, window = s->pool_h * s->pool_w;                        \
        const int64_t positions = s->pooled_h * s->pooled_w;                                                         \
        float *slot = job->partials + begin * job->partial_size;                                                     \
        float *bias_slot = slot + taps * s->out_channels;                                                            \
        for (int64_t n = begin; n < end; n++) {                                                                      \
            const float *image = job->padded + n * hp * wp * ic;                                                     \
            for (int64_t cb = 0; cb < blocks; cb++) {                                                                \
                const int64_t base = (n * blocks + cb) * positions;                                                  \
                v##B db = 0;                                                                                         \
                for (int64_t i = 0; i < positions; i++) {                                                            \
                    v##B g;                                                                                          \
                    memcpy(&g, job->output_gradient + (base + i) * B, sizeof g);                                     \
                    db += g;                                                                                         \
                }                                                                                                    \
                BP_ADD_TO(bias_slot + cb * B, db);                                                                   \
                for (int64_t t0 = 0; t0 < taps; t0 += BP_TAP_CHUNK) {                                                \
                    const int64_t *offsets = job->offsets + t0;                                                      \
                    v##B acc[BP_TAP_CHUNK];                                                                          \
                    for (int t = 0; t < BP_TAP_CHUNK; t++) acc[t] = 0;                                               \
                    for (int64_t i = 0; i < positions; i++) {                                                        \
                        const int64_t ph = i / s->pooled_w, pw = i % s->pooled_w;                                    \
                        v##B g;                                                                                      \
                        memcpy(&g, job->output_gradient + (base + i) * B, sizeof g);                                 \
                        u##B bytes;                                                                                  \
                        memcpy(&bytes, job->winners + (base + i) * B, sizeof bytes);                                 \
                        const i##B winner = __builtin_convertvector(bytes, i##B);                                    \
                        for (int64_t q = 0; q < window; q++) {                                                       \
                            const v##B share = winner == (i##B)(int32_t)q ? g : (v##B)0;                             \
                            const int64_t oh = ph * s->pool_h + q / s->pool_w, ow = pw * s->pool_w + q % s->pool_w; \
                            const float *x = image + (oh * s->stride_h * wp + ow * s->stride_w) * ic;                \
                            for (int t = 0; t < BP_TAP_CHUNK; t++) acc[t] += x[offsets[t]] * share;                  \
                        }                                                                                            \
                    }                                                                                                \
                    for (int t = 0; t < BP_TAP_CHUNK && t0 + t < taps; t++) {                                        \
                        float *target = slot + (t0 + t) * s->out_channels + cb * B;                                  \
                        BP_ADD_TO(target, acc[t]);                                                                   \
                    }                                                                                                \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
        slot[job->partial_size - 1] = (float)(end - begin); /* images summed */                                     \
    }

BP_CONV_POOL_KERNELS(16)
BP_CONV_POOL_KERNELS(8)

// Register-blocked paths for 1 or 3 input channels (grayscale and RGB first layers), stride and
// dilation 1, 2×2 windows; IC is a constant, so every input sits at a fixed distance from a row
// pointer.
#define BP_CONV_POOL_NARROW(B, IC)                                                                                    \
    /* IC input channels (1: grayscale, 3: RGB), stride and dilation 1, 2×2 windows: the four positions */           \
    /* of 4 windows in 16 registers, their inputs at fixed distances from two row pointers. */                       \
    BP_VECTOR static void forward_narrow_range_##B##_##IC(void *context, int64_t begin, int64_t end) {               \
        const conv_pool_job *job = context;                                                                          \
        const bp_conv_pool_shape *s = job->s;                                                                        \
        const int64_t blocks = s->out_channels / B, oc = s->out_channels;                                            \
        const int64_t wp = job->padded_w, hp = job->padded_h;                                                        \
        for (int64_t item = begin; item < end; item++) {                                                             \
            BP_FORWARD_ITEM(B, IC)                                                                                   \
            for (int64_t pw0 = 0; pw0 < s->pooled_w; pw0 += 4) {                                                     \
                /* The last group starts further left when fewer than 4 windows remain (recomputed twice). */        \
                const int64_t first = pw0 + 4 <= s->pooled_w ? pw0 : (s->pooled_w >= 4 ? s->pooled_w - 4 : 0);       \
                const int64_t columns = s->pooled_w - first < 4 ? s->pooled_w - first : 4;                           \
                v##B acc[16];                                                                                        \
                for (int k = 0; k < 16; k++) acc[k] = bias;                                                          \
                for (int64_t kh = 0; kh < s->kernel_h; kh++) {                                                       \
                    for (int64_t kw = 0; kw < s->kernel_w; kw++) {                                                   \
                        const float *r0 = image + ((2 * ph + kh) * wp + 2 * first + kw) * IC, *r1 = r0 + wp * IC;    \
                        for (int c = 0; c < IC; c++) {                                                               \
                            v##B wv;                                                                                 \
                            memcpy(&wv, w + ((kh * s->kernel_w + kw) * IC + c) * oc, sizeof wv);                     \
                            if (columns == 4) {                                                                      \
                                for (int p = 0; p < 4; p++) {                                                        \
                                    acc[4 * p] += r0[2 * p * IC + c] * wv;                                           \
                                    acc[4 * p + 1] += r0[(2 * p + 1) * IC + c] * wv;                                 \
                                    acc[4 * p + 2] += r1[2 * p * IC + c] * wv;                                       \
                                    acc[4 * p + 3] += r1[(2 * p + 1) * IC + c] * wv;                                 \
                                }                                                                                    \
                            } else {                                                                                 \
                                for (int p = 0; p < columns; p++) {                                                  \
                                    acc[4 * p] += r0[2 * p * IC + c] * wv;                                           \
                                    acc[4 * p + 1] += r0[(2 * p + 1) * IC + c] * wv;                                 \
                                    acc[4 * p + 2] += r1[2 * p * IC + c] * wv;                                       \
                                    acc[4 * p + 3] += r1[(2 * p + 1) * IC + c] * wv;                                 \
                                }                                                                                    \
                            }                                                                                        \
                        }                                                                                            \
                    }                                                                                                \
                }                                                                                                    \
                for (int p = 0; p < columns; p++) {                                                                  \
                    v##B best = acc[4 * p];                                                                          \
                    i##B winner = 0;                                                                                 \
                    for (int q = 1; q < 4; q++) { /* strictly greater: the first maximum wins, NaN never replaces */ \
                        i##B greater = acc[4 * p + q] > best;                                                        \
                        best = greater ? acc[4 * p + q] : best;                                                      \
                        winner = greater ? (i##B)(int32_t)q : winner;                                                \
                    }                                                                                                \
                    const u##B bytes = __builtin_convertvector(winner, u##B);                                        \
                    memcpy(job->output + (out_base + first + p) * B, &best, sizeof best);                            \
                    memcpy(job->argmax + (out_base + first + p) * B, &bytes, sizeof bytes);                          \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
    }                                                                                                                \
                                                                                                                     \
    /* The 3×3, 2×2-window case of backward_range for IC channels: one channel's nine taps at a time in */           \
    /* registers, each window's 4×4 input patch read at fixed distances from four row pointers. */                   \
    BP_VECTOR static void backward_narrow3_range_##B##_##IC(void *context, int64_t begin, int64_t end) {             \
        const conv_pool_job *job = context;                                                                          \
        const bp_conv_pool_shape *s = job->s;                                                                        \
        const int64_t blocks = s->out_channels / B, wp = job->padded_w, hp = job->padded_h;                          \
        const int64_t positions = s->pooled_h * s->pooled_w;                                                         \
        float *slot = job->partials + begin * job->partial_size;                                                     \
        float *bias_slot = slot + 9 * IC * s->out_channels;                                                          \
        for (int64_t n = begin; n < end; n++) {                                                                      \
            const float *image = job->padded + n * hp * wp * IC;                                                     \
            for (int64_t cb = 0; cb < blocks; cb++) {                                                                \
                const int64_t base = (n * blocks + cb) * positions;                                                  \
                v##B db = 0;                                                                                         \
                for (int c = 0; c < IC; c++) {                                                                       \
                    v##B acc[9];                                                                                     \
                    for (int t = 0; t < 9; t++) acc[t] = 0;                                                          \
                    for (int64_t i = 0; i < positions; i++) {                                                        \
                        const int64_t ph = i / s->pooled_w, pw = i % s->pooled_w;                                    \
                        v##B g;                                                                                      \
                        memcpy(&g, job->output_gradient + (base + i) * B, sizeof g);                                 \
                        if (c == 0) db += g;                                                                         \
                        u##B bytes;                                                                                  \
                        memcpy(&bytes, job->winners + (base + i) * B, sizeof bytes);                                 \
                        const i##B winner = __builtin_convertvector(bytes, i##B);                                    \
                        v##B share[4];                                                                               \
                        for (int q = 0; q < 4; q++) share[q] = winner == (i##B)(int32_t)q ? g : (v##B)0;             \
                        const float *row[4];                                                                         \
                        row[0] = image + (2 * ph * wp + 2 * pw) * IC + c;                                            \
                        for (int a = 1; a < 4; a++) row[a] = row[a - 1] + wp * IC;                                   \
                        for (int kh = 0; kh < 3; kh++)                                                               \
                            for (int kw = 0; kw < 3; kw++)                                                           \
                                acc[kh * 3 + kw] += row[kh][kw * IC] * share[0] + row[kh][(kw + 1) * IC] * share[1] + \
                                                    row[kh + 1][kw * IC] * share[2] + row[kh + 1][(kw + 1) * IC] * share[3]; \
                    }                                                                                                \
                    for (int t = 0; t < 9; t++) { /* tap (kh, kw) of channel c is HWIO row t·IC + c */               \
                        float *target = slot + (t * IC + c) * s->out_channels + cb * B;                              \
                        BP_ADD_TO(target, acc[t]);                                                                   \
                    }                                                                                                \
                }                                                                                                    \
                BP_ADD_TO(bias_slot + cb * B, db);                                                                   \
            }                                                                                                        \
        }                                                                                                            \
        slot[job->partial_size - 1] = (float)(end - begin); /* images summed */                                      \
    }                                                                                                                \

BP_CONV_POOL_NARROW(16, 1)
BP_CONV_POOL_NARROW(16, 3)
BP_CONV_POOL_NARROW(8, 1)
BP_CONV_POOL_NARROW(8, 3)

// Whether the register-blocked paths apply: 1 or 3 channels, stride and dilation 1, 2×2 windows.
static int narrow(const bp_conv_pool_shape *s) {
    return (s->in_channels == 1 || s->in_channels == 3) && s->pool_h == 2 && s->pool_w == 2 && s->stride_h == 1 &&
           s->stride_w == 1 && s->dilation_h == 1 && s->dilation_w == 1;
}

// The padded input and tap table both passes read; returns 0 or 2 (out of memory).
static int prepare(conv_pool_job *job, const bp_conv_pool_shape *s, const float *input) {
    job->s = s;
    float *padded = pad_input(s, input, &job->padded_h, &job->padded_w);
    int64_t *offsets = padded ? tap_offsets(s, job->padded_w, &job->taps) : 0;
    if (!offsets) {
        free(padded);
        return 2;
    }
    job->padded = padded;
    job->offsets = offsets;
    return 0;
}

static void release(conv_pool_job *job) {
    free((void *)job->padded);
    free((void *)job->offsets);
}

int bp_conv_maxpool_forward(const bp_conv_pool_shape *s, const float *input, const float *weight, const float *bias,
                            float *output, uint8_t *argmax) {
    if (s->block != 16 && s->block != 8) return 1;
    conv_pool_job job = {.weight = weight, .bias = bias, .output = output, .argmax = argmax};
    if (prepare(&job, s, input)) return 2;
    int64_t items = s->batch * (s->out_channels / s->block) * s->pooled_h;
    bp_range_fn kernel = s->block == 16 ? forward_range_16 : forward_range_8;
    if (narrow(s)) {
        if (s->in_channels == 1) kernel = s->block == 16 ? forward_narrow_range_16_1 : forward_narrow_range_8_1;
        else kernel = s->block == 16 ? forward_narrow_range_16_3 : forward_narrow_range_8_3;
    }
    bp_parallel_for(items, 1, kernel, &job);
    release(&job);
    return 0;
}

int bp_conv_maxpool_backward_weights(const bp_conv_pool_shape *s, const float *input, const float *output_gradient,
                                     const uint8_t *argmax, float *weight_gradient, float *bias_gradient) {
    if (s->block != 16 && s->block != 8) return 1;
    conv_pool_job job = {.output_gradient = output_gradient, .winners = argmax};
    if (prepare(&job, s, input)) return 2;
    const int64_t weights = job.taps * s->out_channels;
    job.partial_size = weights + s->out_channels + 1;
    job.partials = calloc((size_t)(s->batch * job.partial_size), sizeof(float));
    if (!job.partials) {
        release(&job);
        return 2;
    }
    bp_range_fn kernel = s->block == 16 ? backward_range_16 : backward_range_8;
    if (narrow(s) && s->kernel_h == 3 && s->kernel_w == 3) {
        if (s->in_channels == 1) kernel = s->block == 16 ? backward_narrow3_range_16_1 : backward_narrow3_range_8_1;
        else kernel = s->block == 16 ? backward_narrow3_range_16_3 : backward_narrow3_range_8_3;
    }
    bp_parallel_for(s->batch, 1, kernel, &job);
    // Each range's partial sits at its first image; summed in image order, so the same thread
    // count gives the same bits.
    memset(weight_gradient, 0, (size_t)weights * sizeof(float));
    if (bias_gradient) memset(bias_gradient, 0, (size_t)s->out_channels * sizeof(float));
    for (int64_t begin = 0; begin < s->batch; begin++) {
        const float *slot = job.partials + begin * job.partial_size;
        if (slot[job.partial_size - 1] == 0) continue;
        for (int64_t i = 0; i < weights; i++) weight_gradient[i] += slot[i];
        if (bias_gradient)
            for (int64_t i = 0; i < s->out_channels; i++) bias_gradient[i] += slot[weights + i];
    }
    free(job.partials);
    release(&job);
    return 0;
}
