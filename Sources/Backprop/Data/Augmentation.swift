import Foundation

/// Random image augmentations applied on the fly to each batch of NHWC images ("the best way to
/// improve a model is more data"). Every random choice comes from the generator the
/// ``DataLoader`` derives from (seed, epoch, batch), so augmentation is reproducible.
///
/// ```swift
/// let augmentation = try Augmentation(parsing: "flip,shift:2,erase")
/// ```
public struct Augmentation: Sendable, Equatable, CustomStringConvertible {
    /// One kind of random change.
    public enum Operation: Sendable, Equatable {
        /// Mirror left-right with probability ½.
        case horizontalFlip
        /// Mirror top-bottom with probability ½.
        case verticalFlip
        /// Translate by a random whole number of pixels in [−n, n] on each axis, filling with zeros
        /// (equivalent to padding by n and cropping at random).
        case shift(Int)
        /// Rotate about the centre by a random angle in [−degrees, degrees], bilinear, zeros outside.
        case rotation(degrees: Float)
        /// Add N(0, σ²) noise to every value.
        case noise(standardDeviation: Float)
        /// Random erasing / cutout (Zhong et al. 2017; DeVries & Taylor 2017): with probability ½
        /// set a random square of side `size` to zero.
        case erase(size: Int)
    }

    public let operations: [Operation]

    public init(_ operations: [Operation]) { self.operations = operations }
    public init(_ operations: Operation...) { self.operations = operations }

    /// Parses the CLI form: a comma-separated list of `flip`, `vflip`, `shift:N`, `rotate:DEGREES`,
    /// `noise:SIGMA`, `erase[:SIZE]` (size defaults to a quarter of the image side).
    public init(parsing text: String) throws {
        var operations: [Operation] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
            let argument = parts.count > 1 ? parts[1] : nil
            func number(_ fallback: Float?, atMost limit: Float, integer: Bool = false) throws -> Float {
                if let argument, let value = Float(argument), value >= 0, value <= limit, !integer || value == value.rounded() {
                    return value
                }
                if argument == nil, let fallback { return fallback }
                throw BackpropError.invalidArgument(
                    name: "augmentation \(parts[0])",
                    expected: "\(integer ? "a whole number" : "a number") in 0…\(Int(limit)) after ':'", found: argument ?? "nothing")
            }
            if argument != nil && ["flip", "hflip", "vflip"].contains(parts[0]) {
                throw BackpropError.invalidArgument(name: "augmentation \(parts[0])", expected: "no argument", found: argument!)
            }
            switch parts[0] {
            case "flip", "hflip": operations.append(.horizontalFlip)
            case "vflip": operations.append(.verticalFlip)
            case "shift": operations.append(.shift(Int(try number(2, atMost: 4096, integer: true))))
            case "rotate": operations.append(.rotation(degrees: try number(10, atMost: 180)))
            case "noise": operations.append(.noise(standardDeviation: try number(0.05, atMost: 100)))
            case "erase": operations.append(.erase(size: Int(try number(0, atMost: 4096, integer: true))))
            default:
                throw BackpropError.invalidArgument(
                    name: "augmentation", expected: "flip, vflip, shift:N, rotate:DEG, noise:SIGMA or erase[:SIZE]", found: item)
            }
        }
        self.operations = operations
    }

    public var description: String {
        operations.map { operation in
            switch operation {
            case .horizontalFlip: "flip"
            case .verticalFlip: "vflip"
            case .shift(let n): "shift:\(n)"
            case .rotation(let degrees): "rotate:\(degrees)"
            case .noise(let sigma): "noise:\(sigma)"
            case .erase(let size): "erase:\(size)"
            }
        }.joined(separator: ",")
    }

    /// Applies the operations in order to every image of `batch` [N, H, W, C], in place.
    public func apply(to batch: Tensor, generator: inout RandomGenerator) {
        precondition(batch.rank == 4, "Augmentation: expects a batch of images [N, H, W, C], got \(batch.shape)")
        let (n, h, w, c) = (batch.shape[0], batch.shape[1], batch.shape[2], batch.shape[3])
        let size = h * w * c
        var scratch = [Float](repeating: 0, count: size)
        for sample in 0..<n {
            let image = batch.storage.pointer + sample * size
            for operation in operations {
                scratch.withUnsafeMutableBufferPointer { buffer in
                    Self.apply(
                        operation, image: image, scratch: buffer.baseAddress!, height: h, width: w, channels: c, generator: &generator)
                }
            }
        }
    }

    private static func apply(
        _ operation: Operation, image: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, height h: Int,
        width w: Int, channels c: Int, generator: inout RandomGenerator
    ) {
        let size = h * w * c
        switch operation {
        case .horizontalFlip:
            guard generator.next() & 1 == 1 else { return }
            for row in 0..<h {
                for column in 0..<(w / 2) {
                    for channel in 0..<c {
                        let a = (row * w + column) * c + channel
                        let b = (row * w + (w - 1 - column)) * c + channel
                        (image[a], image[b]) = (image[b], image[a])
                    }
                }
            }
        case .verticalFlip:
            guard generator.next() & 1 == 1 else { return }
            for row in 0..<(h / 2) {
                for column in 0..<(w * c) {
                    let a = row * w * c + column
                    let b = (h - 1 - row) * w * c + column
                    (image[a], image[b]) = (image[b], image[a])
                }
            }
        case .shift(let limit):
            guard limit > 0 else { return }
            let dy = Int(generator.next() % UInt64(2 * limit + 1)) - limit
            let dx = Int(generator.next() % UInt64(2 * limit + 1)) - limit
            guard dx != 0 || dy != 0 else { return }
            scratch.update(from: image, count: size)
            for row in 0..<h {
                let source = row - dy
                for column in 0..<w {
                    let sourceColumn = column - dx
                    let inside = source >= 0 && source < h && sourceColumn >= 0 && sourceColumn < w
                    for channel in 0..<c {
                        image[(row * w + column) * c + channel] = inside ? scratch[(source * w + sourceColumn) * c + channel] : 0
                    }
                }
            }
        case .rotation(let degrees):
            guard degrees > 0 else { return }
            let angle = (generator.nextUniform() * 2 - 1) * degrees * .pi / 180
            let (cosine, sine) = (Foundation.cos(angle), Foundation.sin(angle))
            let (cy, cx) = (Float(h - 1) / 2, Float(w - 1) / 2)
            scratch.update(from: image, count: size)
            for row in 0..<h {
                for column in 0..<w {
                    // Inverse map each output pixel into the source image.
                    let y = Float(row) - cy
                    let x = Float(column) - cx
                    let sy = cosine * y + sine * x + cy
                    let sx = -sine * y + cosine * x + cx
                    let y0 = Int(sy.rounded(.down))
                    let x0 = Int(sx.rounded(.down))
                    let fy = sy - Float(y0)
                    let fx = sx - Float(x0)
                    for channel in 0..<c {
                        func pixel(_ r: Int, _ q: Int) -> Float {
                            r >= 0 && r < h && q >= 0 && q < w ? scratch[(r * w + q) * c + channel] : 0
                        }
                        let top = pixel(y0, x0) * (1 - fx) + pixel(y0, x0 + 1) * fx
                        let bottom = pixel(y0 + 1, x0) * (1 - fx) + pixel(y0 + 1, x0 + 1) * fx
                        image[(row * w + column) * c + channel] = top * (1 - fy) + bottom * fy
                    }
                }
            }
        case .noise(let sigma):
            guard sigma > 0 else { return }
            for i in 0..<size { image[i] += sigma * generator.nextNormal() }
        case .erase(let requested):
            guard generator.next() & 1 == 1 else { return }
            let side = min(requested > 0 ? requested : max(1, min(h, w) / 4), min(h, w))
            let top = Int(generator.next() % UInt64(h - side + 1))
            let left = Int(generator.next() % UInt64(w - side + 1))
            for row in top..<(top + side) {
                (image + (row * w + left) * c).update(repeating: 0, count: side * c)
            }
        }
    }
}
