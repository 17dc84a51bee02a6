// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Backprop",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Backprop", targets: ["Backprop"]),
        .executable(name: "backprop", targets: ["BackpropCLI"]),
        .executable(name: "backprop-bench", targets: ["BackpropBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // MARK: Public API
        .target(
            name: "Backprop",
            dependencies: ["CBackpropKernels", "CBackpropDNNL", "CBackpropPNG", "CDNNL", "COpenBLAS", "CZlib"]
        ),
        .target(
            name: "BackpropCommands",
            dependencies: ["Backprop", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "BackpropCLI", dependencies: ["BackpropCommands"]),
        .executableTarget(name: "BackpropBench", dependencies: ["Backprop"]),

        // MARK: C shims (implementation details, no public API)
        .target(name: "CBackpropKernels"),
        .target(name: "CBackpropDNNL", dependencies: ["CDNNL"]),
        .target(name: "CBackpropPNG", linkerSettings: [.linkedLibrary("png16")]),
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // MARK: Tests
        .target(name: "BackpropTestSupport", dependencies: ["Backprop"]),
        .testTarget(
            name: "BackpropTests",
            dependencies: [
                "Backprop", "BackpropTestSupport", "BackpropCommands",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            exclude: ["Fixtures"]
        ),
    ]
)
