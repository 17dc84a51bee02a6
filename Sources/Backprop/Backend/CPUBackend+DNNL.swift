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
        let plan = convolutionPlan(geometry)
        var staging: [TensorStorage] = []
        let source = elements(input, in: plan.source, staging: &staging)
        write(output, in: plan.destination) { target in
            let status = plan.object.withHandle { bp_conv_forward($0, source, weight.pointer, bias?.pointer, target) }
            precondition(status == 0, "conv2D: oneDNN forward failed for \(geometry)")
            // Not oneDNN's ReLU post-op: it maps NaN to 0, and a NaN must be seen where it starts.
            if geometry.fusedReLU { bp_relu_in_place(target, Int64(geometry.outputElementCount)) }
        }
        withExtendedLifetime(staging) {}
    }

    public func convolutionBackwardData(
        _ geometry: ConvolutionGeometry, outputGradient: TensorStorage, weight: TensorStorage,
        into inputGradient: TensorStorage
    ) {
        let plan = convolutionPlan(geometry)
        var staging: [TensorStorage] = []
        // A one-channel NCHW first layer has no JIT backward-data kernel in the plan's layouts: NHWC.
        let (object, source, destination) =
            plan.fastBackwardData ? (plan.object, plan.source, plan.destination) : (plan.plainObject, nil, nil)
        let gradient = elements(outputGradient, in: destination, staging: &staging)
        write(inputGradient, in: source) { target in
            let status = object.withHandle { bp_conv_backward_data($0, gradient, weight.pointer, target) }
            precondition(status == 0, "conv2D: oneDNN backward-data failed for \(geometry)")
        }
        withExtendedLifetime(staging) {}
    }

    public func convolutionBackwardWeights(
        _ geometry: ConvolutionGeometry, input: TensorStorage, outputGradient: TensorStorage,
        into weightGradient: TensorStorage, biasGradient: TensorStorage?
    ) {
        let plan = convolutionPlan(geometry)
        var staging: [TensorStorage] = []
        let source = elements(input, in: plan.source, staging: &staging)
        let gradient = elements(outputGradient, in: plan.destination, staging: &staging)
        let status = plan.object.withHandle {
            bp_conv_backward_weights($0, source, gradient, weightGradient.pointer, biasGradient?.pointer)
        }
        precondition(status == 0, "conv2D: oneDNN backward-weights failed for \(geometry)")
        withExtendedLifetime(staging) {}
    }

    public func poolingForward(_ geometry: PoolingGeometry, input: TensorStorage, into output: TensorStorage) -> TensorStorage? {
        let plan = poolingPlan(geometry, input: input)
        let bytes = plan.object.withHandle { bp_pool_workspace_size($0) }
        let workspace = bytes > 0 ? TensorStorage(uninitializedCount: (bytes + 3) / 4) : nil
        var staging: [TensorStorage] = []
        let source = elements(input, in: plan.source, staging: &staging)
        write(output, in: plan.destination) { target in
            let status = plan.object.withHandle { bp_pool_forward($0, source, target, workspace?.pointer) }
            precondition(status == 0, "pool2D: oneDNN forward failed for \(geometry)")
        }
        withExtendedLifetime(staging) {}
        return workspace
    }

    public func poolingBackward(
        _ geometry: PoolingGeometry, outputGradient: TensorStorage, workspace: TensorStorage?,
        into inputGradient: TensorStorage
    ) {
        // The same plan (and primitive) as the forward pass, whose workspace this reads.
        let plan = poolingPlan(geometry)
        var staging: [TensorStorage] = []
        let gradient = elements(outputGradient, in: plan.destination, staging: &staging)
        write(inputGradient, in: plan.source) { target in
            let status = plan.object.withHandle { bp_pool_backward($0, gradient, workspace?.pointer, target) }
            precondition(status == 0, "pool2D: oneDNN backward failed for \(geometry)")
        }
        withExtendedLifetime(staging) {}
    }

    /// The primitives and activation layouts of one convolution shape: blocked when both the
    /// output's channels fit the block and oneDNN has a fast blocked kernel for all three passes,
    /// else NHWC. A function of the shape alone, so the backward passes find the forward's layouts;
    /// made once per shape and kept.
    func convolutionPlan(_ geometry: ConvolutionGeometry) -> ConvolutionPlan {
        var key = geometry
        key.fusedReLU = false  // the ReLU is our kernel, not part of the primitives
        if let plan = convolutionPlans.withLock({ $0[key] }) { return plan }
        let plan = makeConvolutionPlan(key)
        convolutionPlans.withLock { $0[key] = plan }
        return plan
    }

    private func makeConvolutionPlan(_ geometry: ConvolutionGeometry) -> ConvolutionPlan {
        let cache = DNNLCache.shared
        let plain = cache.convolution(geometry, sourceBlock: 0, destinationBlock: 0, winograd: false)
        let nhwc = ConvolutionPlan(source: nil, destination: nil, object: plain, plainObject: plain, fastBackwardData: true)
        guard
            let destination = blockedLayout(
                batch: geometry.batch, height: geometry.outputHeight, width: geometry.outputWidth, channels: geometry.outputChannels)
        else { return nhwc }
        let source = blockedLayout(
            batch: geometry.batch, height: geometry.inputHeight, width: geometry.inputWidth, channels: geometry.inputChannels)
        let object = cache.convolution(
            geometry, sourceBlock: source?.block ?? 0, destinationBlock: destination.block, winograd: Self.winogradFits(geometry))
        // Only JIT kernels count: not a `ref` fallback, not im2col `gemm`.
        let names = DNNLCache.kernelNames(object, blocked: false)
        let fast = names.map { !$0.hasPrefix("ref") && !$0.contains("gemm") }
        let winograd = names[0].contains("wino")
        // Inference keeps NHWC unless Winograd runs: NHWC's forward kernel (brgconv) is faster than
        // the direct blocked one (VGG-style predict 1,515–1,570 vs 1,388–1,411 samples/s).
        guard fast[0] && fast[2], !geometry.forwardOnly || winograd else { return nhwc }
        return ConvolutionPlan(source: source, destination: destination, object: object, plainObject: plain, fastBackwardData: fast[1])
    }

    /// Whether to ask oneDNN for Winograd kernels (F(4×4, 3×3), AVX-512 only): 3×3, stride 1, no
    /// dilation, at least 32 channels in and out. Measured on Zen 5 (2026-12-06, alternating runs):
    /// VGG-style training 780 vs 452 samples/s, the CNN 13,647 / 14,638 vs 13,273 / 13,201, within
    /// 2e-6 of the direct kernels' output; ResNet-20's 16-channel convolutions lost 6 % with it.
    static func winogradFits(_ g: ConvolutionGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.strideHeight == 1 && g.strideWidth == 1 && g.dilationHeight == 1
            && g.dilationWidth == 1 && g.inputChannels >= 32 && g.outputChannels >= 32
    }

    /// The primitive and layouts of one pooling shape: blocked whenever the channels fit the block
    /// (in inference, when the input is blocked).
    func poolingPlan(_ geometry: PoolingGeometry, input: TensorStorage? = nil) -> PoolingPlan {
        var source = blockedLayout(
            batch: geometry.batch, height: geometry.inputHeight, width: geometry.inputWidth, channels: geometry.channels)
        if geometry.forwardOnly, let input, !(input.nativeLayout as? BlockedLayout == source) { source = nil }
        let destination =
            source == nil
            ? nil
            : blockedLayout(batch: geometry.batch, height: geometry.outputHeight, width: geometry.outputWidth, channels: geometry.channels)
        return PoolingPlan(
            source: source, destination: destination, object: DNNLCache.shared.pooling(geometry, block: source?.block ?? 0))
    }

    // Batch normalization runs blocked when its input arrives blocked (a convolution's output or a
    // residual sum), with oneDNN's JIT kernel for that layout; otherwise on rows × channels.

    /// The input's blocked layout and elements when they are the rows × channels being normalized.
    private func blockedImages(
        _ input: TensorStorage, rows: Int, channels: Int
    ) -> (layout: BlockedLayout, pointer: UnsafeMutablePointer<Float>)? {
        guard let blocked = blockedElements(input), blocked.layout.channels == channels,
            blocked.layout.elementCount == rows * channels
        else { return nil }
        return blocked
    }

    public func batchNormalizationForward(
        rows: Int, channels: Int, epsilon: Float, input: TensorStorage, scale: TensorStorage, shift: TensorStorage,
        into output: TensorStorage, mean: TensorStorage, variance: TensorStorage
    ) {
        let blocked = blockedImages(input, rows: rows, channels: channels)
        let geometry = BatchNormGeometry(rows: rows, channels: channels, epsilon: epsilon, layout: blocked?.layout)
        let source = blocked?.pointer ?? input.pointer
        write(output, in: blocked?.layout) { target in
            let status = DNNLCache.shared.batchNormalization(geometry).withHandle {
                bp_bnorm_forward($0, source, scale.pointer, shift.pointer, target, mean.pointer, variance.pointer)
            }
            precondition(status == 0, "batchNorm: oneDNN forward failed for \(rows)×\(channels)")
        }
    }

    public func batchNormalizationBackward(
        rows: Int, channels: Int, epsilon: Float, input: TensorStorage, mean: TensorStorage, variance: TensorStorage,
        outputGradient: TensorStorage, scale: TensorStorage, shift: TensorStorage, into inputGradient: TensorStorage,
        scaleGradient: TensorStorage, shiftGradient: TensorStorage
    ) {
        let blocked = blockedImages(input, rows: rows, channels: channels)
        var staging: [TensorStorage] = []
        let source = blocked?.pointer ?? input.pointer
        let gradient = elements(outputGradient, in: blocked?.layout, staging: &staging)
        let geometry = BatchNormGeometry(rows: rows, channels: channels, epsilon: epsilon, layout: blocked?.layout)
        write(inputGradient, in: blocked?.layout) { target in
            let status = DNNLCache.shared.batchNormalization(geometry).withHandle {
                bp_bnorm_backward(
                    $0, source, mean.pointer, variance.pointer, gradient, scale.pointer, shift.pointer, target, scaleGradient.pointer,
                    shiftGradient.pointer)
            }
            precondition(status == 0, "batchNorm: oneDNN backward failed for \(rows)×\(channels)")
        }
        withExtendedLifetime(staging) {}
    }

    /// Every oneDNN primitive created so far, described with the kernels it runs (forward,
    /// backward…), for checking that none fell back to a slow `ref` implementation.
    public func kernelsInUse() -> [(shape: String, kernels: [String])] {
        DNNLCache.shared.convolutionGeometries.flatMap { geometry in
            [false, true].map { forwardOnly in
                var shape = geometry
                shape.forwardOnly = forwardOnly
                return (
                    "conv \(shape.kernelHeight)×\(shape.kernelWidth) \(shape.inputChannels)→\(shape.outputChannels) on \(shape.batch)×\(shape.inputHeight)×\(shape.inputWidth)\(forwardOnly ? " (inference)" : "")",
                    kernelNames(shape)
                )
            }
        }
            + DNNLCache.shared.poolingGeometries.map {
                (
                    "\($0.kind) pool \($0.kernelHeight)×\($0.kernelWidth) on \($0.batch)×\($0.inputHeight)×\($0.inputWidth)×\($0.channels)",
                    kernelNames($0)
                )
            }
            + Set(fusedConvolutionPools.withLock { $0 }.map(\.description)).sorted().map { ($0, ["bp_conv_maxpool (fused, blocked)"]) }
    }

    public func kernelNames(_ geometry: ConvolutionGeometry) -> [String] {
        let plan = convolutionPlan(geometry)
        var names = DNNLCache.kernelNames(plan.object, blocked: plan.destination != nil)
        if !plan.fastBackwardData { names[1] = DNNLCache.kernelNames(plan.plainObject, blocked: false)[1] }
        return names
    }

    public func kernelNames(_ geometry: PoolingGeometry) -> [String] {
        let plan = poolingPlan(geometry)
        let names = (0..<2).map { which in plan.object.withHandle { String(cString: bp_pool_implementation($0, Int32(which))) } }
        return plan.source == nil ? names : names.map { $0 + " (blocked)" }
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
    private let convolutions = Mutex<[LayoutKey<ConvolutionGeometry>: DNNLObject]>([:])
    private let poolings = Mutex<[LayoutKey<PoolingGeometry>: DNNLObject]>([:])
    private let batchNormalizations = Mutex<[BatchNormGeometry: DNNLObject]>([:])
    private let relayouts = Mutex<[LayoutKey<BlockedLayout>: DNNLObject]>([:])

    var convolutionGeometries: [ConvolutionGeometry] { convolutions.withLock { Set($0.keys.map(\.geometry)).sorted { "\($0)" < "\($1)" } } }
    var poolingGeometries: [PoolingGeometry] { poolings.withLock { Set($0.keys.map(\.geometry)).sorted { "\($0)" < "\($1)" } } }

    /// The kernels of a convolution object: forward, backward data, backward weights.
    static func kernelNames(_ object: DNNLObject, blocked: Bool) -> [String] {
        (0..<3).map { which in
            object.withHandle { String(cString: bp_conv_implementation($0, Int32(which))) } + (blocked ? " (blocked)" : "")
        }
    }

    /// The reorder between NHWC and `layout`, either way.
    func relayout(_ layout: BlockedLayout, toBlocked: Bool) -> DNNLObject {
        Self.object(
            in: relayouts,
            for: LayoutKey(geometry: layout, sourceBlock: toBlocked ? 0 : layout.block, destinationBlock: toBlocked ? layout.block : 0),
            operation: "layout conversion",
            create: {
                bp_relayout_create(
                    Int64(layout.batch), Int64(layout.channels), Int64(layout.height), Int64(layout.width), Int32(layout.block),
                    toBlocked ? 1 : 0, $0, $1)
            }, destroy: { bp_relayout_destroy($0) })
    }

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
                guard let layout = g.layout else { return bp_bnorm_create(Int64(g.rows), Int64(g.channels), g.epsilon, 1, $0, $1) }
                return bp_bnorm_create_blocked(
                    Int64(layout.batch), Int64(layout.channels), Int64(layout.height), Int64(layout.width), Int32(layout.block),
                    g.epsilon, 1, $0, $1)
            }, destroy: { bp_bnorm_destroy($0) })
    }

    func convolution(_ key: ConvolutionGeometry, sourceBlock: Int, destinationBlock: Int, winograd: Bool) -> DNNLObject {
        var g = key
        // One primitive set per shape, for training and inference, with or without the ReLU (our kernel).
        g.fusedReLU = false
        g.forwardOnly = false
        var geometry = bp_conv_geometry(
            batch: Int64(g.batch), input_height: Int64(g.inputHeight), input_width: Int64(g.inputWidth),
            input_channels: Int64(g.inputChannels), output_height: Int64(g.outputHeight), output_width: Int64(g.outputWidth),
            output_channels: Int64(g.outputChannels), kernel_height: Int64(g.kernelHeight), kernel_width: Int64(g.kernelWidth),
            stride_height: Int64(g.strideHeight), stride_width: Int64(g.strideWidth), dilation_height: Int64(g.dilationHeight),
            dilation_width: Int64(g.dilationWidth), pad_top: Int64(g.padTop), pad_left: Int64(g.padLeft),
            pad_bottom: Int64(g.padBottom), pad_right: Int64(g.padRight), has_bias: g.hasBias ? 1 : 0,
            src_block: Int32(sourceBlock), dst_block: Int32(destinationBlock), winograd: winograd ? 1 : 0)
        return Self.object(
            in: convolutions,
            for: LayoutKey(geometry: g, sourceBlock: sourceBlock, destinationBlock: destinationBlock, winograd: winograd),
            operation: "conv2D", create: { bp_conv_create(&geometry, $0, $1) },
            destroy: { bp_conv_destroy($0) })
    }

    func pooling(_ key: PoolingGeometry, block: Int) -> DNNLObject {
        var g = key
        g.forwardOnly = false
        var geometry = bp_pool_geometry(
            batch: Int64(g.batch), input_height: Int64(g.inputHeight), input_width: Int64(g.inputWidth),
            channels: Int64(g.channels), output_height: Int64(g.outputHeight), output_width: Int64(g.outputWidth),
            kernel_height: Int64(g.kernelHeight), kernel_width: Int64(g.kernelWidth), stride_height: Int64(g.strideHeight),
            stride_width: Int64(g.strideWidth), pad_top: Int64(g.padTop), pad_left: Int64(g.padLeft),
            pad_bottom: Int64(g.padBottom), pad_right: Int64(g.padRight), max: g.kind == .max ? 1 : 0,
            include_padding: g.kind == .averageIncludingPadding ? 1 : 0, block: Int32(block))
        return Self.object(
            in: poolings, for: LayoutKey(geometry: g, sourceBlock: block, destinationBlock: block), operation: "pool2D",
            create: { bp_pool_create(&geometry, $0, $1) },
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
    /// The images' blocked layout, or nil for rows × channels.
    let layout: BlockedLayout?
}

/// A cached oneDNN object's key: a shape and the activation layouts it runs in (0 NHWC, else the
/// channel block).
struct LayoutKey<Geometry: Hashable & Sendable>: Hashable, Sendable {
    let geometry: Geometry
    let sourceBlock: Int
    let destinationBlock: Int
    /// Winograd asked for (convolutions only).
    var winograd = false
}

/// How one convolution shape runs: its activation layouts (nil = NHWC) and primitives, and the
/// NHWC primitives for a backward-data pass into a gradient buffer that cannot be blocked.
struct ConvolutionPlan: Sendable {
    let source: BlockedLayout?
    let destination: BlockedLayout?
    let object: DNNLObject
    let plainObject: DNNLObject
    /// Whether `object` has a JIT backward-data kernel; if not, that pass runs `plainObject`.
    let fastBackwardData: Bool
}

/// How one pooling shape runs: its activation layouts (nil = NHWC) and primitives.
struct PoolingPlan {
    let source: BlockedLayout?
    let destination: BlockedLayout?
    let object: DNNLObject
}
