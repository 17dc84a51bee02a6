#include "CBackpropPNG.h"
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bp_png_read(const char *path, int channels, size_t max_pixels, uint8_t **pixels, int *width, int *height,
                int *channels_out, char *error, size_t error_size) {
    png_image image;
    memset(&image, 0, sizeof(image));
    image.version = PNG_IMAGE_VERSION;
    *pixels = NULL;
    if (!png_image_begin_read_from_file(&image, path)) {
        snprintf(error, error_size, "%s", image.message);
        return -1;
    }
    if ((size_t)image.width * (size_t)image.height > max_pixels) {
        snprintf(error, error_size, "%ux%u pixels exceed the limit of %zu", image.width, image.height, max_pixels);
        png_image_free(&image);
        return -1;
    }
    int color = channels == 3 || (channels == 0 && (image.format & PNG_FORMAT_FLAG_COLOR));
    image.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    size_t size = PNG_IMAGE_SIZE(image);
    uint8_t *buffer = malloc(size ? size : 1);
    if (!buffer) {
        snprintf(error, error_size, "out of memory for %zu bytes", size);
        png_image_free(&image);
        return -1;
    }
    png_color black = {0, 0, 0};
    if (!png_image_finish_read(&image, &black, buffer, 0, NULL)) {
        snprintf(error, error_size, "%s", image.message);
        free(buffer);
        return -1;
    }
    *pixels = buffer;
    *width = (int)image.width;
    *height = (int)image.height;
    *channels_out = color ? 3 : 1;
    return 0;
}

void bp_png_free(uint8_t *pixels) { free(pixels); }

/// An 8-bit image description for libpng's writers.
static png_image describe(int width, int height, int channels) {
    png_image image;
    memset(&image, 0, sizeof(image));
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = channels == 1 ? PNG_FORMAT_GRAY : channels == 2 ? PNG_FORMAT_GA : channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_RGBA;
    return image;
}

int bp_png_write(const char *path, const uint8_t *pixels, int width, int height, int channels, char *error,
                 size_t error_size) {
    png_image image = describe(width, height, channels);
    if (!png_image_write_to_file(&image, path, 0, pixels, 0, NULL)) {
        snprintf(error, error_size, "%s", image.message);
        return -1;
    }
    return 0;
}

size_t bp_png_encode(const uint8_t *pixels, int width, int height, int channels, uint8_t *out, size_t capacity) {
    png_image image = describe(width, height, channels);
    png_alloc_size_t size = capacity;
    if (!png_image_write_to_memory(&image, out, &size, 0, pixels, 0, NULL)) return 0;
    return (size_t)size;
}
