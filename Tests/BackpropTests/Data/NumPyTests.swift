import Backprop
import Foundation
import Testing

/// Reads files NumPy wrote (Fixtures/numpy, made by make_numpy_files.py) and writes files back.
struct NumPyTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/numpy").path

    func path(_ name: String) -> String { Self.folder + "/" + name }

    @Test func readsEveryDtypeNumPyWrites() throws {
        let expected: [Float] = [1.5, -2, 3.25, 0, 4, -5.5]
        for name in ["f4.npy", "f8.npy"] {
            let array = try NumPyArray(contentsOf: path(name))
            #expect(array.shape == [2, 3] && array.values == expected, "\(name)")
        }
        #expect(try NumPyArray(contentsOf: path("i4.npy")).values == [1, -2, 3, 0, 4, -5])
        #expect(try NumPyArray(contentsOf: path("i8.npy")).values == [7, -8, 9])
        let bytes = try NumPyArray(contentsOf: path("u1.npy"))
        #expect(bytes.shape == [2, 3, 4] && bytes.values == (0..<24).map(Float.init) && bytes.dtype == "|u1")
        let scalar = try NumPyArray(contentsOf: path("scalar.npy"))
        #expect(scalar.shape == [] && scalar.values == [2.5])
    }

    @Test func rejectsLayoutsItCannotReadWithAReason() {
        for (name, reason) in [("fortran.npy", "fortran_order"), ("bigendian.npy", "big-endian"), ("object.npy", "object")] {
            #expect { try NumPyArray(contentsOf: path(name)) } throws: { "\($0)".contains(reason) && "\($0)".contains(name) }
        }
    }

    @Test func readsArchivesNumPyWrote() throws {
        let xy = try NumPyArchive.read(contentsOf: path("xy.npz"))
        #expect(xy["x"]?.shape == [80, 4] && xy["y"]?.values.prefix(3) == [0, 0, 0])
        let compressed = try NumPyArchive.read(contentsOf: path("images_compressed.npz"))
        #expect(Set(compressed.keys) == ["x_train", "y_train", "x_test", "y_test"])
        #expect(compressed["x_train"]?.shape == [20, 6, 6] && compressed["x_test"]?.dtype == "|u1")
    }

    @Test func writtenFilesRoundTrip() throws {
        let array = NumPyArray(shape: [2, 2], values: [1, -2.5, 3e-8, 4e6])
        let file = NSTemporaryDirectory() + "backprop-\(UUID().uuidString).npy"
        try array.write(to: file)
        #expect(try NumPyArray(contentsOf: file) == array)
        let archive = NSTemporaryDirectory() + "backprop-\(UUID().uuidString).npz"
        try NumPyArchive.write(["weights": array, "bias": NumPyArray(shape: [3], values: [1, 2, 3])], to: archive)
        let back = try NumPyArchive.read(contentsOf: archive)
        #expect(back["weights"] == array && back["bias"]?.values == [1, 2, 3])
    }

    /// NumPy itself (installed by scripts/test.sh) reads an archive Backprop wrote.
    @Test func numPyReadsWhatBackpropWrites() throws {
        let archive = NSTemporaryDirectory() + "backprop-\(UUID().uuidString).npz"
        try NumPyArchive.write(["a": NumPyArray(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])], to: archive)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import numpy as np, sys; a = np.load(sys.argv[1])['a']; assert a.shape == (2, 3) and a.dtype == np.float32 and a[1, 2] == 6, a",
            archive,
        ]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "numpy could not read the archive (is numpy installed? scripts/test.sh installs it)")
    }

}
