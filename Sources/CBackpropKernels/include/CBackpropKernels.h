// Private C kernels for Backprop's CPU backend: loops Swift will not vectorize (restrict pointers,
// branch-free selects, math without errno). Implementation detail, no public API; every name is
// prefixed `bp_`. Shapes and strides are in elements; rank is at most BP_MAX_RANK.
#ifndef CBACKPROP_KERNELS_H
#define CBACKPROP_KERNELS_H

#include <stdint.h>
#include <stddef.h>

#define BP_MAX_RANK 8

// MARK: - Runtime

/// Sets flush-to-zero and denormals-are-zero on the calling thread (x86 MXCSR; no-op elsewhere).
void bp_enable_flush_denormals(void);
/// Whether flush-to-zero is set on the calling thread.
int bp_flush_denormals_enabled(void);
/// Number of threads parallel kernels use (those of the OpenMP runtime oneDNN uses).
int bp_thread_count(void);
/// Sets the OpenMP thread count of the calling thread's parallel regions (kernels and oneDNN);
/// returns 0 when no OpenMP runtime is loaded.
int bp_set_thread_count(int count);
/// Handlers for SIGINT, SIGTERM and SIGQUIT: during training the first signal sets a flag read
/// between steps (bp_stop_signal); a second one, or one outside training, exits at once.
void bp_install_stop_handlers(void);
/// The signal that asked training to stop, or 0.
int bp_stop_signal(void);
void bp_clear_stop_signal(void);
/// Runs fn(context, begin, end) once per OpenMP thread on contiguous slices of [0, n) (rounded to
/// 16), so one parallel region can hold a long serial computation per slice (the time loop of a
/// recurrent layer over its rows); inside it, oneDNN and these kernels run on the calling thread.
void bp_parallel_slices(int64_t n, void (*fn)(void *context, int64_t begin, int64_t end), void *context);
/// Keeps the parallel kernels called on this thread serial (1) or not (0, the default): for helper
/// threads, where a parallel region would start a second OpenMP pool.
void bp_set_serial_thread(int serial);
/// Whether a training loop is running (signals then stop it between steps).
void bp_set_training_active(int active);

/// Per-thread flags of the autodiff tape (thread-local, like PyTorch's grad mode): bit 0 set
/// means recording is off, bit 1 set means training mode, bit 2 set means layer outputs are recorded.
int bp_thread_mode(void);
void bp_set_thread_mode(int mode);

// MARK: - Statistics (training monitors)

/// Summary of the finite values of x[0..n): count, sum, sum of squares, min, max, exact zeros (of
/// all values) and non-finite values. Sums in double (a gradient of 1e20 squares to 1e40).
typedef struct {
    int64_t finite, zeros, non_finite;
    double sum, sum_squares, min, max;
} bp_summary;
bp_summary bp_summarize(const float *x, int64_t n);
/// Adds each finite value of x into one of `bins` equal buckets over [low, high] (clamped).
void bp_histogram(const float *x, int64_t n, double low, double high, int64_t bins, double *counts);
/// Σ (a[i] − b[i])², in double.
double bp_squared_distance(const float *a, const float *b, int64_t n);
/// Values below `low` or above `high` (saturated tanh: ±0.99; sigmoid: 0.01 and 0.99).
int64_t bp_count_outside(const float *x, int64_t n, float low, float high);
/// How many of `units` columns of the [n / units, units] matrix x are zero in every row.
int64_t bp_dead_columns(const float *x, int64_t n, int64_t units);

// MARK: - Recurrent cells

typedef enum {
    BP_CELL_RNN_TANH = 0,
    BP_CELL_RNN_RELU,
    BP_CELL_LSTM, // gates i, f, g, o
    BP_CELL_GRU,  // gates r, z, n
} bp_cell;

/// One time step forward for `batch` rows. `gates` rows (stride gates_stride) hold on entry
/// x·Wᵢₕᵀ (+ h·Wₕₕᵀ, except for the GRU) and on exit the activated gates; `bias` [gates·units] is
/// added first (bᵢₕ + bₕₕ; the GRU's bᵢₕ alone; zeros for none), so no pass over all steps'
/// gates broadcasts it. GRU: `gru_hidden` [batch][3·units] is h·Wₕₕᵀ and `hidden_bias` bₕₕ; the
/// n part of their sum is saved in `hn` (stride). prev_h / prev_c rows at prev_stride (never NULL:
/// pass zeros for the first step); the new h and c (LSTM) rows at state_stride.
/// A row whose mask is 0 keeps its previous state (NULL mask: every step is taken).
void bp_recurrent_step_forward(bp_cell cell, int64_t batch, int64_t units, float *gates, int64_t gates_stride,
                               const float *bias, const float *gru_hidden, const float *hidden_bias, float *hn,
                               int64_t hn_stride, const float *prev_h, const float *prev_c, int64_t prev_stride, float *h,
                               float *c, int64_t state_stride, const float *mask, int64_t mask_stride);
/// One time step backward. On entry dh [batch][units] is the gradient reaching hₜ from later steps
/// (dy rows, ∂L/∂hₜ from outside, are added first) and dc (LSTM) ∂L/∂cₜ; on exit dh is
/// the part that reaches hₜ₋₁ without the recurrent GEMM and dc is ∂L/∂cₜ₋₁. Writes ∂L/∂(the
/// pre-activations) into dgates rows (GRU: of the input part; dgh rows get those of h·Wₕₕᵀ + bₕₕ).
void bp_recurrent_step_backward(bp_cell cell, int64_t batch, int64_t units, const float *gates, int64_t gates_stride,
                                const float *hn, int64_t hn_stride, const float *prev_h, const float *prev_c,
                                int64_t prev_stride, const float *c, int64_t state_stride,
                                const float *mask, int64_t mask_stride, const float *dy, int64_t dy_stride, float *dh,
                                float *dc, float *dgates, int64_t dgates_stride, float *dgh, int64_t dgh_stride);

// MARK: - Elementwise

typedef enum {
    BP_UNARY_NEG = 0,
    BP_UNARY_EXP,
    BP_UNARY_LOG,
    BP_UNARY_SQRT,
    BP_UNARY_ABS,
    BP_UNARY_SQUARE,
    BP_UNARY_RELU,
    BP_UNARY_SIGMOID,
    BP_UNARY_TANH,
    BP_UNARY_LEAKY_RELU, // a = negative slope
    BP_UNARY_ELU,        // a = alpha
    BP_UNARY_CLAMP,      // a = lower bound, b = upper bound
    BP_UNARY_POW,        // a = exponent
    BP_UNARY_SOFTPLUS,
    BP_UNARY_AFFINE,     // a * x + b
} bp_unary_op;

/// y[i] = max(y[i], 0) with NaN kept, in place (a convolution's output).
void bp_relu_in_place(float *y, int64_t n);
/// y[i] = op(x[i]).
void bp_unary(bp_unary_op op, int64_t n, const float *x, float *y, float a, float b);
/// dx[i] (=|+=) dy[i] * op'(x[i]), using the saved forward output y where that is cheaper.
void bp_unary_backward(bp_unary_op op, int64_t n, const float *x, const float *y, const float *dy,
                       float *dx, int accumulate, float a, float b);

typedef enum {
    BP_BINARY_ADD = 0,
    BP_BINARY_SUB,
    BP_BINARY_MUL,
    BP_BINARY_DIV,
    BP_BINARY_MAX,
    BP_BINARY_MIN,
    BP_BINARY_POW,
    BP_BINARY_EQUAL,   // 1 where a == b, else 0
    BP_BINARY_GREATER, // 1 where a > b, else 0
} bp_binary_op;

/// out = op(a, b) over `shape`, with a and b read through strides (0 on broadcast axes) and out
/// contiguous.
void bp_binary(bp_binary_op op, int rank, const int64_t *shape, const float *a, const int64_t *a_strides,
               const float *b, const int64_t *b_strides, float *out);

/// out[i] = value.
void bp_fill(int64_t n, float value, float *out);
/// y[i] (=|+=) alpha * x[i].
void bp_scale(int64_t n, float alpha, const float *x, float *y, int accumulate);

// MARK: - Copies and reductions

/// dst (strided) (=|+=) src (strided), both iterated over `shape`. A destination stride of 0 sums
/// into that element (a reduction); the caller zeroes such destinations first when not accumulating.
void bp_copy_strided(int rank, const int64_t *shape, const float *src, const int64_t *src_strides,
                     float *dst, const int64_t *dst_strides, int accumulate);
/// dst (strided, stride 0 on reduced axes) = max(dst, src) over `shape`; dst starts at -inf.
void bp_max_strided(int rank, const int64_t *shape, const float *src, float *dst, const int64_t *dst_strides);
/// Index of the largest element along the middle axis of [outer, axis, inner], as floats.
void bp_argmax(int64_t outer, int64_t axis, int64_t inner, const float *src, float *dst);
/// Gathers along the middle axis: dst[o, j, :] = src[o, index[j], :].
void bp_gather(int64_t outer, int64_t axis, int64_t inner, const float *src, const int64_t *index,
               int64_t count, float *dst);
/// Adjoint of bp_gather: dst[o, index[j], :] += src[o, j, :]; dst is zeroed first unless accumulating.
void bp_scatter_add(int64_t outer, int64_t axis, int64_t inner, const float *src, const int64_t *index,
                    int64_t count, float *dst, int accumulate);
/// Sum of n floats, accumulated in double.
double bp_sum(int64_t n, const float *x);

// MARK: - Softmax family (rows of length `classes`)

/// y = log_softmax(x) row by row, computed stably (x - max - log Σ exp(x - max)).
void bp_log_softmax(int64_t rows, int64_t classes, const float *x, float *y);
/// dx (=|+=) dy - softmax(x) * Σ dy, given y = log_softmax(x).
void bp_log_softmax_backward(int64_t rows, int64_t classes, const float *y, const float *dy, float *dx,
                             int accumulate);
/// Mean over rows of -log_softmax(x)[label]. Writes softmax(x) to `probabilities` for the backward
/// pass. Returns -1 when every label is valid, else the first row whose label is not an integer in
/// [0, classes).
int64_t bp_softmax_cross_entropy(int64_t rows, int64_t classes, const float *logits, const float *labels,
                                 float *probabilities, float *loss);
/// dx (=|+=) scale * (probabilities - onehot(label)).
void bp_softmax_cross_entropy_backward(int64_t rows, int64_t classes, const float *probabilities,
                                       const float *labels, float scale, float *dx, int accumulate);

// MARK: - Optimizer updates (flat parameter buffers)

typedef enum {
    BP_RULE_SGD = 0, // v = μv + g; p -= lr·(nesterov ? g + μv : v)   (μ = 0: p -= lr·g; state1 = v)
    BP_RULE_ADAGRAD, // s += g²; p -= lr·g / (√s + ε)                    (state1 = s)
    BP_RULE_RMSPROP, // v = αv + (1-α)g²; [centered: ḡ = αḡ + (1-α)g, v̂ = v - ḡ²];
                     // μ > 0: b = μb + g/(√v̂ + ε), p -= lr·b; else p -= lr·g/(√v̂ + ε)
                     // (α = beta2; state1 = v, state2 = b, state3 = ḡ)
    BP_RULE_ADAM,    // m = β1m + (1-β1)g; v = β2v + (1-β2)g²; [amsgrad: v̂ = max(v̂, v)];
                     // p -= lr·(m/c1) / (√(v/c2) + ε)                 (state1 = m, state2 = v, state3 = v̂)
} bp_update_rule;

/// Hyper-parameters of one update. Weight decay is added to the gradient (L2, PyTorch's
/// `weight_decay`) unless `decoupled`, in which case p -= lr·wd·p first (AdamW, Loshchilov & Hutter).
typedef struct {
    bp_update_rule rule;
    float learning_rate, weight_decay;
    int decoupled;
    float momentum;
    int nesterov;
    float beta1, beta2, epsilon, bias_correction1, bias_correction2;
    int amsgrad, centered;
} bp_update;

void bp_optimizer_update(const bp_update *update, int64_t n, float *param, const float *grad, float *state1,
                         float *state2, float *state3);
/// Clamps every gradient to [-limit, limit] in place.
void bp_clip_values(int64_t n, float *grad, float limit);
/// Σ x² in double precision.
double bp_sum_of_squares(int64_t n, const float *x);

// MARK: - Convolution followed by max pooling (first layers)

/// A convolution over NHWC input with HWIO weights followed by max pooling whose window equals its
/// stride and has no padding. Outputs are pooled and channel-blocked: [N, out_channels / block,
/// pooled_h, pooled_w, block], block 16 or 8 (out_channels a multiple of it).
typedef struct {
    int64_t batch, height, width, in_channels;
    int64_t kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
    int64_t out_channels;
    int64_t pool_h, pool_w, pooled_h, pooled_w;
    int64_t block;
} bp_conv_pool_shape;

/// Pooled maxima of conv(input, weight) + bias, and for each the window position that won (row-major
/// within the window; the first maximum wins, NaN never replaces). Returns 0, or non-zero when the
/// block is unsupported (1) or memory ran out (2).
int bp_conv_maxpool_forward(const bp_conv_pool_shape *shape, const float *input, const float *weight, const float *bias,
                            float *output, uint8_t *argmax);
/// ∂L/∂weight (HWIO) and ∂L/∂bias (may be NULL) from ∂L/∂(pooled output) and the forward's argmax;
/// overwrites both. Returns 0, or non-zero as above.
int bp_conv_maxpool_backward_weights(const bp_conv_pool_shape *shape, const float *input, const float *output_gradient,
                                     const uint8_t *argmax, float *weight_gradient, float *bias_gradient);

#endif
