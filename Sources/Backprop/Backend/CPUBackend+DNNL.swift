import CBackpropDNNL
import CBackpropKernels
import Foundation
import Synchronization

/// Convolution and pooling through oneDNN primitives, created once per shape and cached (creation
/// JIT-compiles a kernel; re-use costs nothing).
extension CPUBackend {
    public func convolutionForward(
        _ geometry: ConvolutionGeometry, input: TensorStorage, weight: TensorStorage, bias: TensorStorage?,
        into output: TensorStorage
    ) {
        let status = DNNLCache.shared.convolution(geometry).withHandle {
            bp_conv_forward($0, input.pointer, weight.pointer, bias?.pointer, output.pointer)
        }
        precondition(status == 0, "conv2D: oneDNN forward failed for \(geometry)")
        // Not oneDNN's ReLU post-op: it maps NaN to 0, and a NaN must be seen where it starts.
        if geometry.fusedReLU { bp_relu_in_place(output.pointer, Int64(geometry.outputElementCount)) }
    }

    public func convolutionBackwardData(
        _ geometry: ConvolutionGeometry, outputGradient: TensorStorage, weight: TensorStorage,
        into inputGradient: TensorStorage
    ) {
        let status = DNNLCache.shared.convolution(geometry).withHandle {
            bp_conv_backward_data($0, outputGradient.pointer, weight.pointer, inputGradient.pointer)
        }
        precondition(status == 0, "conv2D: oneDNN backward-data failed for \(geometry)")
    }

    public func convolutionBackwardWeights(
        _ geometry: ConvolutionGeometry, input: TensorStorage, outputGradient: TensorStorage,
        into weightGradient: TensorStorage, biasGradient: TensorStorage?
    ) {
        let status = DNNLCache.shared.convolution(geometry).withHandle {
            bp_conv_backward_weights($0, input.pointer, outputGradient.pointer, weightGradient.pointer, biasGradient?.pointer)
        }
        precondition(status == 0, "conv2D: oneDNN backward-weights failed for \(geometry)")
    }

    public func poolingForward(_ geometry: PoolingGeometry, input: TensorStorage, into output: TensorStorage) -> TensorStorage? {
        let pool = DNNLCache.shared.pooling(geometry)
        let bytes = pool.withHandle { bp_pool_workspace_size($0) }
        let workspace = bytes > 0 ? TensorStorage(uninitializedCount: (bytes + 3) / 4) : nil
        let status = pool.withHandle { bp_pool_forward($0, input.pointer, output.pointer, workspace?.pointer) }
        precondition(status == 0, "pool2D: oneDNN forward failed for \(geometry)")
        return workspace
    }

    public func poolingBackward(
        _ geometry: PoolingGeometry, outputGradient: TensorStorage, workspace: TensorStorage?,
        into inputGradient: TensorStorage
    ) {
        let status = DNNLCache.shared.pooling(geometry).withHandle {
            bp_pool_backward($0, outputGradient.pointer, workspace?.pointer, inputGradient.pointer)
        }
        precondition(status == 0, "pool2D: oneDNN backward failed for \(geometry)")
    }

    public func batchNormalizationForward(
        rows: Int, channels: Int, epsilon: Float, input: TensorStorage, scale: TensorStorage, shift: TensorStorage,
        into output: TensorStorage, mean: TensorStorage, variance: TensorStorage
    ) {
        let status = DNNLCache.shared.batchNormalization(BatchNormGeometry(rows: rows, channels: channels, epsilon: epsilon)).withHandle {
            bp_bnorm_forward($0, input.pointer, scale.pointer, shift.pointer, output.pointer, mean.pointer, variance.pointer)
        }
        precondition(status == 0, "batchNorm: oneDNN forward failed for \(rows)×\(channels)")
    }

    public func batchNormalizationBackward(
        rows: Int, channels: Int, epsilon: Float, input: TensorStorage, mean: TensorStorage, variance: TensorStorage,
        outputGradient: TensorStorage, scale: TensorStorage, shift: TensorStorage, into inputGradient: TensorStorage,
        scaleGradient: TensorStorage, shiftGradient: TensorStorage
    ) {
        let status = DNNLCache.shared.batchNormalization(BatchNormGeometry(rows: rows, channels: channels, epsilon: epsilon)).withHandle {
            bp_bnorm_backward(
                $0, input.pointer, mean.pointer, variance.pointer, outputGradient.pointer, scale.pointer, shift.pointer,
                inputGradient.pointer, scaleGradient.pointer, shiftGradient.pointer)
        }
        precondition(status == 0, "batchNorm: oneDNN backward failed for \(rows)×\(channels)")
    }

    /// Every oneDNN primitive created so far, described with the kernels it runs (forward,
    /// backward…), for checking that none fell back to a slow `ref` implementation.
    public func kernelsInUse() -> [(shape: String, kernels: [String])] {
        DNNLCache.shared.convolutionGeometries.map {
            (
                "conv \($0.kernelHeight)×\($0.kernelWidth) \($0.inputChannels)→\($0.outputChannels) on \($0.batch)×\($0.inputHeight)×\($0.inputWidth)",
                kernelNames($0)
            )
        }
            + DNNLCache.shared.poolingGeometries.map {
                (
                    "\($0.kind) pool \($0.kernelHeight)×\($0.kernelWidth) on \($0.batch)×\($0.inputHeight)×\($0.inputWidth)×\($0.channels)",
                    kernelNames($0)
                )
            }
    }

    public func kernelNames(_ geometry: ConvolutionGeometry) -> [String] {
        let conv = DNNLCache.shared.convolution(geometry)
        return (0..<3).map { which in conv.withHandle { String(cString: bp_conv_implementation($0, Int32(which))) } }
    }

    public func kernelNames(_ geometry: PoolingGeometry) -> [String] {
        let pool = DNNLCache.shared.pooling(geometry)
        return (0..<2).map { which in pool.withHandle { String(cString: bp_pool_implementation($0, Int32(which))) } }
    }
}

/// Owns one oneDNN object (a convolution, pooling or batch normalization of one shape).
///
/// The C object is not thread-safe (each call rebinds its memory handles and reuses its reorder
/// buffers), while the cache hands one object per shape to every thread: `withHandle` therefore
/// holds the object's lock for the call. Two threads training the same shapes take turns on each
/// primitive call (oneDNN runs that call on all cores anyway); different shapes never wait.
final class DNNLObject: @unchecked Sendable {
    private let handle: OpaquePointer
    private let destroy: (OpaquePointer) -> Void
    private let lock = NSLock()

    init(_ handle: OpaquePointer, destroy: @escaping (OpaquePointer) -> Void) {
        self.handle = handle
        self.destroy = destroy
    }

    deinit { destroy(handle) }

    func withHandle<R>(_ body: (OpaquePointer) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(handle)
    }
}

/// The process-wide cache of oneDNN primitives by shape.
final class DNNLCache: Sendable {
    static let shared = DNNLCache()
    private let convolutions = Mutex<[ConvolutionGeometry: DNNLObject]>([:])
    private let poolings = Mutex<[PoolingGeometry: DNNLObject]>([:])
    private let batchNormalizations = Mutex<[BatchNormGeometry: DNNLObject]>([:])

    var convolutionGeometries: [ConvolutionGeometry] { convolutions.withLock { Array($0.keys) } }
    var poolingGeometries: [PoolingGeometry] { poolings.withLock { Array($0.keys) } }

    /// The cached object for `key`, or a new one from `create` (which fills a C error buffer and
    /// returns nil when oneDNN rejects the shape; that traps naming the operation and the shape).
    private static func object<Key: Hashable & Sendable>(
        in cache: borrowing Mutex<[Key: DNNLObject]>, for key: Key, operation: String,
        create: (UnsafeMutablePointer<CChar>, Int) -> OpaquePointer?, destroy: @escaping (OpaquePointer) -> Void
    ) -> DNNLObject {
        // Looked up and created under the cache's lock, so two threads never build the same primitive.
        cache.withLock { objects in
            if let cached = objects[key] { return cached }
            var error = [CChar](repeating: 0, count: 256)
            guard let handle = error.withUnsafeMutableBufferPointer({ create($0.baseAddress!, $0.count) }) else {
                preconditionFailure("\(operation): \(String(cMessage: error)) for \(key)")
            }
            let object = DNNLObject(handle, destroy: destroy)
            objects[key] = object
            return object
        }
    }

    func batchNormalization(_ g: BatchNormGeometry) -> DNNLObject {
        Self.object(
            in: batchNormalizations, for: g, operation: "batchNorm",
            create: {
                bp_bnorm_create(Int64(g.rows), Int64(g.channels), g.epsilon, 1, $0, $1)
            }, destroy: { bp_bnorm_destroy($0) })
    }

    func convolution(_ key: ConvolutionGeometry) -> DNNLObject {
        var g = key
        g.fusedReLU = false  // one primitive set per shape, with or without the ReLU (applied by our kernel)
        var geometry = bp_conv_geometry(
            batch: Int64(g.batch), input_height: Int64(g.inputHeight), input_width: Int64(g.inputWidth),
            input_channels: Int64(g.inputChannels), output_height: Int64(g.outputHeight), output_width: Int64(g.outputWidth),
            output_channels: Int64(g.outputChannels), kernel_height: Int64(g.kernelHeight), kernel_width: Int64(g.kernelWidth),
            stride_height: Int64(g.strideHeight), stride_width: Int64(g.strideWidth), dilation_height: Int64(g.dilationHeight),
            dilation_width: Int64(g.dilationWidth), pad_top: Int64(g.padTop), pad_left: Int64(g.padLeft),
            pad_bottom: Int64(g.padBottom), pad_right: Int64(g.padRight), has_bias: g.hasBias ? 1 : 0)
        return Self.object(
            in: convolutions, for: g, operation: "conv2D", create: { bp_conv_create(&geometry, $0, $1) },
            destroy: { bp_conv_destroy($0) })
    }

    func pooling(_ g: PoolingGeometry) -> DNNLObject {
        var geometry = bp_pool_geometry(
            batch: Int64(g.batch), input_height: Int64(g.inputHeight), input_width: Int64(g.inputWidth),
            channels: Int64(g.channels), output_height: Int64(g.outputHeight), output_width: Int64(g.outputWidth),
            kernel_height: Int64(g.kernelHeight), kernel_width: Int64(g.kernelWidth), stride_height: Int64(g.strideHeight),
            stride_width: Int64(g.strideWidth), pad_top: Int64(g.padTop), pad_left: Int64(g.padLeft),
            pad_bottom: Int64(g.padBottom), pad_right: Int64(g.padRight), max: g.kind == .max ? 1 : 0,
            include_padding: g.kind == .averageIncludingPadding ? 1 : 0)
        return Self.object(
            in: poolings, for: g, operation: "pool2D", create: { bp_pool_create(&geometry, $0, $1) },
            destroy: { bp_pool_destroy($0) })
    }
}

extension String {
    /// The text of a NUL-terminated C error buffer.
    init(cMessage buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// The shape of a training-mode batch normalization primitive.
struct BatchNormGeometry: Hashable, Sendable {
    let rows: Int
    let channels: Int
    let epsilon: Float
}
