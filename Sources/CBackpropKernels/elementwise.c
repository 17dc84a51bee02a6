// Elementwise kernels: unary ops with their derivatives, broadcasting binary ops, fill and scale.
#include "internal.h"
#include <math.h>

// MARK: - Unary

typedef struct {
    bp_unary_op op;
    const float *x, *y, *dy;
    float *out;
    float a, b;
    int accumulate;
} unary_job;

BP_VECTOR static void unary_range(const unary_job *job, int64_t begin, int64_t end) {
    const float *BP_RESTRICT x = job->x + begin;
    float *BP_RESTRICT y = job->out + begin;
    const int64_t n = end - begin;
    const float a = job->a, b = job->b;
    switch (job->op) {
    case BP_UNARY_NEG: for (int64_t i = 0; i < n; i++) y[i] = -x[i]; break;
    case BP_UNARY_EXP: for (int64_t i = 0; i < n; i++) y[i] = bp_expf(x[i]); break;
    case BP_UNARY_LOG: for (int64_t i = 0; i < n; i++) y[i] = bp_logf(x[i]); break;
    case BP_UNARY_SQRT: for (int64_t i = 0; i < n; i++) y[i] = __builtin_elementwise_sqrt(x[i]); break;
    case BP_UNARY_ABS: for (int64_t i = 0; i < n; i++) y[i] = __builtin_fabsf(x[i]); break;
    case BP_UNARY_SQUARE: for (int64_t i = 0; i < n; i++) y[i] = x[i] * x[i]; break;
    /* v < 0 is false for NaN: a NaN passes through, so it is seen where it starts. */
    case BP_UNARY_RELU: for (int64_t i = 0; i < n; i++) { float v = x[i]; y[i] = v < 0.0f ? 0.0f : v; } break;
    case BP_UNARY_SIGMOID: for (int64_t i = 0; i < n; i++) y[i] = bp_sigmoidf(x[i]); break;
    case BP_UNARY_TANH: for (int64_t i = 0; i < n; i++) y[i] = bp_tanhf(x[i]); break;
    case BP_UNARY_LEAKY_RELU:
        for (int64_t i = 0; i < n; i++) { float v = x[i]; y[i] = v > 0.0f ? v : a * v; }
        break;
    case BP_UNARY_ELU:
        for (int64_t i = 0; i < n; i++) { float v = x[i]; float e = a * bp_expm1f(v); y[i] = v > 0.0f ? v : e; }
        break;
    case BP_UNARY_CLAMP:
        for (int64_t i = 0; i < n; i++) y[i] = __builtin_fminf(__builtin_fmaxf(x[i], a), b);
        break;
    case BP_UNARY_POW: for (int64_t i = 0; i < n; i++) y[i] = powf(x[i], a); break;
    case BP_UNARY_SOFTPLUS: for (int64_t i = 0; i < n; i++) y[i] = bp_softplusf(x[i]); break;
    case BP_UNARY_AFFINE: for (int64_t i = 0; i < n; i++) y[i] = a * x[i] + b; break;
    }
}

// The derivative of each op times dy, written (or added) to dx. Selects are written as
// "load, then choose", which vectorizes; "cond ? dy[i] : 0" with a load inside did not.
BP_VECTOR static void unary_backward_range(const unary_job *job, int64_t begin, int64_t end) {
    const float *BP_RESTRICT x = job->x ? job->x + begin : 0;
    const float *BP_RESTRICT y = job->y ? job->y + begin : 0;
    const float *BP_RESTRICT dy = job->dy + begin;
    float *BP_RESTRICT dx = job->out + begin;
    const int64_t n = end - begin;
    const float a = job->a, b = job->b;
    // Pooled buffers may hold NaN, so overwriting must not read dx (0 * NaN is NaN).
#define BP_EMIT(expr)                                                                           \
    if (job->accumulate) { for (int64_t i = 0; i < n; i++) { float g = dy[i]; dx[i] += (expr); } } \
    else { for (int64_t i = 0; i < n; i++) { float g = dy[i]; dx[i] = (expr); } }                \
    break
    switch (job->op) {
    case BP_UNARY_NEG: BP_EMIT(-g);
    case BP_UNARY_EXP: BP_EMIT(g * y[i]);
    case BP_UNARY_LOG: BP_EMIT(g / x[i]);
    case BP_UNARY_SQRT: BP_EMIT(g * 0.5f / y[i]);
    case BP_UNARY_ABS: BP_EMIT(x[i] > 0.0f ? g : (x[i] < 0.0f ? -g : 0.0f));
    case BP_UNARY_SQUARE: BP_EMIT(2.0f * x[i] * g);
    case BP_UNARY_RELU: BP_EMIT(y[i] > 0.0f ? g : 0.0f);
    case BP_UNARY_SIGMOID: BP_EMIT(g * y[i] * (1.0f - y[i]));
    case BP_UNARY_TANH: BP_EMIT(g * (1.0f - y[i] * y[i]));
    case BP_UNARY_LEAKY_RELU: BP_EMIT(x[i] > 0.0f ? g : a * g);
    case BP_UNARY_ELU: BP_EMIT(x[i] > 0.0f ? g : g * (y[i] + a));
    case BP_UNARY_CLAMP: BP_EMIT((x[i] >= a && x[i] <= b) ? g : 0.0f);
    case BP_UNARY_POW: BP_EMIT(g * a * powf(x[i], a - 1.0f));
    case BP_UNARY_SOFTPLUS: BP_EMIT(g * bp_sigmoidf(x[i]));
    case BP_UNARY_AFFINE: BP_EMIT(a * g);
    }
#undef BP_EMIT
}

static void unary_forward_slice(void *context, int64_t begin, int64_t end) {
    unary_range((const unary_job *)context, begin, end);
}

static void unary_backward_slice(void *context, int64_t begin, int64_t end) {
    unary_backward_range((const unary_job *)context, begin, end);
}

void bp_unary(bp_unary_op op, int64_t n, const float *x, float *y, float a, float b) {
    unary_job job = {op, x, 0, 0, y, a, b, 0};
    bp_parallel_for(n, BP_PARALLEL_GRAIN, unary_forward_slice, &job);
}

void bp_unary_backward(bp_unary_op op, int64_t n, const float *x, const float *y, const float *dy,
                       float *dx, int accumulate, float a, float b) {
    unary_job job = {op, x, y, dy, dx, a, b, accumulate};
    bp_parallel_for(n, BP_PARALLEL_GRAIN, unary_backward_slice, &job);
}

// MARK: - Binary with broadcasting

static inline float apply_binary(bp_binary_op op, float a, float b) {
    switch (op) {
    case BP_BINARY_ADD: return a + b;
    case BP_BINARY_SUB: return a - b;
    case BP_BINARY_MUL: return a * b;
    case BP_BINARY_DIV: return a / b;
    case BP_BINARY_MAX: return __builtin_fmaxf(a, b);
    case BP_BINARY_MIN: return __builtin_fminf(a, b);
    case BP_BINARY_POW: return powf(a, b);
    case BP_BINARY_EQUAL: return a == b ? 1.0f : 0.0f;
    case BP_BINARY_GREATER: return a > b ? 1.0f : 0.0f;
    }
    return 0.0f;
}

// One innermost row; the op switch sits outside the loops so each loop is a plain vector loop.
BP_VECTOR static void binary_row(bp_binary_op op, int64_t n, const float *BP_RESTRICT a, int64_t sa,
                                 const float *BP_RESTRICT b, int64_t sb, float *BP_RESTRICT out) {
#define BP_ROW(expr)                                                                             \
    if (sa == 1 && sb == 1) { for (int64_t i = 0; i < n; i++) { float x = a[i], y = b[i]; out[i] = (expr); } } \
    else if (sa == 1 && sb == 0) { const float y = b[0]; for (int64_t i = 0; i < n; i++) { float x = a[i]; out[i] = (expr); } } \
    else if (sa == 0 && sb == 1) { const float x = a[0]; for (int64_t i = 0; i < n; i++) { float y = b[i]; out[i] = (expr); } } \
    else { for (int64_t i = 0; i < n; i++) { float x = a[i * sa], y = b[i * sb]; out[i] = (expr); } } \
    return
    switch (op) {
    case BP_BINARY_ADD: BP_ROW(x + y);
    case BP_BINARY_SUB: BP_ROW(x - y);
    case BP_BINARY_MUL: BP_ROW(x * y);
    case BP_BINARY_DIV: BP_ROW(x / y);
    case BP_BINARY_MAX: BP_ROW(__builtin_fmaxf(x, y));
    case BP_BINARY_MIN: BP_ROW(__builtin_fminf(x, y));
    case BP_BINARY_EQUAL: BP_ROW(x == y ? 1.0f : 0.0f);
    case BP_BINARY_GREATER: BP_ROW(x > y ? 1.0f : 0.0f);
    case BP_BINARY_POW:
        for (int64_t i = 0; i < n; i++) out[i] = apply_binary(op, a[i * sa], b[i * sb]);
        return;
    }
#undef BP_ROW
}

typedef struct {
    bp_binary_op op;
    int rank;
    const int64_t *shape, *sa, *sb;
    const float *a, *b;
    float *out;
} binary_job;

// Rows [begin, end) of the output seen as [rows, shape[rank-1]].
static void binary_slice(void *context, int64_t begin, int64_t end) {
    const binary_job *job = (const binary_job *)context;
    const int inner_axis = job->rank - 1;
    const int64_t width = job->shape[inner_axis];
    for (int64_t row = begin; row < end; row++) {
        int64_t offset_a = 0, offset_b = 0, rest = row;
        for (int axis = inner_axis - 1; axis >= 0; axis--) {
            int64_t index = rest % job->shape[axis];
            rest /= job->shape[axis];
            offset_a += index * job->sa[axis];
            offset_b += index * job->sb[axis];
        }
        binary_row(job->op, width, job->a + offset_a, job->sa[inner_axis], job->b + offset_b,
                   job->sb[inner_axis], job->out + row * width);
    }
}

void bp_binary(bp_binary_op op, int rank, const int64_t *shape, const float *a, const int64_t *a_strides,
               const float *b, const int64_t *b_strides, float *out) {
    if (rank == 0) {
        out[0] = apply_binary(op, a[0], b[0]);
        return;
    }
    int64_t rows = 1;
    for (int axis = 0; axis < rank - 1; axis++) rows *= shape[axis];
    const int64_t width = shape[rank - 1];
    if (rows == 0 || width == 0) return;
    binary_job job = {op, rank, shape, a_strides, b_strides, a, b, out};
    int64_t grain_rows = (BP_PARALLEL_GRAIN + width - 1) / width;
    bp_parallel_for(rows, grain_rows, binary_slice, &job);
}

// MARK: - Fill and scale

typedef struct {
    float value;
    const float *x;
    float *y;
    int accumulate;
} scale_job;

BP_VECTOR static void fill_range(void *context, int64_t begin, int64_t end) {
    const scale_job *job = (const scale_job *)context;
    float *BP_RESTRICT y = job->y;
    const float value = job->value;
    for (int64_t i = begin; i < end; i++) y[i] = value;
}

BP_VECTOR static void scale_range(void *context, int64_t begin, int64_t end) {
    const scale_job *job = (const scale_job *)context;
    const float *BP_RESTRICT x = job->x;
    float *BP_RESTRICT y = job->y;
    const float alpha = job->value;
    if (job->accumulate) {
        for (int64_t i = begin; i < end; i++) y[i] += alpha * x[i];
    } else {
        for (int64_t i = begin; i < end; i++) y[i] = alpha * x[i];
    }
}

void bp_fill(int64_t n, float value, float *out) {
    scale_job job = {value, 0, out, 0};
    bp_parallel_for(n, BP_PARALLEL_GRAIN * 4, fill_range, &job);
}

BP_VECTOR static void scale_in_place_range(void *context, int64_t begin, int64_t end) {
    const scale_job *job = (const scale_job *)context;
    float *BP_RESTRICT y = job->y;
    const float alpha = job->value;
    for (int64_t i = begin; i < end; i++) y[i] *= alpha;
}

void bp_scale(int64_t n, float alpha, const float *x, float *y, int accumulate) {
    scale_job job = {alpha, x, y, accumulate};
    if (x == y && !accumulate) {  // in place: the restrict loops below must not see aliased pointers
        bp_parallel_for(n, BP_PARALLEL_GRAIN, scale_in_place_range, &job);
        return;
    }
    bp_parallel_for(n, BP_PARALLEL_GRAIN, scale_range, &job);
}

static void relu_in_place_slice(void *context, int64_t begin, int64_t end) {
    float *y = (float *)context;
    for (int64_t i = begin; i < end; i++) { float v = y[i]; y[i] = v < 0.0f ? 0.0f : v; }
}

void bp_relu_in_place(float *y, int64_t n) { bp_parallel_for(n, BP_PARALLEL_GRAIN, relu_in_place_slice, y); }
