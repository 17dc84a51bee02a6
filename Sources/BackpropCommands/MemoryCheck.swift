import ArgumentParser
import Backprop
import Foundation

/// Refuses, before anything is allocated, a run whose weights, optimizer state and activations
/// would not fit in this machine's memory, saying how much it would need (as the file readers do
/// for sizes in headers).
enum MemoryCheck {
    /// Physical memory in bytes.
    static var physicalMemory: Double {
        Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Bytes as "1.2 GB".
    static func format(_ bytes: Double) -> String {
        bytes >= 1e9 ? String(format: "%.1f GB", bytes / 1e9) : String(format: "%.1f MB", bytes / 1e6)
    }

    /// Checks a model of `plan` trained with `stateBuffers` optimizer buffers per parameter on
    /// batches of up to `batchSize` (0: only the weights, for `summary`).
    static func check(_ plan: Architecture.Plan, batchSize: Int, stateBuffers: Int, hint: String) throws {
        let parameters = Double(plan.parameterCount)
        // Weights and gradients, plus the rule's moments.
        let weights = parameters * 4 * Double(batchSize > 0 ? 2 + stateBuffers : 1)
        // Each layer's output is kept for the backward pass and gets a gradient of its size; about
        // one more copy for the ops' temporaries.
        let activations = Double(plan.activationCount) * Double(batchSize) * 4 * 3
        let needed = weights + activations
        let available = physicalMemory * 0.9
        guard needed.isFinite, needed <= available else {
            throw ValidationError(
                "the model needs about \(format(needed)) (\(formatCount(parameters)) parameters\(batchSize > 0 ? ", activations of a batch of \(batchSize)" : "")), more than the \(format(physicalMemory)) of memory here; \(hint)"
            )
        }
    }

    private static func formatCount(_ count: Double) -> String {
        count >= 1e9
            ? String(format: "%.1f G", count / 1e9) : count >= 1e6 ? String(format: "%.1f M", count / 1e6) : String(format: "%.0f", count)
    }
}
