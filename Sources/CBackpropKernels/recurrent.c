// One time step of a recurrent cell over a batch, forward and backward. The GEMMs around them
// (x·Wᵢₕᵀ for every step at once, h·Wₕₕᵀ per step, the weight gradients over all steps) run in
// the backend; these loops do the gate nonlinearities and the state updates in one pass.
// Gate order as PyTorch: LSTM i, f, g, o; GRU r, z, n (n = tanh(xₙ + r ⊙ (Wₕₙh + bₕₙ))).
#include "internal.h"

static inline float bp_mask_at(const float *mask, int64_t stride, int64_t row) {
    return mask ? mask[row * stride] : 1.0f;
}

BP_VECTOR
void bp_recurrent_step_forward(bp_cell cell, int64_t batch, int64_t units, float *gates, int64_t gates_stride,
                               const float *gru_hidden, float *hn, int64_t hn_stride, const float *prev_h,
                               const float *prev_c, int64_t prev_stride, float *h, float *c, int64_t state_stride,
                               const float *mask, int64_t mask_stride) {
    for (int64_t b = 0; b < batch; b++) {
        float m = bp_mask_at(mask, mask_stride, b);
        float *BP_RESTRICT g = gates + b * gates_stride;
        const float *hp = prev_h ? prev_h + b * prev_stride : NULL;
        float *BP_RESTRICT ho = h + b * state_stride;
        switch (cell) {
        case BP_CELL_RNN_TANH:
        case BP_CELL_RNN_RELU:
            for (int64_t j = 0; j < units; j++) {
                float v = cell == BP_CELL_RNN_TANH ? bp_tanhf(g[j]) : (g[j] > 0.0f ? g[j] : 0.0f);
                g[j] = v;
                float carried = hp ? hp[j] : 0.0f;
                ho[j] = m != 0.0f ? v : carried;
            }
            break;
        case BP_CELL_LSTM: {
            const float *cp = prev_c ? prev_c + b * prev_stride : NULL;
            float *BP_RESTRICT co = c + b * state_stride;
            for (int64_t j = 0; j < units; j++) {
                float i = bp_sigmoidf(g[j]);
                float f = bp_sigmoidf(g[units + j]);
                float gg = bp_tanhf(g[2 * units + j]);
                float o = bp_sigmoidf(g[3 * units + j]);
                g[j] = i;
                g[units + j] = f;
                g[2 * units + j] = gg;
                g[3 * units + j] = o;
                float previous = cp ? cp[j] : 0.0f;
                float cn = f * previous + i * gg;
                float hnew = o * bp_tanhf(cn);
                float carried = hp ? hp[j] : 0.0f;
                co[j] = m != 0.0f ? cn : previous;
                ho[j] = m != 0.0f ? hnew : carried;
            }
            break;
        }
        case BP_CELL_GRU: {
            const float *gh = gru_hidden + b * 3 * units;
            float *BP_RESTRICT hs = hn + b * hn_stride;
            for (int64_t j = 0; j < units; j++) {
                float r = bp_sigmoidf(g[j] + gh[j]);
                float z = bp_sigmoidf(g[units + j] + gh[units + j]);
                float n = bp_tanhf(g[2 * units + j] + r * gh[2 * units + j]);
                g[j] = r;
                g[units + j] = z;
                g[2 * units + j] = n;
                hs[j] = gh[2 * units + j];
                float previous = hp ? hp[j] : 0.0f;
                float hnew = (1.0f - z) * n + z * previous;
                ho[j] = m != 0.0f ? hnew : previous;
            }
            break;
        }
        }
    }
}

BP_VECTOR
void bp_recurrent_step_backward(bp_cell cell, int64_t batch, int64_t units, const float *gates, int64_t gates_stride,
                                const float *hn, int64_t hn_stride, const float *prev_h, const float *prev_c,
                                int64_t prev_stride, const float *c, int64_t state_stride,
                                const float *mask, int64_t mask_stride, float *dh, float *dc, float *dgates,
                                int64_t dgates_stride, float *dgh, int64_t dgh_stride) {
    for (int64_t b = 0; b < batch; b++) {
        float m = bp_mask_at(mask, mask_stride, b);
        float keep = 1.0f - m;
        const float *g = gates + b * gates_stride;
        float *BP_RESTRICT dhr = dh + b * units;
        float *BP_RESTRICT dg = dgates + b * dgates_stride;
        switch (cell) {
        case BP_CELL_RNN_TANH:
        case BP_CELL_RNN_RELU:
            for (int64_t j = 0; j < units; j++) {
                float d = m * dhr[j];
                float v = g[j];
                dg[j] = cell == BP_CELL_RNN_TANH ? d * (1.0f - v * v) : (v > 0.0f ? d : 0.0f);
                dhr[j] = keep * dhr[j];
            }
            break;
        case BP_CELL_LSTM: {
            const float *cp = prev_c ? prev_c + b * prev_stride : NULL;
            const float *co = c + b * state_stride;
            float *BP_RESTRICT dcr = dc + b * units;
            for (int64_t j = 0; j < units; j++) {
                float i = g[j], f = g[units + j], gg = g[2 * units + j], o = g[3 * units + j];
                float dhn = m * dhr[j];
                float tc = bp_tanhf(co[j]);
                float dcn = m * dcr[j] + dhn * o * (1.0f - tc * tc);
                float previous = cp ? cp[j] : 0.0f;
                dg[j] = dcn * gg * i * (1.0f - i);
                dg[units + j] = dcn * previous * f * (1.0f - f);
                dg[2 * units + j] = dcn * i * (1.0f - gg * gg);
                dg[3 * units + j] = dhn * tc * o * (1.0f - o);
                dcr[j] = dcn * f + keep * dcr[j];
                dhr[j] = keep * dhr[j];
            }
            break;
        }
        case BP_CELL_GRU: {
            const float *hp = prev_h ? prev_h + b * prev_stride : NULL;
            const float *hs = hn + b * hn_stride;
            float *BP_RESTRICT dr = dgh + b * dgh_stride;
            for (int64_t j = 0; j < units; j++) {
                float r = g[j], z = g[units + j], n = g[2 * units + j];
                float previous = hp ? hp[j] : 0.0f;
                float dhn = m * dhr[j];
                float dn = dhn * (1.0f - z) * (1.0f - n * n);
                float dz = dhn * (previous - n) * z * (1.0f - z);
                float drr = dn * hs[j] * r * (1.0f - r);
                dg[j] = drr;
                dg[units + j] = dz;
                dg[2 * units + j] = dn;
                dr[j] = drr;
                dr[units + j] = dz;
                dr[2 * units + j] = dn * r;
                dhr[j] = dhn * z + keep * dhr[j];
            }
            break;
        }
        }
    }
}
