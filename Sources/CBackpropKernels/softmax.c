// Row-wise log-softmax and the fused softmax cross-entropy. Each row is shifted by its maximum
// before exponentiating, so logits of ±1e4 give finite results.
#include "internal.h"

#pragma clang fp reassociate(on)

BP_VECTOR static float row_max(int64_t n, const float *BP_RESTRICT x) {
    float m = x[0];
    for (int64_t i = 1; i < n; i++) m = __builtin_fmaxf(m, x[i]);
    return m;
}

BP_VECTOR static float row_log_sum_exp_shifted(int64_t n, const float *BP_RESTRICT x, float shift) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += bp_expf(x[i] - shift);
    return bp_logf(sum);
}

void bp_log_softmax(int64_t rows, int64_t classes, const float *x, float *y) {
    for (int64_t r = 0; r < rows; r++) {
        const float *in = x + r * classes;
        float *out = y + r * classes;
        float m = row_max(classes, in);
        float lse = row_log_sum_exp_shifted(classes, in, m);
        for (int64_t i = 0; i < classes; i++) out[i] = in[i] - m - lse;
    }
}

void bp_log_softmax_backward(int64_t rows, int64_t classes, const float *y, const float *dy, float *dx,
                             int accumulate) {
    for (int64_t r = 0; r < rows; r++) {
        const float *yr = y + r * classes, *gr = dy + r * classes;
        float *out = dx + r * classes;
        float total = 0.0f;
        for (int64_t i = 0; i < classes; i++) total += gr[i];
        if (accumulate) { for (int64_t i = 0; i < classes; i++) out[i] += gr[i] - bp_expf(yr[i]) * total; }
        else { for (int64_t i = 0; i < classes; i++) out[i] = gr[i] - bp_expf(yr[i]) * total; }
    }
}

static int label_is_valid(float label, int64_t classes) {
    return label >= 0.0f && label < (float)classes && label == __builtin_floorf(label);
}

int64_t bp_softmax_cross_entropy(int64_t rows, int64_t classes, const float *logits, const float *labels,
                                 float *probabilities, float *loss) {
    double total = 0.0;
    for (int64_t r = 0; r < rows; r++) {
        if (!label_is_valid(labels[r], classes)) return r;
        const float *in = logits + r * classes;
        float *p = probabilities + r * classes;
        float m = row_max(classes, in);
        float sum = 0.0f;
        for (int64_t i = 0; i < classes; i++) { p[i] = bp_expf(in[i] - m); sum += p[i]; }
        float inverse = 1.0f / sum;
        for (int64_t i = 0; i < classes; i++) p[i] *= inverse;
        int64_t label = (int64_t)labels[r];
        total += (double)(m + bp_logf(sum) - in[label]);
    }
    *loss = rows > 0 ? (float)(total / (double)rows) : 0.0f;
    return -1;
}

void bp_softmax_cross_entropy_backward(int64_t rows, int64_t classes, const float *probabilities,
                                       const float *labels, float scale, float *dx, int accumulate) {
    for (int64_t r = 0; r < rows; r++) {
        const float *p = probabilities + r * classes;
        float *out = dx + r * classes;
        int64_t label = (int64_t)labels[r];
        if (accumulate) {
            for (int64_t i = 0; i < classes; i++) out[i] += scale * p[i];
        } else {
            for (int64_t i = 0; i < classes; i++) out[i] = scale * p[i];
        }
        out[label] -= scale;
    }
}
