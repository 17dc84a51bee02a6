import CBackpropPNG
import Foundation

/// An 8-bit grayscale or RGB image read or written through libpng.
public struct PNGImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// 1 (gray) or 3 (RGB).
    public let channels: Int
    /// Row-major pixels, channels interleaved.
    public let pixels: [UInt8]

    /// Images larger than this many pixels are refused before their pixels are decoded.
    public static let maximumPixels = 1 << 26

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(
            [1, 2, 3, 4].contains(channels) && pixels.count == width * height * channels,
            "PNGImage: \(pixels.count) bytes for \(width)×\(height)×\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Reads `path`, as gray (`channels: 1`), RGB (`3`) or as stored (`nil`).
    public init(contentsOf path: String, channels: Int? = nil) throws {
        var buffer: UnsafeMutablePointer<UInt8>?
        var width: Int32 = 0
        var height: Int32 = 0
        var actual: Int32 = 0
        var error = [CChar](repeating: 0, count: 256)
        guard bp_png_read(path, Int32(channels ?? 0), PNGImage.maximumPixels, &buffer, &width, &height, &actual, &error, error.count) == 0,
            let buffer
        else {
            let message = String(cMessage: error)
            if !FileManager.default.fileExists(atPath: path) { throw BackpropError.fileNotFound(path: path) }
            throw BackpropError.malformed(path: path, field: "PNG data", expected: "a readable PNG image", found: message)
        }
        defer { bp_png_free(buffer) }
        self.init(
            width: Int(width), height: Int(height), channels: Int(actual),
            pixels: Array(UnsafeBufferPointer(start: buffer, count: Int(width) * Int(height) * Int(actual))))
    }

    /// Writes the image as a PNG file.
    public func write(to path: String) throws {
        var error = [CChar](repeating: 0, count: 256)
        guard bp_png_write(path, pixels, Int32(width), Int32(height), Int32(channels), &error, error.count) == 0 else {
            let message = String(cMessage: error)
            throw BackpropError.malformed(path: path, field: "PNG output", expected: "a writable file", found: message)
        }
    }

    /// The PNG file's bytes (for embedding in TensorBoard events and HTML reports).
    public var encoded: [UInt8] {
        let size = bp_png_encode(pixels, Int32(width), Int32(height), Int32(channels), nil, 0)
        guard size > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: size)
        let written = bytes.withUnsafeMutableBufferPointer {
            bp_png_encode(pixels, Int32(width), Int32(height), Int32(channels), $0.baseAddress, size)
        }
        return written > 0 ? Array(bytes.prefix(written)) : []
    }

    /// A grid of images (values in [0, 1], NHWC with 1 or 3 channels) as one picture, `columns`
    /// wide with a 2-pixel gap — for previews of what a model sees.
    public static func grid(_ images: Tensor, columns: Int, scale: Int = 2) -> PNGImage {
        precondition(images.rank == 4 && [1, 3].contains(images.shape[3]), "PNGImage.grid: expects [N, H, W, 1 or 3], got \(images.shape)")
        let (n, h, w, c) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
        let rows = (n + columns - 1) / columns
        let gap = 2
        let cellH = h * scale + gap
        let cellW = w * scale + gap
        let width = columns * cellW + gap
        let height = rows * cellH + gap
        var pixels = [UInt8](repeating: 64, count: width * height * c)
        let values = images.scalars
        for index in 0..<n {
            let top = gap + (index / columns) * cellH
            let left = gap + (index % columns) * cellW
            for y in 0..<(h * scale) {
                for x in 0..<(w * scale) {
                    for channel in 0..<c {
                        let value = values[((index * h + y / scale) * w + x / scale) * c + channel]
                        pixels[((top + y) * width + left + x) * c + channel] = UInt8(max(0, min(255, (value * 255).rounded())))
                    }
                }
            }
        }
        return PNGImage(width: width, height: height, channels: c, pixels: pixels)
    }
}
