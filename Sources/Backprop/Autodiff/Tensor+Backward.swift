import Synchronization

extension Tensor {
    /// Whether an operation on `inputs` is recorded on the tape (so a backward pass may follow).
    static func willRecord(_ inputs: [Tensor]) -> Bool {
        GradientMode.isRecording && inputs.contains { $0.node != nil }
    }

    /// Records the result of an operation on the tape when any input requires a gradient and
    /// recording is on; otherwise returns `result` unchanged. The pullback runs once, during
    /// `backward()`, and is then released with everything it captured.
    static func record(
        _ operation: StaticString, _ result: Tensor, inputs: [Tensor], pullback: @escaping TapeNode.Pullback
    ) -> Tensor {
        guard willRecord(inputs) else { return result }
        let node = TapeNode(operation: operation, shape: result.shape, inputs: inputs.map(\.node), pullback: pullback)
        return Tensor(shape: result.shape, storage: result.storage, node: node)
    }

    /// Back-propagates from this tensor: every leaf it depends on (parameters, tensors made with
    /// `requiringGradient()`) gets ∂self/∂leaf added to its gradient.
    ///
    /// - Parameter seed: the gradient of some final value with respect to `self`; defaults to ones,
    ///   which for a scalar loss gives ∂loss/∂leaf.
    /// The graph is freed as it is walked, so call it once per forward pass.
    public func backward(seed: Tensor? = nil) {
        guard let root = node else {
            preconditionFailure("backward: the tensor of shape \(shape) does not depend on any tensor that requires a gradient")
        }
        precondition(
            root.pullback != nil || root.leaf != nil,
            "backward: this graph was already back-propagated (its saved tensors are freed); run the forward pass again")
        let seed = seed ?? Tensor(repeating: 1, shape: shape)
        precondition(seed.shape == shape, "backward: seed of shape \(seed.shape) for a tensor of shape \(shape)")
        // Pullbacks compute with ordinary tensor operations; none of that is recorded.
        let saved = GradientMode.isRecording
        GradientMode.isRecording = false
        defer { GradientMode.isRecording = saved }
        var rootSink = GradientSink(inputs: [root])
        rootSink.pass(0, seed)
        for node in TapeNode.reverseTopologicalOrder(from: root) {
            guard let pullback = node.pullback else { continue }
            node.pullback = nil
            guard let gradient = node.gradient else { continue }
            node.gradient = nil
            var sink = GradientSink(inputs: node.inputs)
            pullback(gradient, &sink)
        }
    }
}

extension TapeNode {
    private static let visitGeneration = Atomic<Int>(0)

    /// Nodes reachable from `root`, each after every node that consumes it (root first).
    static func reverseTopologicalOrder(from root: TapeNode) -> [TapeNode] {
        let mark = visitGeneration.wrappingAdd(1, ordering: .relaxed).newValue
        var postOrder: [TapeNode] = []
        var stack: [(node: TapeNode, nextInput: Int)] = [(root, 0)]
        root.visitMark = mark
        while let (node, next) = stack.last {
            if next < node.inputs.count {
                stack[stack.count - 1].nextInput = next + 1
                if let input = node.inputs[next], input.visitMark != mark, input.pullback != nil {
                    input.visitMark = mark
                    stack.append((input, 0))
                }
            } else {
                postOrder.append(node)
                stack.removeLast()
            }
        }
        return postOrder.reversed()
    }
}
