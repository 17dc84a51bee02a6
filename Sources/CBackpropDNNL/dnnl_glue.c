// oneDNN primitives for convolution and pooling, created once per shape and executed with the
// caller's buffers. Activations stay NHWC; weights are reordered between Backprop's HWIO and the
// blocked layout oneDNN's fastest kernel wants (format_tag_any), using buffers kept here.
#include "CBackpropDNNL.h"
#include <oneapi/dnnl/dnnl.h>
#include <oneapi/dnnl/dnnl_debug.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

static void create_engine(void) {
    dnnl_engine_create(&engine, dnnl_cpu, 0);
    dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
}

// Every primitive owns its scratchpad (oneDNN's user-managed mode). The library's default keeps one
// scratchpad per *creating* thread, freed when that thread exits; Swift runs work on pool threads
// that come and go, so a cached primitive executed later on another thread wrote through a freed
// or null scratchpad (a crash in convolution backward weights, seen on AVX2 kernels). Callers
// hold the object's lock while executing, so one scratchpad per primitive suffices.
typedef struct {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t primitive;
    dnnl_memory_t scratchpad;
    void *scratchpad_buffer;
} primitive;

static void destroy_primitive(primitive *p) {
    if (p->primitive) dnnl_primitive_destroy(p->primitive);
    if (p->pd) dnnl_primitive_desc_destroy(p->pd);
    if (p->scratchpad) dnnl_memory_destroy(p->scratchpad);
    free(p->scratchpad_buffer);
    p->primitive = NULL;
    p->pd = NULL;
    p->scratchpad = NULL;
    p->scratchpad_buffer = NULL;
}

/// Creates the primitive and its scratchpad from a descriptor made with user-managed scratchpad.
static dnnl_status_t finish_primitive(primitive *p) {
    dnnl_status_t status = dnnl_primitive_create(&p->primitive, p->pd);
    if (status != dnnl_success) return status;
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(p->pd, dnnl_query_scratchpad_md, 0);
    size_t size = md ? dnnl_memory_desc_get_size(md) : 0;
    if (size == 0) return dnnl_success;
    if (posix_memalign(&p->scratchpad_buffer, 64, size) != 0) return dnnl_out_of_memory;
    return dnnl_memory_create(&p->scratchpad, md, engine, p->scratchpad_buffer);
}

/// Attributes with user-managed scratchpad, plus whatever `base` sets.
static dnnl_primitive_attr_t scratchpad_attr(const_dnnl_primitive_attr_t base) {
    dnnl_primitive_attr_t attr = NULL;
    if (base) dnnl_primitive_attr_clone(&attr, base);
    else dnnl_primitive_attr_create(&attr);
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    return attr;
}

static int make_primitive_with(primitive *p, const_dnnl_op_desc_t desc, const_dnnl_primitive_desc_t hint,
                               const_dnnl_primitive_attr_t base, const char *what, char *error, size_t error_size) {
    dnnl_primitive_attr_t attr = scratchpad_attr(base);
    dnnl_status_t status = dnnl_primitive_desc_create(&p->pd, desc, attr, engine, hint);
    dnnl_primitive_attr_destroy(attr);
    if (status == dnnl_success) status = finish_primitive(p);
    if (status != dnnl_success) {
        snprintf(error, error_size, "oneDNN rejected the %s: %s", what, dnnl_status2str(status));
        return 0;
    }
    return 1;
}

static int make_primitive(primitive *p, const_dnnl_op_desc_t desc, const_dnnl_primitive_desc_t hint,
                          const char *what, char *error, size_t error_size) {
    return make_primitive_with(p, desc, hint, NULL, what, error, error_size);
}

/// Runs `p` with `args` and its scratchpad (at most 11 arguments).
static int execute(const primitive *p, int count, dnnl_exec_arg_t *args) {
    dnnl_exec_arg_t all[12];
    memcpy(all, args, (size_t)count * sizeof(dnnl_exec_arg_t));
    if (p->scratchpad) all[count++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, p->scratchpad};
    return dnnl_primitive_execute(p->primitive, stream, count, all) == dnnl_success ? 0 : -1;
}

static const char *implementation(const primitive *p) {
    const char *name = "none";
    if (p->pd) dnnl_primitive_desc_query(p->pd, dnnl_query_impl_info_str, 0, &name);
    return name;
}

/// A reorder between two layouts, or nothing when they are equal.
typedef struct {
    primitive reorder;
    dnnl_memory_t from, to;
    int needed;
} layout_change;

static int make_layout_change(layout_change *c, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                              char *error, size_t error_size) {
    memset(c, 0, sizeof(*c));
    if (dnnl_memory_desc_equal(from, to)) return 1;
    c->needed = 1;
    dnnl_primitive_attr_t attr = scratchpad_attr(NULL);
    dnnl_status_t status = dnnl_reorder_primitive_desc_create(&c->reorder.pd, from, engine, to, engine, attr);
    dnnl_primitive_attr_destroy(attr);
    if (status == dnnl_success) status = finish_primitive(&c->reorder);
    if (status == dnnl_success) status = dnnl_memory_create(&c->from, from, engine, DNNL_MEMORY_NONE);
    if (status == dnnl_success) status = dnnl_memory_create(&c->to, to, engine, DNNL_MEMORY_NONE);
    if (status != dnnl_success) {
        snprintf(error, error_size, "oneDNN could not reorder between layouts: %s", dnnl_status2str(status));
        return 0;
    }
    return 1;
}

static int run_layout_change(layout_change *c, const void *from, void *to) {
    dnnl_memory_set_data_handle(c->from, (void *)from);
    dnnl_memory_set_data_handle(c->to, to);
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, c->from}, {DNNL_ARG_TO, c->to}};
    return execute(&c->reorder, 2, args);
}

static void destroy_layout_change(layout_change *c) {
    if (!c->needed) return;
    destroy_primitive(&c->reorder);
    dnnl_memory_destroy(c->from);
    dnnl_memory_destroy(c->to);
}

/// The layout of an activation tensor: NHWC (block 0) or oneDNN's channel-blocked nChw8c/nChw16c.
/// A one-channel NHWC input is also NCHW in memory; the blocked kernels accept it only as NCHW.
static dnnl_format_tag_t activation_tag(int block, int64_t channels, int blocked_neighbour) {
    if (block == 16) return dnnl_nChw16c;
    if (block == 8) return dnnl_nChw8c;
    return channels == 1 && blocked_neighbour ? dnnl_nchw : dnnl_nhwc;
}

static dnnl_memory_t make_memory(const dnnl_memory_desc_t *md) {
    dnnl_memory_t memory = NULL;
    dnnl_memory_create(&memory, md, engine, DNNL_MEMORY_NONE);
    return memory;
}

// MARK: - Convolution

struct bp_conv {
    int has_bias;
    primitive forward, backward_data, backward_weights;
    layout_change to_forward_weights, to_backward_data_weights, from_weight_gradient;
    void *forward_weights, *backward_data_weights, *weight_gradient; // blocked buffers, when needed
    dnnl_memory_t src, dst, weights_fwd, bias, diff_dst, diff_src, weights_bwd, diff_weights, diff_bias;
};

static void *aligned_buffer(const dnnl_memory_desc_t *md) {
    size_t size = dnnl_memory_desc_get_size(md);
    void *buffer = NULL;
    if (posix_memalign(&buffer, 64, size ? size : 64) != 0) return NULL;
    return buffer;
}

static bp_conv *create_conv(const bp_conv_geometry *g, dnnl_alg_kind_t algorithm, char *error, size_t error_size);

bp_conv *bp_conv_create(const bp_conv_geometry *g, char *error, size_t error_size) {
    if (g->winograd) { // Winograd where oneDNN has it for all three passes; otherwise direct
        bp_conv *conv = create_conv(g, dnnl_convolution_winograd, error, error_size);
        if (conv) return conv;
        error[0] = 0;
    }
    return create_conv(g, dnnl_convolution_direct, error, error_size);
}

static bp_conv *create_conv(const bp_conv_geometry *g, dnnl_alg_kind_t algorithm, char *error, size_t error_size) {
    pthread_once(&engine_once, create_engine);
    bp_conv *conv = calloc(1, sizeof(bp_conv));
    conv->has_bias = g->has_bias;
    dnnl_dims_t src_dims = {g->batch, g->input_channels, g->input_height, g->input_width};
    dnnl_dims_t dst_dims = {g->batch, g->output_channels, g->output_height, g->output_width};
    dnnl_dims_t weight_dims = {g->output_channels, g->input_channels, g->kernel_height, g->kernel_width};
    dnnl_dims_t bias_dims = {g->output_channels};
    dnnl_dims_t strides = {g->stride_height, g->stride_width};
    dnnl_dims_t dilates = {g->dilation_height - 1, g->dilation_width - 1};
    dnnl_dims_t pad_l = {g->pad_top, g->pad_left}, pad_r = {g->pad_bottom, g->pad_right};
    dnnl_memory_desc_t src_md, dst_md, user_weights_md, any_weights_md, bias_md;
    dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32,
                                 activation_tag(g->src_block, g->input_channels, g->dst_block != 0));
    dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32,
                                 activation_tag(g->dst_block, g->output_channels, g->src_block != 0));
    dnnl_memory_desc_init_by_tag(&user_weights_md, 4, weight_dims, dnnl_f32, dnnl_hwio);
    dnnl_memory_desc_init_by_tag(&any_weights_md, 4, weight_dims, dnnl_f32, dnnl_format_tag_any);
    dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, dnnl_f32, dnnl_x);
    const dnnl_memory_desc_t *bias = g->has_bias ? &bias_md : NULL;

    dnnl_convolution_desc_t forward, backward_data, backward_weights;
    int ok = dnnl_dilated_convolution_forward_desc_init(&forward, dnnl_forward_training, algorithm,
                                                        &src_md, &any_weights_md, bias, &dst_md, strides, dilates,
                                                        pad_l, pad_r) == dnnl_success
             && make_primitive_with(&conv->forward, &forward, NULL, NULL, "convolution", error, error_size);
    ok = ok && dnnl_dilated_convolution_backward_data_desc_init(&backward_data, algorithm, &src_md,
                                                                &any_weights_md, &dst_md, strides, dilates, pad_l,
                                                                pad_r) == dnnl_success
         && make_primitive(&conv->backward_data, &backward_data, conv->forward.pd, "convolution backward data", error, error_size);
    ok = ok && dnnl_dilated_convolution_backward_weights_desc_init(&backward_weights, algorithm, &src_md,
                                                                   &any_weights_md, bias, &dst_md, strides, dilates,
                                                                   pad_l, pad_r) == dnnl_success
         && make_primitive(&conv->backward_weights, &backward_weights, conv->forward.pd, "convolution backward weights", error, error_size);
    if (!ok) {
        if (!error[0]) snprintf(error, error_size, "oneDNN rejected the convolution shape");
        bp_conv_destroy(conv);
        return NULL;
    }
    const dnnl_memory_desc_t *forward_weights_md = dnnl_primitive_desc_query_md(conv->forward.pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *backward_weights_md = dnnl_primitive_desc_query_md(conv->backward_data.pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *gradient_md = dnnl_primitive_desc_query_md(conv->backward_weights.pd, dnnl_query_diff_weights_md, 0);
    ok = make_layout_change(&conv->to_forward_weights, &user_weights_md, forward_weights_md, error, error_size)
         && make_layout_change(&conv->to_backward_data_weights, &user_weights_md, backward_weights_md, error, error_size)
         && make_layout_change(&conv->from_weight_gradient, gradient_md, &user_weights_md, error, error_size);
    if (!ok) {
        bp_conv_destroy(conv);
        return NULL;
    }
    if (conv->to_forward_weights.needed) conv->forward_weights = aligned_buffer(forward_weights_md);
    if (conv->to_backward_data_weights.needed) conv->backward_data_weights = aligned_buffer(backward_weights_md);
    if (conv->from_weight_gradient.needed) conv->weight_gradient = aligned_buffer(gradient_md);
    conv->src = make_memory(&src_md);
    conv->dst = make_memory(&dst_md);
    conv->diff_src = make_memory(&src_md);
    conv->diff_dst = make_memory(&dst_md);
    conv->weights_fwd = make_memory(forward_weights_md);
    conv->weights_bwd = make_memory(backward_weights_md);
    conv->diff_weights = make_memory(gradient_md);
    conv->bias = make_memory(&bias_md);
    conv->diff_bias = make_memory(&bias_md);
    return conv;
}

void bp_conv_destroy(bp_conv *conv) {
    if (!conv) return;
    destroy_primitive(&conv->forward);
    destroy_primitive(&conv->backward_data);
    destroy_primitive(&conv->backward_weights);
    destroy_layout_change(&conv->to_forward_weights);
    destroy_layout_change(&conv->to_backward_data_weights);
    destroy_layout_change(&conv->from_weight_gradient);
    free(conv->forward_weights);
    free(conv->backward_data_weights);
    free(conv->weight_gradient);
    dnnl_memory_t memories[] = {conv->src, conv->dst, conv->weights_fwd, conv->bias, conv->diff_dst,
                                conv->diff_src, conv->weights_bwd, conv->diff_weights, conv->diff_bias};
    for (size_t i = 0; i < sizeof(memories) / sizeof(memories[0]); i++) if (memories[i]) dnnl_memory_destroy(memories[i]);
    free(conv);
}

int bp_conv_forward(bp_conv *conv, const float *src, const float *weights, const float *bias, float *dst) {
    const void *w = weights;
    if (conv->to_forward_weights.needed) {
        if (run_layout_change(&conv->to_forward_weights, weights, conv->forward_weights)) return -1;
        w = conv->forward_weights;
    }
    dnnl_memory_set_data_handle(conv->src, (void *)src);
    dnnl_memory_set_data_handle(conv->weights_fwd, (void *)w);
    dnnl_memory_set_data_handle(conv->dst, dst);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, conv->src}, {DNNL_ARG_WEIGHTS, conv->weights_fwd}, {DNNL_ARG_DST, conv->dst},
                               {DNNL_ARG_BIAS, conv->bias}};
    if (conv->has_bias) dnnl_memory_set_data_handle(conv->bias, (void *)bias);
    return execute(&conv->forward, conv->has_bias ? 4 : 3, args);
}

int bp_conv_backward_data(bp_conv *conv, const float *diff_dst, const float *weights, float *diff_src) {
    const void *w = weights;
    if (conv->to_backward_data_weights.needed) {
        if (run_layout_change(&conv->to_backward_data_weights, weights, conv->backward_data_weights)) return -1;
        w = conv->backward_data_weights;
    }
    dnnl_memory_set_data_handle(conv->diff_dst, (void *)diff_dst);
    dnnl_memory_set_data_handle(conv->weights_bwd, (void *)w);
    dnnl_memory_set_data_handle(conv->diff_src, diff_src);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_DIFF_DST, conv->diff_dst}, {DNNL_ARG_WEIGHTS, conv->weights_bwd},
                               {DNNL_ARG_DIFF_SRC, conv->diff_src}};
    return execute(&conv->backward_data, 3, args);
}

int bp_conv_backward_weights(bp_conv *conv, const float *src, const float *diff_dst, float *diff_weights,
                             float *diff_bias) {
    void *target = conv->from_weight_gradient.needed ? conv->weight_gradient : diff_weights;
    dnnl_memory_set_data_handle(conv->src, (void *)src);
    dnnl_memory_set_data_handle(conv->diff_dst, (void *)diff_dst);
    dnnl_memory_set_data_handle(conv->diff_weights, target);
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, conv->src}, {DNNL_ARG_DIFF_DST, conv->diff_dst},
                               {DNNL_ARG_DIFF_WEIGHTS, conv->diff_weights}, {DNNL_ARG_DIFF_BIAS, conv->diff_bias}};
    int with_bias = conv->has_bias && diff_bias;
    if (with_bias) dnnl_memory_set_data_handle(conv->diff_bias, diff_bias);
    if (execute(&conv->backward_weights, with_bias ? 4 : 3, args)) return -1;
    if (conv->from_weight_gradient.needed) return run_layout_change(&conv->from_weight_gradient, target, diff_weights);
    return 0;
}

const char *bp_conv_implementation(const bp_conv *conv, int which) {
    return implementation(which == 0 ? &conv->forward : which == 1 ? &conv->backward_data : &conv->backward_weights);
}

// MARK: - Pooling

struct bp_pool {
    primitive forward, backward;
    size_t workspace_size;
    dnnl_memory_t src, dst, diff_src, diff_dst, workspace;
    int max;
};

bp_pool *bp_pool_create(const bp_pool_geometry *g, char *error, size_t error_size) {
    pthread_once(&engine_once, create_engine);
    bp_pool *pool = calloc(1, sizeof(bp_pool));
    pool->max = g->max;
    dnnl_dims_t src_dims = {g->batch, g->channels, g->input_height, g->input_width};
    dnnl_dims_t dst_dims = {g->batch, g->channels, g->output_height, g->output_width};
    dnnl_dims_t strides = {g->stride_height, g->stride_width}, kernel = {g->kernel_height, g->kernel_width};
    dnnl_dims_t dilation = {0, 0};
    dnnl_dims_t pad_l = {g->pad_top, g->pad_left}, pad_r = {g->pad_bottom, g->pad_right};
    dnnl_memory_desc_t src_md, dst_md;
    dnnl_memory_desc_init_by_tag(&src_md, 4, src_dims, dnnl_f32, activation_tag(g->block, g->channels, 0));
    dnnl_memory_desc_init_by_tag(&dst_md, 4, dst_dims, dnnl_f32, activation_tag(g->block, g->channels, 0));
    dnnl_alg_kind_t algorithm = g->max                ? dnnl_pooling_max
                                : g->include_padding ? dnnl_pooling_avg_include_padding
                                                     : dnnl_pooling_avg_exclude_padding;
    dnnl_pooling_v2_desc_t forward, backward;
    int ok = dnnl_pooling_v2_forward_desc_init(&forward, dnnl_forward_training, algorithm, &src_md, &dst_md, strides,
                                               kernel, dilation, pad_l, pad_r) == dnnl_success
             && make_primitive(&pool->forward, &forward, NULL, "pooling", error, error_size)
             && dnnl_pooling_v2_backward_desc_init(&backward, algorithm, &src_md, &dst_md, strides, kernel, dilation,
                                                   pad_l, pad_r) == dnnl_success
             && make_primitive(&pool->backward, &backward, pool->forward.pd, "pooling backward", error, error_size);
    if (!ok) {
        if (!error[0]) snprintf(error, error_size, "oneDNN rejected the pooling shape");
        bp_pool_destroy(pool);
        return NULL;
    }
    pool->src = make_memory(&src_md);
    pool->dst = make_memory(&dst_md);
    pool->diff_src = make_memory(&src_md);
    pool->diff_dst = make_memory(&dst_md);
    const dnnl_memory_desc_t *workspace_md = dnnl_primitive_desc_query_md(pool->forward.pd, dnnl_query_workspace_md, 0);
    if (workspace_md && workspace_md->ndims > 0) {
        pool->workspace_size = dnnl_memory_desc_get_size(workspace_md);
        pool->workspace = make_memory(workspace_md);
    }
    return pool;
}

void bp_pool_destroy(bp_pool *pool) {
    if (!pool) return;
    destroy_primitive(&pool->forward);
    destroy_primitive(&pool->backward);
    dnnl_memory_t memories[] = {pool->src, pool->dst, pool->diff_src, pool->diff_dst, pool->workspace};
    for (size_t i = 0; i < sizeof(memories) / sizeof(memories[0]); i++) if (memories[i]) dnnl_memory_destroy(memories[i]);
    free(pool);
}

size_t bp_pool_workspace_size(const bp_pool *pool) { return pool->workspace_size; }

int bp_pool_forward(bp_pool *pool, const float *src, float *dst, void *workspace) {
    dnnl_memory_set_data_handle(pool->src, (void *)src);
    dnnl_memory_set_data_handle(pool->dst, dst);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, pool->src}, {DNNL_ARG_DST, pool->dst}, {DNNL_ARG_WORKSPACE, pool->workspace}};
    if (pool->workspace) dnnl_memory_set_data_handle(pool->workspace, workspace);
    return execute(&pool->forward, pool->workspace ? 3 : 2, args);
}

int bp_pool_backward(bp_pool *pool, const float *diff_dst, const void *workspace, float *diff_src) {
    dnnl_memory_set_data_handle(pool->diff_dst, (void *)diff_dst);
    dnnl_memory_set_data_handle(pool->diff_src, diff_src);
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_DIFF_DST, pool->diff_dst}, {DNNL_ARG_DIFF_SRC, pool->diff_src},
                               {DNNL_ARG_WORKSPACE, pool->workspace}};
    if (pool->workspace) dnnl_memory_set_data_handle(pool->workspace, (void *)workspace);
    return execute(&pool->backward, pool->workspace ? 3 : 2, args);
}

const char *bp_pool_implementation(const bp_pool *pool, int which) {
    return implementation(which == 0 ? &pool->forward : &pool->backward);
}

// MARK: - Batch normalization

struct bp_bnorm {
    primitive forward, backward;
    int training;
    dnnl_memory_t src, dst, diff_src, diff_dst, mean, variance, scale, shift, diff_scale, diff_shift;
};

static bp_bnorm *create_bnorm(const dnnl_memory_desc_t *data, int64_t channels, float epsilon, int training, char *error,
                              size_t error_size) {
    pthread_once(&engine_once, create_engine);
    bp_bnorm *bnorm = calloc(1, sizeof(bp_bnorm));
    bnorm->training = training;
    dnnl_dims_t channel_dims = {channels};
    dnnl_memory_desc_t data_md = *data, channel_md;
    dnnl_memory_desc_init_by_tag(&channel_md, 1, channel_dims, dnnl_f32, dnnl_x);
    unsigned flags = dnnl_use_scale | dnnl_use_shift | (training ? 0 : dnnl_use_global_stats);
    dnnl_batch_normalization_desc_t forward, backward;
    int ok = dnnl_batch_normalization_forward_desc_init(&forward, training ? dnnl_forward_training : dnnl_forward_inference,
                                                        &data_md, epsilon, flags) == dnnl_success
             && make_primitive(&bnorm->forward, &forward, NULL, "batch normalization", error, error_size);
    if (ok && training) {
        ok = dnnl_batch_normalization_backward_desc_init(&backward, dnnl_backward, &data_md, &data_md, epsilon, flags) == dnnl_success
             && make_primitive(&bnorm->backward, &backward, bnorm->forward.pd, "batch normalization backward", error, error_size);
    }
    if (!ok) {
        if (!error[0]) snprintf(error, error_size, "oneDNN rejected the batch normalization shape");
        bp_bnorm_destroy(bnorm);
        return NULL;
    }
    bnorm->src = make_memory(&data_md);
    bnorm->dst = make_memory(&data_md);
    bnorm->diff_src = make_memory(&data_md);
    bnorm->diff_dst = make_memory(&data_md);
    bnorm->mean = make_memory(&channel_md);
    bnorm->variance = make_memory(&channel_md);
    bnorm->scale = make_memory(&channel_md);
    bnorm->shift = make_memory(&channel_md);
    bnorm->diff_scale = make_memory(&channel_md);
    bnorm->diff_shift = make_memory(&channel_md);
    return bnorm;
}

bp_bnorm *bp_bnorm_create(int64_t rows, int64_t channels, float epsilon, int training, char *error, size_t error_size) {
    // Rows × channels as a 4-D NHWC tensor [rows, channels, 1, 1]: the layout oneDNN's JIT
    // batch-normalization kernels take (a 2-D "nc" tensor gets a generic kernel).
    dnnl_dims_t dims = {rows, channels, 1, 1};
    dnnl_memory_desc_t data_md;
    dnnl_memory_desc_init_by_tag(&data_md, 4, dims, dnnl_f32, dnnl_nhwc);
    return create_bnorm(&data_md, channels, epsilon, training, error, error_size);
}

bp_bnorm *bp_bnorm_create_blocked(int64_t batch, int64_t channels, int64_t height, int64_t width, int block, float epsilon,
                                  int training, char *error, size_t error_size) {
    dnnl_dims_t dims = {batch, channels, height, width};
    dnnl_memory_desc_t data_md;
    dnnl_memory_desc_init_by_tag(&data_md, 4, dims, dnnl_f32, activation_tag(block, channels, 0));
    return create_bnorm(&data_md, channels, epsilon, training, error, error_size);
}

void bp_bnorm_destroy(bp_bnorm *bnorm) {
    if (!bnorm) return;
    destroy_primitive(&bnorm->forward);
    destroy_primitive(&bnorm->backward);
    dnnl_memory_t memories[] = {bnorm->src, bnorm->dst, bnorm->diff_src, bnorm->diff_dst, bnorm->mean,
                                bnorm->variance, bnorm->scale, bnorm->shift, bnorm->diff_scale, bnorm->diff_shift};
    for (size_t i = 0; i < sizeof(memories) / sizeof(memories[0]); i++) if (memories[i]) dnnl_memory_destroy(memories[i]);
    free(bnorm);
}

int bp_bnorm_forward(bp_bnorm *bnorm, const float *src, const float *scale, const float *shift, float *dst, float *mean,
                     float *variance) {
    dnnl_memory_set_data_handle(bnorm->src, (void *)src);
    dnnl_memory_set_data_handle(bnorm->dst, dst);
    dnnl_memory_set_data_handle(bnorm->scale, (void *)scale);
    dnnl_memory_set_data_handle(bnorm->shift, (void *)shift);
    dnnl_memory_set_data_handle(bnorm->mean, mean);
    dnnl_memory_set_data_handle(bnorm->variance, variance);
    dnnl_exec_arg_t args[6] = {{DNNL_ARG_SRC, bnorm->src}, {DNNL_ARG_DST, bnorm->dst}, {DNNL_ARG_SCALE, bnorm->scale},
                               {DNNL_ARG_SHIFT, bnorm->shift}, {DNNL_ARG_MEAN, bnorm->mean}, {DNNL_ARG_VARIANCE, bnorm->variance}};
    return execute(&bnorm->forward, 6, args);
}

int bp_bnorm_backward(bp_bnorm *bnorm, const float *src, const float *mean, const float *variance, const float *diff_dst,
                      const float *scale, const float *shift, float *diff_src, float *diff_scale, float *diff_shift) {
    if (!bnorm->training) return -1;
    dnnl_memory_set_data_handle(bnorm->src, (void *)src);
    dnnl_memory_set_data_handle(bnorm->mean, (void *)mean);
    dnnl_memory_set_data_handle(bnorm->variance, (void *)variance);
    dnnl_memory_set_data_handle(bnorm->diff_dst, (void *)diff_dst);
    dnnl_memory_set_data_handle(bnorm->scale, (void *)scale);
    dnnl_memory_set_data_handle(bnorm->shift, (void *)shift);  // required by oneDNN 2.6 although unused
    dnnl_memory_set_data_handle(bnorm->diff_src, diff_src);
    dnnl_memory_set_data_handle(bnorm->diff_scale, diff_scale);
    dnnl_memory_set_data_handle(bnorm->diff_shift, diff_shift);
    dnnl_exec_arg_t args[9] = {{DNNL_ARG_SRC, bnorm->src}, {DNNL_ARG_MEAN, bnorm->mean}, {DNNL_ARG_VARIANCE, bnorm->variance},
                               {DNNL_ARG_DIFF_DST, bnorm->diff_dst}, {DNNL_ARG_SCALE, bnorm->scale}, {DNNL_ARG_SHIFT, bnorm->shift},
                               {DNNL_ARG_DIFF_SRC, bnorm->diff_src}, {DNNL_ARG_DIFF_SCALE, bnorm->diff_scale},
                               {DNNL_ARG_DIFF_SHIFT, bnorm->diff_shift}};
    return execute(&bnorm->backward, 9, args);
}

const char *bp_bnorm_implementation(const bp_bnorm *bnorm, int which) {
    return implementation(which == 0 ? &bnorm->forward : &bnorm->backward);
}

// MARK: - Layout conversion

struct bp_relayout {
    layout_change change;
    size_t bytes;
};

bp_relayout *bp_relayout_create(int64_t batch, int64_t channels, int64_t height, int64_t width, int block,
                                int to_blocked, char *error, size_t error_size) {
    pthread_once(&engine_once, create_engine);
    bp_relayout *relayout = calloc(1, sizeof(bp_relayout));
    dnnl_dims_t dims = {batch, channels, height, width};
    dnnl_memory_desc_t plain_md, blocked_md;
    dnnl_memory_desc_init_by_tag(&plain_md, 4, dims, dnnl_f32, dnnl_nhwc);
    dnnl_memory_desc_init_by_tag(&blocked_md, 4, dims, dnnl_f32, activation_tag(block, channels, 0));
    int ok = to_blocked ? make_layout_change(&relayout->change, &plain_md, &blocked_md, error, error_size)
                        : make_layout_change(&relayout->change, &blocked_md, &plain_md, error, error_size);
    if (!ok) {
        free(relayout);
        return NULL;
    }
    relayout->bytes = dnnl_memory_desc_get_size(&plain_md);
    return relayout;
}

void bp_relayout_destroy(bp_relayout *relayout) {
    if (!relayout) return;
    destroy_layout_change(&relayout->change);
    free(relayout);
}

int bp_relayout_run(bp_relayout *relayout, const float *src, float *dst) {
    if (!relayout->change.needed) { // the same bytes in both layouts (channels == block)
        memcpy(dst, src, relayout->bytes);
        return 0;
    }
    return run_layout_change(&relayout->change, src, dst);
}
