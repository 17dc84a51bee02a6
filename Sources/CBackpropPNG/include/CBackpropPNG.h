// Private glue over libpng's simplified API (png_image), so Swift never meets libpng's setjmp
// error handling. Implementation detail, no public API.
#ifndef CBACKPROP_PNG_H
#define CBACKPROP_PNG_H

#include <stddef.h>
#include <stdint.h>

/// Reads a PNG as 8-bit grayscale (channels 1) or RGB (channels 3): `channels` 0 keeps the file's
/// kind (gray or colour; alpha is composited on black). Images with more than `max_pixels` pixels are
/// refused before any pixel memory is allocated. Returns 0 and a malloc'ed buffer (free with
/// bp_png_free), or -1 with a message in `error`.
int bp_png_read(const char *path, int channels, size_t max_pixels, uint8_t **pixels, int *width, int *height,
                int *channels_out, char *error, size_t error_size);
void bp_png_free(uint8_t *pixels);
/// Writes 8-bit gray (1), gray+alpha (2), RGB (3) or RGBA (4) pixels, rows top to bottom.
int bp_png_write(const char *path, const uint8_t *pixels, int width, int height, int channels, char *error,
                 size_t error_size);
/// Encodes the pixels as PNG into `out` (NULL: only measures); returns the encoded size, or 0 when
/// it failed or did not fit in `capacity`.
size_t bp_png_encode(const uint8_t *pixels, int width, int height, int channels, uint8_t *out, size_t capacity);

#endif
