// Strided copies (transpose, slice, concatenate, broadcast reductions), gather/scatter and argmax.
#include "internal.h"

#pragma clang fp reassociate(on)

// One innermost row of a strided copy. dst stride 0 is a sum: reassociation lets it vectorize.
BP_VECTOR static void copy_row(int64_t n, const float *BP_RESTRICT src, int64_t ss, float *BP_RESTRICT dst,
                               int64_t ds, int accumulate) {
    if (ds == 0) {
        float sum = 0.0f;
        if (ss == 1) { for (int64_t i = 0; i < n; i++) sum += src[i]; }
        else { for (int64_t i = 0; i < n; i++) sum += src[i * ss]; }
        dst[0] += sum; // reductions always add: the caller zeroed dst when not accumulating
        return;
    }
    if (accumulate) {
        if (ss == 1 && ds == 1) { for (int64_t i = 0; i < n; i++) dst[i] += src[i]; }
        else if (ss == 0) { const float v = src[0]; for (int64_t i = 0; i < n; i++) dst[i * ds] += v; }
        else { for (int64_t i = 0; i < n; i++) dst[i * ds] += src[i * ss]; }
    } else {
        if (ss == 1 && ds == 1) { memcpy(dst, src, (size_t)n * sizeof(float)); }
        else if (ss == 0) { const float v = src[0]; for (int64_t i = 0; i < n; i++) dst[i * ds] = v; }
        else { for (int64_t i = 0; i < n; i++) dst[i * ds] = src[i * ss]; }
    }
}

BP_VECTOR static void max_row(int64_t n, const float *BP_RESTRICT src, float *BP_RESTRICT dst, int64_t ds) {
    if (ds == 0) {
        float m = dst[0];
        for (int64_t i = 0; i < n; i++) m = __builtin_fmaxf(m, src[i]);
        dst[0] = m;
    } else {
        for (int64_t i = 0; i < n; i++) dst[i * ds] = __builtin_fmaxf(dst[i * ds], src[i]);
    }
}

// Visits every innermost row of `shape`, handing the row's source and destination offsets to body.
#define BP_FOR_EACH_ROW(rank, shape, src_strides, dst_strides, body)                           \
    do {                                                                                       \
        int64_t rows_ = 1;                                                                     \
        for (int axis_ = 0; axis_ < (rank) - 1; axis_++) rows_ *= (shape)[axis_];             \
        for (int64_t row_ = 0; row_ < rows_; row_++) {                                         \
            int64_t so = 0, dof = 0, rest_ = row_;                                             \
            for (int axis_ = (rank) - 2; axis_ >= 0; axis_--) {                                \
                int64_t index_ = rest_ % (shape)[axis_];                                       \
                rest_ /= (shape)[axis_];                                                       \
                so += index_ * (src_strides)[axis_];                                           \
                dof += index_ * (dst_strides)[axis_];                                          \
            }                                                                                  \
            body;                                                                              \
        }                                                                                      \
    } while (0)

void bp_copy_strided(int rank, const int64_t *shape, const float *src, const int64_t *src_strides,
                     float *dst, const int64_t *dst_strides, int accumulate) {
    if (rank == 0) {
        dst[0] = accumulate ? dst[0] + src[0] : src[0];
        return;
    }
    for (int axis = 0; axis < rank; axis++) if (shape[axis] == 0) return;
    const int inner = rank - 1;
    BP_FOR_EACH_ROW(rank, shape, src_strides, dst_strides,
                    copy_row(shape[inner], src + so, src_strides[inner], dst + dof, dst_strides[inner], accumulate));
}

void bp_max_strided(int rank, const int64_t *shape, const float *src, float *dst, const int64_t *dst_strides) {
    if (rank == 0) {
        dst[0] = __builtin_fmaxf(dst[0], src[0]);
        return;
    }
    for (int axis = 0; axis < rank; axis++) if (shape[axis] == 0) return;
    int64_t src_strides[BP_MAX_RANK];
    int64_t stride = 1;
    for (int axis = rank - 1; axis >= 0; axis--) { src_strides[axis] = stride; stride *= shape[axis]; }
    const int inner = rank - 1;
    BP_FOR_EACH_ROW(rank, shape, src_strides, dst_strides,
                    max_row(shape[inner], src + so, dst + dof, dst_strides[inner]));
}

void bp_argmax(int64_t outer, int64_t axis, int64_t inner, const float *src, float *dst) {
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t i = 0; i < inner; i++) {
            const float *base = src + o * axis * inner + i;
            int64_t best = 0;
            float best_value = base[0];
            for (int64_t j = 1; j < axis; j++) {
                float v = base[j * inner];
                // NaN wins so that a broken model is not reported as confidently right.
                if (v > best_value || (v != v && best_value == best_value)) { best = j; best_value = v; }
            }
            dst[o * inner + i] = (float)best;
        }
    }
}

typedef struct {
    int64_t axis, inner, count;
    const float *src;
    const int64_t *index;
    float *dst;
} gather_job;

// Rows [begin, end) of the output seen as [outer · count, inner].
static void gather_rows(void *context, int64_t begin, int64_t end) {
    const gather_job *job = (const gather_job *)context;
    for (int64_t row = begin; row < end; row++) {
        int64_t o = row / job->count, j = row % job->count;
        memcpy(job->dst + row * job->inner, job->src + (o * job->axis + job->index[j]) * job->inner,
               (size_t)job->inner * sizeof(float));
    }
}

void bp_gather(int64_t outer, int64_t axis, int64_t inner, const float *src, const int64_t *index,
               int64_t count, float *dst) {
    // Rows of a shuffled batch are scattered through memory: both threads wait on them.
    gather_job job = {axis, inner, count, src, index, dst};
    int64_t grain_rows = inner > 0 ? (BP_PARALLEL_GRAIN + inner - 1) / inner : 1;
    bp_parallel_for(outer * count, grain_rows, gather_rows, &job);
}

BP_VECTOR static void add_row(int64_t n, const float *BP_RESTRICT src, float *BP_RESTRICT dst) {
    for (int64_t i = 0; i < n; i++) dst[i] += src[i];
}

void bp_scatter_add(int64_t outer, int64_t axis, int64_t inner, const float *src, const int64_t *index,
                    int64_t count, float *dst, int accumulate) {
    if (!accumulate) memset(dst, 0, (size_t)(outer * axis * inner) * sizeof(float));
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t j = 0; j < count; j++) {
            add_row(inner, src + (o * count + j) * inner, dst + (o * axis + index[j]) * inner);
        }
    }
}

double bp_sum(int64_t n, const float *x) {
    double total = 0.0;
    for (int64_t i = 0; i < n; i++) total += x[i];
    return total;
}
