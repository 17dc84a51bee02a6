// Statistics for the training monitors: one pass each, branch-light so the compiler vectorizes.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "CBackpropKernels.h"

bp_summary bp_summarize(const float *x, int64_t n) {
    bp_summary s = {0, 0, 0, 0.0, 0.0, INFINITY, -INFINITY};
    const int64_t block = 4096;
    for (int64_t start = 0; start < n; start += block) {
        int64_t end = start + block < n ? start + block : n;
        double sum = 0, squares = 0;
        float low = INFINITY, high = -INFINITY;
        int64_t finite = 0, zeros = 0;
        for (int64_t i = start; i < end; i++) {
            float v = x[i];
            int ok = isfinite(v);
            double f = ok ? (double)v : 0.0;
            sum += f;
            squares += f * f;
            finite += ok;
            zeros += (v == 0.0f);
            low = (ok && v < low) ? v : low;
            high = (ok && v > high) ? v : high;
        }
        s.sum += sum;
        s.sum_squares += squares;
        s.finite += finite;
        s.zeros += zeros;
        if (low < s.min) s.min = low;
        if (high > s.max) s.max = high;
    }
    s.non_finite = n - s.finite;
    return s;
}

void bp_histogram(const float *x, int64_t n, double low, double high, int64_t bins, double *counts) {
    double scale = high > low ? (double)bins / (high - low) : 0.0;
    int64_t *local = calloc((size_t)bins, sizeof(int64_t));
    if (!local) return;
    for (int64_t i = 0; i < n; i++) {
        float v = x[i];
        if (!isfinite(v)) continue;
        int64_t b = (int64_t)(((double)v - low) * scale);
        b = b < 0 ? 0 : (b >= bins ? bins - 1 : b);
        local[b]++;
    }
    for (int64_t b = 0; b < bins; b++) counts[b] += (double)local[b];
    free(local);
}

double bp_squared_distance(const float *a, const float *b, int64_t n) {
    double total = 0;
    const int64_t block = 4096;
    for (int64_t start = 0; start < n; start += block) {
        int64_t end = start + block < n ? start + block : n;
        double partial = 0;
        for (int64_t i = start; i < end; i++) {
            double d = (double)a[i] - (double)b[i];
            partial += d * d;
        }
        total += partial;
    }
    return total;
}

int64_t bp_count_outside(const float *x, int64_t n, float low, float high) {
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++) count += (x[i] < low) | (x[i] > high);
    return count;
}

int64_t bp_dead_columns(const float *x, int64_t n, int64_t units) {
    if (units <= 0) return 0;
    unsigned char *alive = calloc((size_t)units, 1);
    if (!alive) return 0;
    for (int64_t row = 0; row + units <= n; row += units) {
        for (int64_t u = 0; u < units; u++) alive[u] |= (x[row + u] != 0.0f);
    }
    int64_t dead = 0;
    for (int64_t u = 0; u < units; u++) dead += !alive[u];
    free(alive);
    return dead;
}
