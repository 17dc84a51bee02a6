// Optimizer updates over flat parameter buffers: one pass each, split across the OpenMP threads.
#include "internal.h"

typedef struct {
    float *param, *m, *v;
    const float *grad;
    float lr, beta1, beta2, epsilon, c1, c2, momentum;
    int nesterov;
} update_job;

BP_VECTOR static void sgd_range(void *context, int64_t begin, int64_t end) {
    const update_job *job = (const update_job *)context;
    float *BP_RESTRICT p = job->param;
    const float *BP_RESTRICT g = job->grad;
    float *BP_RESTRICT velocity = job->m;
    const float lr = job->lr, mu = job->momentum;
    if (mu == 0.0f) {
        for (int64_t i = begin; i < end; i++) p[i] -= lr * g[i];
    } else if (job->nesterov) {
        for (int64_t i = begin; i < end; i++) { float v = mu * velocity[i] + g[i]; velocity[i] = v; p[i] -= lr * (g[i] + mu * v); }
    } else {
        for (int64_t i = begin; i < end; i++) { float v = mu * velocity[i] + g[i]; velocity[i] = v; p[i] -= lr * v; }
    }
}

void bp_sgd_update(int64_t n, float *param, const float *grad, float *velocity, float lr, float momentum,
                   int nesterov) {
    update_job job = {param, velocity, 0, grad, lr, 0, 0, 0, 0, 0, momentum, nesterov};
    bp_parallel_for(n, BP_PARALLEL_GRAIN, sgd_range, &job);
}

BP_VECTOR static void adam_range(void *context, int64_t begin, int64_t end) {
    const update_job *job = (const update_job *)context;
    float *BP_RESTRICT p = job->param;
    const float *BP_RESTRICT g = job->grad;
    float *BP_RESTRICT m = job->m;
    float *BP_RESTRICT v = job->v;
    const float b1 = job->beta1, b2 = job->beta2, eps = job->epsilon;
    const float step = job->lr / job->c1, inverse_c2 = 1.0f / job->c2;
    for (int64_t i = begin; i < end; i++) {
        float gi = g[i];
        float mi = b1 * m[i] + (1.0f - b1) * gi;
        float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= step * mi / (__builtin_elementwise_sqrt(vi * inverse_c2) + eps);
    }
}

void bp_adam_update(int64_t n, float *param, const float *grad, float *m, float *v, float lr, float beta1,
                    float beta2, float epsilon, float c1, float c2) {
    update_job job = {param, m, v, grad, lr, beta1, beta2, epsilon, c1, c2, 0, 0};
    bp_parallel_for(n, BP_PARALLEL_GRAIN, adam_range, &job);
}
