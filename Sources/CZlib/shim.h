// Private shim: zlib, used only to inflate .gz data files.
#include <zlib.h>

static inline int bp_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 16 + MAX_WBITS);
}

static inline int bp_inflate_init_raw(z_stream *stream) {
    return inflateInit2(stream, -MAX_WBITS);
}
