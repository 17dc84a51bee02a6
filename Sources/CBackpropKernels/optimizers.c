// Optimizer updates over flat parameter buffers: one pass each, split across the OpenMP threads.
// Each rule's loop is written out on its own so it vectorizes (no rule switch inside the loop).
#include "internal.h"
#include <math.h>

typedef struct {
    const bp_update *u;
    float *p, *s1, *s2, *s3;
    const float *g;
} update_job;

#define BP_GRAD(i) (g[i] + wd * p[i])

BP_VECTOR static void sgd_range(const update_job *job, int64_t begin, int64_t end) {
    float *BP_RESTRICT p = job->p;
    const float *BP_RESTRICT g = job->g;
    float *BP_RESTRICT velocity = job->s1;
    const float lr = job->u->learning_rate, mu = job->u->momentum, wd = job->u->weight_decay;
    if (mu == 0.0f) {
        for (int64_t i = begin; i < end; i++) p[i] -= lr * BP_GRAD(i);
    } else if (job->u->nesterov) {
        for (int64_t i = begin; i < end; i++) { float gi = BP_GRAD(i); float v = mu * velocity[i] + gi; velocity[i] = v; p[i] -= lr * (gi + mu * v); }
    } else {
        for (int64_t i = begin; i < end; i++) { float v = mu * velocity[i] + BP_GRAD(i); velocity[i] = v; p[i] -= lr * v; }
    }
}

BP_VECTOR static void adagrad_range(const update_job *job, int64_t begin, int64_t end) {
    float *BP_RESTRICT p = job->p;
    const float *BP_RESTRICT g = job->g;
    float *BP_RESTRICT sum = job->s1;
    const float lr = job->u->learning_rate, eps = job->u->epsilon, wd = job->u->weight_decay;
    for (int64_t i = begin; i < end; i++) {
        float gi = BP_GRAD(i);
        float s = sum[i] + gi * gi;
        sum[i] = s;
        p[i] -= lr * gi / (__builtin_elementwise_sqrt(s) + eps);
    }
}

BP_VECTOR static void rmsprop_range(const update_job *job, int64_t begin, int64_t end) {
    float *BP_RESTRICT p = job->p;
    const float *BP_RESTRICT g = job->g;
    float *BP_RESTRICT square = job->s1;
    float *BP_RESTRICT buffer = job->s2;
    float *BP_RESTRICT average = job->s3;
    const float lr = job->u->learning_rate, eps = job->u->epsilon, wd = job->u->weight_decay;
    const float alpha = job->u->beta2, mu = job->u->momentum;
    const int centered = job->u->centered;
    for (int64_t i = begin; i < end; i++) {
        float gi = BP_GRAD(i);
        float v = alpha * square[i] + (1.0f - alpha) * gi * gi;
        square[i] = v;
        float variance = v;
        if (centered) {
            float mean = alpha * average[i] + (1.0f - alpha) * gi;
            average[i] = mean;
            variance = v - mean * mean;
        }
        float step = gi / (__builtin_elementwise_sqrt(variance) + eps);
        if (mu > 0.0f) {
            float b = mu * buffer[i] + step;
            buffer[i] = b;
            step = b;
        }
        p[i] -= lr * step;
    }
}

BP_VECTOR static void adam_range(const update_job *job, int64_t begin, int64_t end) {
    float *BP_RESTRICT p = job->p;
    const float *BP_RESTRICT g = job->g;
    float *BP_RESTRICT m = job->s1;
    float *BP_RESTRICT v = job->s2;
    float *BP_RESTRICT vmax = job->s3;
    const bp_update *u = job->u;
    const float b1 = u->beta1, b2 = u->beta2, eps = u->epsilon;
    const float step = u->learning_rate / u->bias_correction1, inverse_c2 = 1.0f / u->bias_correction2;
    const float wd = u->decoupled ? 0.0f : u->weight_decay;
    const float shrink = u->decoupled ? 1.0f - u->learning_rate * u->weight_decay : 1.0f;
    if (u->amsgrad) {
        for (int64_t i = begin; i < end; i++) {
            float gi = BP_GRAD(i);
            float mi = b1 * m[i] + (1.0f - b1) * gi;
            float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
            float top = __builtin_fmaxf(vmax[i], vi);
            m[i] = mi;
            v[i] = vi;
            vmax[i] = top;
            p[i] = shrink * p[i] - step * mi / (__builtin_elementwise_sqrt(top * inverse_c2) + eps);
        }
    } else {
        for (int64_t i = begin; i < end; i++) {
            float gi = BP_GRAD(i);
            float mi = b1 * m[i] + (1.0f - b1) * gi;
            float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] = shrink * p[i] - step * mi / (__builtin_elementwise_sqrt(vi * inverse_c2) + eps);
        }
    }
}

static void update_slice(void *context, int64_t begin, int64_t end) {
    const update_job *job = (const update_job *)context;
    switch (job->u->rule) {
    case BP_RULE_SGD: sgd_range(job, begin, end); break;
    case BP_RULE_ADAGRAD: adagrad_range(job, begin, end); break;
    case BP_RULE_RMSPROP: rmsprop_range(job, begin, end); break;
    case BP_RULE_ADAM: adam_range(job, begin, end); break;
    }
}

void bp_optimizer_update(const bp_update *update, int64_t n, float *param, const float *grad, float *state1,
                         float *state2, float *state3) {
    update_job job = {update, param, state1, state2, state3, grad};
    bp_parallel_for(n, BP_PARALLEL_GRAIN, update_slice, &job);
}

BP_VECTOR void bp_clip_values(int64_t n, float *grad, float limit) {
    float *BP_RESTRICT g = grad;
    for (int64_t i = 0; i < n; i++) g[i] = __builtin_fminf(__builtin_fmaxf(g[i], -limit), limit);
}

#pragma clang fp reassociate(on)
BP_VECTOR static float sum_squares_block(int64_t n, const float *BP_RESTRICT x) {
    float sum = 0.0f;
    for (int64_t i = 0; i < n; i++) sum += x[i] * x[i];
    return sum;
}

double bp_sum_of_squares(int64_t n, const float *x) {
    // Float blocks summed in double: fast and accurate enough for a norm.
    double total = 0.0;
    for (int64_t start = 0; start < n; start += 4096) {
        int64_t count = n - start < 4096 ? n - start : 4096;
        total += sum_squares_block(count, x + start);
    }
    return total;
}
