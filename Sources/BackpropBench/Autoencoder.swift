import Backprop
import Foundation

/// A convolutional autoencoder on Fashion-MNIST: two strided 3×3 convolutions down to a 7×7×4
/// code (196 numbers for 784 pixels), two transposed convolutions back up, a sigmoid, mean
/// squared error against the input. Prints the test reconstruction error beside the error of
/// always answering the mean training image, and writes a PNG: ten test images (top row) above
/// their reconstructions.
func trainAutoencoder(epochs: Int, dataDirectory: String, output: String) throws {
    progress("Autoencoder: training \(epochs) epochs")
    let (train, test) = try FashionMNIST.load(from: dataDirectory)
    seedGlobalRandom(0)
    let network = Sequential {
        Conv2D(1, 32, kernelSize: 3, stride: 2, padding: .same, activation: .relu)  // 14×14×32
        Conv2D(32, 4, kernelSize: 3, stride: 2, padding: .same, activation: .relu)  // 7×7×4: the code, a quarter of the pixels
        Conv2DTranspose(4, 32, kernelSize: (3, 3), strides: (2, 2), padding: .same, activation: .relu)  // 14×14×32
        Conv2DTranspose(32, 1, kernelSize: (3, 3), strides: (2, 2), padding: .same, activation: .sigmoid)  // 28×28×1
    }
    let model = Model(inputShape: [28, 28, 1], network)
    model.compile(optimizer: Adam(learningRate: 2e-3), loss: MeanSquaredError())
    let history = model.fit(train.inputs, train.inputs, batchSize: 128, epochs: epochs, seed: 0, verbose: false)
    let reconstructions = model.predict(test.inputs)
    let error = withoutGradient { (reconstructions - test.inputs).squared().mean().item }
    let meanImage = train.inputs.mean(alongAxis: 0, keepingAxis: true)
    let baseline = withoutGradient { (test.inputs - meanImage).squared().mean().item }
    print("Convolutional autoencoder 28×28 → 7×7×4 → 28×28, Adam, batch 128, \(epochs) epochs on \(Backends.current.name)")
    print("  epoch seconds: " + history.epochs.map { String(format: "%.2f", $0.seconds) }.joined(separator: " "))
    print("  training loss: " + history.epochs.map { String(format: "%.4f", $0.value("loss") ?? .nan) }.joined(separator: " "))
    print(String(format: "  test reconstruction MSE %.4f (the mean image: %.4f, %.1f× worse)", error, baseline, baseline / error))
    let count = 10
    var pixels = [UInt8](repeating: 0, count: 28 * count * 56)
    let originals = test.inputs.slice([0..<count]).scalars
    let rebuilt = reconstructions.slice([0..<count]).scalars
    for image in 0..<count {
        for row in 0..<28 {
            for column in 0..<28 {
                let source = image * 784 + row * 28 + column
                let x = image * 28 + column
                pixels[row * 28 * count + x] = UInt8((min(max(originals[source], 0), 1) * 255).rounded())
                pixels[(row + 28) * 28 * count + x] = UInt8((min(max(rebuilt[source], 0), 1) * 255).rounded())
            }
        }
    }
    try PNGImage(width: 28 * count, height: 56, channels: 1, pixels: pixels).write(to: output)
    print("  wrote \(output): test images (top) and their reconstructions (bottom)")
}
