// Private glue between Backprop's CPU backend and oneDNN primitives (convolution, pooling).
// Implementation detail, no public API. Activations are NHWC; convolution weights are HWIO (Keras
// order). Each object caches its primitives, the blocked weight layouts oneDNN prefers and the
// reorders to and from them; one object serves one shape and is not thread-safe.
#ifndef CBACKPROP_DNNL_H
#define CBACKPROP_DNNL_H

#include <stdint.h>
#include <stddef.h>

typedef struct {
    int64_t batch, input_height, input_width, input_channels;
    int64_t output_height, output_width, output_channels;
    int64_t kernel_height, kernel_width, stride_height, stride_width;
    int64_t dilation_height, dilation_width; // 1 = no dilation
    int64_t pad_top, pad_left, pad_bottom, pad_right;
    int has_bias;
    int src_block, dst_block; // activation layouts: 0 NHWC, 8 or 16 channel-blocked (nChw8c, nChw16c)
    int winograd;             // 1: Winograd kernels if oneDNN has them for all three passes, else direct
} bp_conv_geometry;

typedef struct bp_conv bp_conv;

/// Creates the forward, backward-data and backward-weights primitives; NULL with a message in
/// `error` when oneDNN rejects the geometry.
bp_conv *bp_conv_create(const bp_conv_geometry *geometry, char *error, size_t error_size);
void bp_conv_destroy(bp_conv *conv);
/// dst = conv(src, weights) + bias.
int bp_conv_forward(bp_conv *conv, const float *src, const float *weights, const float *bias, float *dst);
/// diff_src = conv_backward_data(diff_dst, weights).
int bp_conv_backward_data(bp_conv *conv, const float *diff_dst, const float *weights, float *diff_src);
/// diff_weights (HWIO) and diff_bias (may be NULL) from src and diff_dst.
int bp_conv_backward_weights(bp_conv *conv, const float *src, const float *diff_dst, float *diff_weights,
                             float *diff_bias);
/// The kernel oneDNN chose: 0 forward, 1 backward data, 2 backward weights.
const char *bp_conv_implementation(const bp_conv *conv, int which);

typedef struct {
    int64_t batch, input_height, input_width, channels, output_height, output_width;
    int64_t kernel_height, kernel_width, stride_height, stride_width;
    int64_t pad_top, pad_left, pad_bottom, pad_right;
    int max; // 1 max pooling, 0 average
    int include_padding; // average: 1 counts padded positions as zeros, 0 leaves them out
    int block; // source and destination layout: 0 NHWC, 8 or 16 channel-blocked
} bp_pool_geometry;

typedef struct bp_pool bp_pool;

bp_pool *bp_pool_create(const bp_pool_geometry *geometry, char *error, size_t error_size);
void bp_pool_destroy(bp_pool *pool);
/// Bytes of workspace (arg-max indices) the forward pass writes for the backward pass.
size_t bp_pool_workspace_size(const bp_pool *pool);
int bp_pool_forward(bp_pool *pool, const float *src, float *dst, void *workspace);
int bp_pool_backward(bp_pool *pool, const float *diff_dst, const void *workspace, float *diff_src);
const char *bp_pool_implementation(const bp_pool *pool, int which);

typedef struct bp_bnorm bp_bnorm;

/// Batch normalization of `rows` × `channels` (every axis but the last flattened into rows).
/// Training: statistics of the batch, written to mean/variance (biased variance); inference:
/// the given mean/variance are used.
bp_bnorm *bp_bnorm_create(int64_t rows, int64_t channels, float epsilon, int training, char *error, size_t error_size);
/// The same over images [batch, channels, height, width] held channel-blocked (nChw8c/nChw16c).
bp_bnorm *bp_bnorm_create_blocked(int64_t batch, int64_t channels, int64_t height, int64_t width, int block, float epsilon,
                                  int training, char *error, size_t error_size);
void bp_bnorm_destroy(bp_bnorm *bnorm);
int bp_bnorm_forward(bp_bnorm *bnorm, const float *src, const float *scale, const float *shift, float *dst, float *mean,
                     float *variance);
/// diff_src, diff_scale and diff_shift from the forward's src and batch statistics (training only).
int bp_bnorm_backward(bp_bnorm *bnorm, const float *src, const float *mean, const float *variance, const float *diff_dst,
                      const float *scale, const float *shift, float *diff_src, float *diff_scale, float *diff_shift);
const char *bp_bnorm_implementation(const bp_bnorm *bnorm, int which);

/// A conversion of activations between NHWC and a channel-blocked layout (nChw8c/nChw16c).
typedef struct bp_relayout bp_relayout;

bp_relayout *bp_relayout_create(int64_t batch, int64_t channels, int64_t height, int64_t width, int block,
                                int to_blocked, char *error, size_t error_size);
void bp_relayout_destroy(bp_relayout *relayout);
int bp_relayout_run(bp_relayout *relayout, const float *src, float *dst);

#endif
