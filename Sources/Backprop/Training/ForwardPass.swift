import Foundation

/// One layer's output in a recorded forward pass.
public struct LayerOutput {
    /// The layer's path in the model walk (``Layer/namedLayers``), e.g. `layers.2`.
    public let path: String
    public let layer: any Layer
    /// The tensor the layer returned (the step's own, not a copy).
    public let output: Tensor
}

/// What the forward pass of a training step produced, handed to ``Callback/forwardDidEnd(_:_:)``
/// before the backward pass.
public struct ForwardPass {
    /// The batch.
    public let inputs: Tensor
    public let targets: Tensor
    /// The network's output.
    public let predictions: Tensor
    /// The data loss (without penalties).
    public let loss: Float
    /// Every layer's output, in order, when a callback asked for them at this step
    /// (``Callback/wantsLayerOutputs(atStep:)``); empty otherwise. They are the step's own
    /// tensors: read them during the call, do not keep them.
    public let layerOutputs: [LayerOutput]
}

/// Keeps the output of each layer `Sequential` runs on this thread while active: how monitors see
/// activations without hooks on every layer type.
enum LayerOutputRecording {
    final class Buffer { var outputs: [(ObjectIdentifier, Tensor)] = [] }
    private static let key = "Backprop.LayerOutputRecording"

    /// Whether outputs are being recorded on this thread.
    static var isActive: Bool { GradientMode.isRecordingOutputs }

    /// Runs `body`, returning what it returned and the recorded outputs in order.
    static func recording<R>(_ body: () throws -> R) rethrows -> (R, [(ObjectIdentifier, Tensor)]) {
        let buffer = Buffer()
        let dictionary = Thread.current.threadDictionary
        let saved = (dictionary[key], GradientMode.isRecordingOutputs)
        dictionary[key] = buffer
        GradientMode.isRecordingOutputs = true
        defer {
            dictionary[key] = saved.0
            GradientMode.isRecordingOutputs = saved.1
        }
        let result = try body()
        return (result, buffer.outputs)
    }

    /// Records `output` as `layer`'s (called by `Sequential` when active).
    static func record(_ layer: any Layer, _ output: Tensor) {
        (Thread.current.threadDictionary[key] as? Buffer)?.outputs.append((ObjectIdentifier(layer), output))
    }
}

extension Model {
    /// Recorded outputs named by the model walk; a network that is not a `Sequential` (its own
    /// layers recorded nothing) reports its output as the root's.
    func layerOutputs(_ recorded: [(ObjectIdentifier, Tensor)], output: Tensor) -> [LayerOutput] {
        let paths = layerPaths
        let outputs = recorded.compactMap { id, tensor in paths[id].map { LayerOutput(path: $0.0, layer: $0.1, output: tensor) } }
        return outputs.isEmpty ? [LayerOutput(path: "", layer: network, output: output)] : outputs
    }
}
