// One time step of a recurrent cell over a batch, forward and backward. The GEMMs around them
// (x·Wᵢₕᵀ for every step at once, h·Wₕₕᵀ per step, the weight gradients over all steps) run in
// the backend; these loops do the gate nonlinearities and the state updates in one pass, one
// row (sample) at a time, rows split over the threads. Gate order as PyTorch: LSTM i, f, g, o;
// GRU r, z, n (n = tanh(xₙ + r ⊙ (Wₕₙh + bₕₙ))).
#include "internal.h"

typedef struct {
    bp_cell cell;
    int64_t units, gates_stride, hn_stride, prev_stride, state_stride, mask_stride, dgates_stride, dgh_stride;
    int64_t dy_stride;
    float *gates, *hn, *h, *c, *dh, *dc, *dgates, *dgh;
    const float *gru_hidden, *prev_h, *prev_c, *mask, *cgates, *chn, *cc, *dy;
    const float *bias, *hidden_bias;
} step_job;

// Rows are independent; a row's work is a few exp per unit, so a slice needs about 4096 units to
// be worth a thread.
static int64_t row_grain(int64_t units) { return units >= 4096 ? 1 : 4096 / units; }

BP_VECTOR
static void lstm_forward_row(int64_t units, float *BP_RESTRICT g, const float *BP_RESTRICT bias, const float *BP_RESTRICT hp,
                             const float *BP_RESTRICT cp, float *BP_RESTRICT h, float *BP_RESTRICT c, float m) {
    float *BP_RESTRICT gi = g, *BP_RESTRICT gf = g + units, *BP_RESTRICT gg = g + 2 * units, *BP_RESTRICT go = g + 3 * units;
    const float *BP_RESTRICT bi = bias, *BP_RESTRICT bf = bias + units, *BP_RESTRICT bg = bias + 2 * units,
                             *BP_RESTRICT bo = bias + 3 * units;
    for (int64_t j = 0; j < units; j++) {
        float i = bp_sigmoidf(gi[j] + bi[j]), f = bp_sigmoidf(gf[j] + bf[j]), n = bp_tanhf(gg[j] + bg[j]),
              o = bp_sigmoidf(go[j] + bo[j]);
        gi[j] = i;
        gf[j] = f;
        gg[j] = n;
        go[j] = o;
        float cn = f * cp[j] + i * n;
        float hn = o * bp_tanhf(cn);
        c[j] = m != 0.0f ? cn : cp[j];
        h[j] = m != 0.0f ? hn : hp[j];
    }
}

BP_VECTOR
static void gru_forward_row(int64_t units, float *BP_RESTRICT g, const float *BP_RESTRICT bi, const float *BP_RESTRICT gh,
                            const float *BP_RESTRICT bh, float *BP_RESTRICT hs, const float *BP_RESTRICT hp,
                            float *BP_RESTRICT h, float m) {
    float *BP_RESTRICT gr = g, *BP_RESTRICT gz = g + units, *BP_RESTRICT gn = g + 2 * units;
    for (int64_t j = 0; j < units; j++) {
        float r = bp_sigmoidf(gr[j] + bi[j] + gh[j] + bh[j]);
        float z = bp_sigmoidf(gz[j] + bi[units + j] + gh[units + j] + bh[units + j]);
        float hn = gh[2 * units + j] + bh[2 * units + j];
        float n = bp_tanhf(gn[j] + bi[2 * units + j] + r * hn);
        gr[j] = r;
        gz[j] = z;
        gn[j] = n;
        hs[j] = hn;
        float hnew = (1.0f - z) * n + z * hp[j];
        h[j] = m != 0.0f ? hnew : hp[j];
    }
}

BP_VECTOR
static void rnn_forward_row(int64_t units, int relu, float *BP_RESTRICT g, const float *BP_RESTRICT bias,
                            const float *BP_RESTRICT hp, float *BP_RESTRICT h, float m) {
    for (int64_t j = 0; j < units; j++) {
        float pre = g[j] + bias[j];
        float v = relu ? __builtin_fmaxf(pre, 0.0f) : bp_tanhf(pre);
        g[j] = v;
        h[j] = m != 0.0f ? v : hp[j];
    }
}

static void forward_rows(void *context, int64_t begin, int64_t end) {
    const step_job *s = context;
    int64_t u = s->units;
    for (int64_t b = begin; b < end; b++) {
        float m = s->mask ? s->mask[b * s->mask_stride] : 1.0f;
        float *g = s->gates + b * s->gates_stride;
        const float *hp = s->prev_h + b * s->prev_stride;
        float *h = s->h + b * s->state_stride;
        switch (s->cell) {
        case BP_CELL_RNN_TANH:
        case BP_CELL_RNN_RELU: rnn_forward_row(u, s->cell == BP_CELL_RNN_RELU, g, s->bias, hp, h, m); break;
        case BP_CELL_LSTM:
            lstm_forward_row(u, g, s->bias, hp, s->prev_c + b * s->prev_stride, h, s->c + b * s->state_stride, m);
            break;
        case BP_CELL_GRU:
            gru_forward_row(u, g, s->bias, s->gru_hidden + b * 3 * u, s->hidden_bias, s->hn + b * s->hn_stride, hp, h, m);
            break;
        }
    }
}

void bp_recurrent_step_forward(bp_cell cell, int64_t batch, int64_t units, float *gates, int64_t gates_stride,
                               const float *bias, const float *gru_hidden, const float *hidden_bias, float *hn,
                               int64_t hn_stride, const float *prev_h, const float *prev_c, int64_t prev_stride, float *h,
                               float *c, int64_t state_stride, const float *mask, int64_t mask_stride) {
    step_job s = {.cell = cell, .units = units, .gates_stride = gates_stride, .hn_stride = hn_stride,
                  .prev_stride = prev_stride, .state_stride = state_stride, .mask_stride = mask_stride,
                  .gates = gates, .hn = hn, .h = h, .c = c, .gru_hidden = gru_hidden, .prev_h = prev_h,
                  .prev_c = prev_c, .mask = mask, .bias = bias, .hidden_bias = hidden_bias};
    bp_parallel_for(batch, row_grain(units), forward_rows, &s);
}

BP_VECTOR
static void lstm_backward_row(int64_t units, const float *BP_RESTRICT g, const float *BP_RESTRICT cp,
                              const float *BP_RESTRICT c, float *BP_RESTRICT dh, float *BP_RESTRICT dc,
                              float *BP_RESTRICT dg, float m) {
    float keep = 1.0f - m;
    for (int64_t j = 0; j < units; j++) {
        float i = g[j], f = g[units + j], n = g[2 * units + j], o = g[3 * units + j];
        float dhn = m * dh[j];
        float tc = bp_tanhf(c[j]);
        float dcn = m * dc[j] + dhn * o * (1.0f - tc * tc);
        dg[j] = dcn * n * i * (1.0f - i);
        dg[units + j] = dcn * cp[j] * f * (1.0f - f);
        dg[2 * units + j] = dcn * i * (1.0f - n * n);
        dg[3 * units + j] = dhn * tc * o * (1.0f - o);
        dc[j] = dcn * f + keep * dc[j];
        dh[j] = keep * dh[j];
    }
}

BP_VECTOR
static void gru_backward_row(int64_t units, const float *BP_RESTRICT g, const float *BP_RESTRICT hs,
                             const float *BP_RESTRICT hp, float *BP_RESTRICT dh, float *BP_RESTRICT dg,
                             float *BP_RESTRICT dr, float m) {
    float keep = 1.0f - m;
    for (int64_t j = 0; j < units; j++) {
        float r = g[j], z = g[units + j], n = g[2 * units + j];
        float dhn = m * dh[j];
        float dn = dhn * (1.0f - z) * (1.0f - n * n);
        float dz = dhn * (hp[j] - n) * z * (1.0f - z);
        float drr = dn * hs[j] * r * (1.0f - r);
        dg[j] = drr;
        dg[units + j] = dz;
        dg[2 * units + j] = dn;
        dr[j] = drr;
        dr[units + j] = dz;
        dr[2 * units + j] = dn * r;
        dh[j] = dhn * z + keep * dh[j];
    }
}

BP_VECTOR
static void rnn_backward_row(int64_t units, int relu, const float *BP_RESTRICT g, float *BP_RESTRICT dh,
                             float *BP_RESTRICT dg, float m) {
    float keep = 1.0f - m;
    for (int64_t j = 0; j < units; j++) {
        float d = m * dh[j], v = g[j];
        dg[j] = relu ? (v > 0.0f ? d : 0.0f) : d * (1.0f - v * v);
        dh[j] = keep * dh[j];
    }
}

BP_VECTOR
static void add_row(int64_t units, const float *BP_RESTRICT x, float *BP_RESTRICT y) {
    for (int64_t j = 0; j < units; j++) y[j] += x[j];
}

static void backward_rows(void *context, int64_t begin, int64_t end) {
    const step_job *s = context;
    int64_t u = s->units;
    for (int64_t b = begin; b < end; b++) {
        float m = s->mask ? s->mask[b * s->mask_stride] : 1.0f;
        const float *g = s->cgates + b * s->gates_stride;
        float *dh = s->dh + b * u;
        float *dg = s->dgates + b * s->dgates_stride;
        add_row(u, s->dy + b * s->dy_stride, dh);
        switch (s->cell) {
        case BP_CELL_RNN_TANH:
        case BP_CELL_RNN_RELU: rnn_backward_row(u, s->cell == BP_CELL_RNN_RELU, g, dh, dg, m); break;
        case BP_CELL_LSTM:
            lstm_backward_row(u, g, s->prev_c + b * s->prev_stride, s->cc + b * s->state_stride, dh, s->dc + b * u, dg, m);
            break;
        case BP_CELL_GRU:
            gru_backward_row(u, g, s->chn + b * s->hn_stride, s->prev_h + b * s->prev_stride, dh, dg,
                             s->dgh + b * s->dgh_stride, m);
            break;
        }
    }
}

void bp_recurrent_step_backward(bp_cell cell, int64_t batch, int64_t units, const float *gates, int64_t gates_stride,
                                const float *hn, int64_t hn_stride, const float *prev_h, const float *prev_c,
                                int64_t prev_stride, const float *c, int64_t state_stride,
                                const float *mask, int64_t mask_stride, const float *dy, int64_t dy_stride, float *dh,
                                float *dc, float *dgates, int64_t dgates_stride, float *dgh, int64_t dgh_stride) {
    step_job s = {.dy = dy, .dy_stride = dy_stride, .cell = cell, .units = units, .gates_stride = gates_stride, .hn_stride = hn_stride,
                  .prev_stride = prev_stride, .state_stride = state_stride, .mask_stride = mask_stride,
                  .dgates_stride = dgates_stride, .dgh_stride = dgh_stride, .dh = dh, .dc = dc, .dgates = dgates,
                  .dgh = dgh, .prev_h = prev_h, .prev_c = prev_c, .mask = mask, .cgates = gates, .chn = hn, .cc = c};
    bp_parallel_for(batch, row_grain(units), backward_rows, &s);
}
