import Backprop
import Foundation

/// The `--model lstm|gru` preset on Fashion-MNIST rows (28 steps of 28 features, 128 units, Dense
/// to 10), batch 128, Adam 1e-3, as Benchmarks/bench_rnn_torch.py runs it in PyTorch. Prints the
/// epochs, a summary and one JSON line for Benchmarks/compare-recurrent.sh.
func benchmarkRecurrent(_ preset: Architecture.Preset, epochs: Int, dataDirectory: String) throws {
    progress("\(preset.rawValue.uppercased()): training \(epochs) epochs")
    let (train, test) = try FashionMNIST.load(from: dataDirectory)
    seedGlobalRandom(0)
    let model = try Architecture.preset(preset, inputShape: [28, 28, 1], outputs: 10).makeModel()
    model.compile(optimizer: Adam(learningRate: 1e-3), loss: .softmaxCrossEntropy, metrics: [.accuracy])
    let history = model.fit(train.inputs, train.labels, batchSize: 128, epochs: epochs, seed: 0, verbose: false)
    let seconds = history.epochs.map(\.seconds)
    let training = Double(train.count) / steadyEpochSeconds(seconds)
    let inference = inferenceRate(model, test.inputs)
    let outputs = model.predict(test.inputs, batchSize: 256)
    let predicted = outputs.argmax(alongAxis: 1).scalars
    let accuracy = Double(zip(predicted, test.labels.scalars).filter { $0 == $1 }.count) / Double(test.count)
    // Per sample and step: 2·gates·units·(features + units) FLOPs forward; training ≈ 3× that.
    let gates = preset == .lstm ? 4.0 : 3.0
    let flops = 28 * 2 * gates * 128 * (28 + 128) + 2 * 128 * 10
    print("\(preset.rawValue.uppercased()) 28×28 rows → 128 units → 10, batch 128, Adam, \(epochs) epochs on \(Backends.current.name)")
    print("  epoch seconds: " + seconds.map { String(format: "%.3f", $0) }.joined(separator: " "))
    print(
        String(
            format:
                "  training %.0f samples/s (median of epochs 2-%d, ≈%.0f GFLOP/s), inference %.0f samples/s (batch 256), test accuracy %.4f",
            training, epochs, 3 * flops * training / 1e9, inference, accuracy))
    printSummary(preset.rawValue, training: training, inference: inference, forwardFLOPs: flops, accuracy: accuracy)
}

/// GEMM throughput at the recurrent workload's shapes (batch 128, 28 steps, 28 features, 128
/// units, 4 gates) for both GEMM libraries, untransposed: the per-step products bound the LSTM.
func benchmarkRecurrentGEMMs() {
    print("GEMM at the LSTM's shapes, 2 threads, GFLOP/s (median of 5 runs)")
    print("  shape (m×k · k×n)                          oneDNN   OpenBLAS")
    let shapes: [(String, Int, Int, Int)] = [
        ("per step, forward", 128, 128, 512), ("per step, backward", 128, 512, 128), ("inputs, forward", 3584, 28, 512),
        ("dWhh", 512, 3584, 128), ("dWih", 512, 3584, 28), ("dX", 3584, 512, 28),
    ]
    for (name, m, k, n) in shapes {
        var generator = RandomGenerator(seed: 1)
        let a = Tensor.randomNormal([m, k], generator: &generator)
        let b = Tensor.randomNormal([k, n], generator: &generator)
        let rates = GEMMLibrary.allCases.map {
            matmulGFLOPs(a, b, library: $0, runs: 5, warmUp: 20, secondsAt: (0.2, 100e9), minimumRepetitions: 10)
        }
        print(
            "  " + "\(name) \(m)×\(k)·\(k)×\(n)".padding(toLength: 43, withPad: " ", startingAt: 0)
                + String(format: "%6.0f   %8.0f", rates[0], rates[1]))
    }
}
