import Foundation

/// Images in class folders, `root/<class>/*.png`, read from disk when a sample is requested.
/// Classes are the sub-folder names in sorted order. Every image must have the first image's size,
/// or, with `resizeTo`, is resized (bilinear) to that size; values are scaled to [0, 1].
public struct ImageFolderDataset: Dataset {
    /// The class names, by label.
    public let classes: [String]
    /// Every image's path and label.
    public let files: [(path: String, label: Int)]
    public let inputShape: Shape
    public var targetShape: Shape { [] }
    public var count: Int { files.count }
    let resize: Bool

    /// Scans `root`; the first image fixes the channels (gray or RGB) and, unless `resizeTo` is
    /// given, the size.
    public init(root: String, resizeTo size: (height: Int, width: Int)? = nil) throws {
        let manager = FileManager.default
        guard let entries = try? manager.contentsOfDirectory(atPath: root) else { throw BackpropError.fileNotFound(path: root) }
        var classes: [String] = []
        var files: [(String, Int)] = []
        for name in entries.sorted() {
            var isDirectory: ObjCBool = false
            let folder = (root as NSString).appendingPathComponent(name)
            guard manager.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            guard let contents = try? manager.contentsOfDirectory(atPath: folder) else {
                throw BackpropError.malformed(
                    path: folder, field: "class folder", expected: "a readable folder", found: "one that cannot be listed")
            }
            let images = contents.filter { $0.lowercased().hasSuffix(".png") }.sorted()
            guard !images.isEmpty else { continue }
            for image in images { files.append(((folder as NSString).appendingPathComponent(image), classes.count)) }
            classes.append(name)
        }
        guard let first = files.first else {
            throw BackpropError.malformed(
                path: root, field: "class folders", expected: "sub-folders holding .png images (root/<class>/*.png)", found: "none")
        }
        let probe = try PNGImage(contentsOf: first.0)
        self.classes = classes
        self.files = files
        self.inputShape = [size?.height ?? probe.height, size?.width ?? probe.width, probe.channels]
        self.resize = size != nil
    }

    /// Given image files with labels (-1 for none), read at `inputShape` [height, width,
    /// channels]: resized (bilinear) and converted to gray or RGB as needed.
    public init(files: [(path: String, label: Int)], classes: [String], inputShape: Shape) {
        precondition(inputShape.rank == 3, "ImageFolderDataset: inputShape must be [height, width, channels], got \(inputShape)")
        self.classes = classes
        self.files = files
        self.inputShape = inputShape
        self.resize = true
    }

    public func read(_ index: Int, input: UnsafeMutableBufferPointer<Float>, target: UnsafeMutableBufferPointer<Float>) throws {
        let (path, label) = files[index]
        let (h, w, c) = (inputShape[0], inputShape[1], inputShape[2])
        let image = try PNGImage(contentsOf: path, channels: c)
        if image.height == h && image.width == w {
            for i in 0..<input.count { input[i] = Float(image.pixels[i]) / 255 }
        } else if resize {
            let sy = Float(image.height) / Float(h)
            let sx = Float(image.width) / Float(w)
            for y in 0..<h {
                let fy = max(0, (Float(y) + 0.5) * sy - 0.5)
                let y0 = min(Int(fy), image.height - 1)
                let y1 = min(y0 + 1, image.height - 1)
                for x in 0..<w {
                    let fx = max(0, (Float(x) + 0.5) * sx - 0.5)
                    let x0 = min(Int(fx), image.width - 1)
                    let x1 = min(x0 + 1, image.width - 1)
                    let (ay, ax) = (fy - Float(y0), fx - Float(x0))
                    for channel in 0..<c {
                        func p(_ r: Int, _ q: Int) -> Float { Float(image.pixels[(r * image.width + q) * c + channel]) }
                        let value = (p(y0, x0) * (1 - ax) + p(y0, x1) * ax) * (1 - ay) + (p(y1, x0) * (1 - ax) + p(y1, x1) * ax) * ay
                        input[(y * w + x) * c + channel] = value / 255
                    }
                }
            }
        } else {
            throw BackpropError.malformed(
                path: path, field: "image size", expected: "\(h)×\(w) like the first image (or pass a resize size)",
                found: "\(image.height)×\(image.width)")
        }
        target[0] = Float(label)
    }
}
