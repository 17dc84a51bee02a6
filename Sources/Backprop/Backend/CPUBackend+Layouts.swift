import CBackpropDNNL
import CDNNL

/// NHWC images held in oneDNN's channel-blocked layout (nChw16c on AVX-512, nChw8c on AVX2): the
/// channels in groups of `block`, each group a contiguous NHW×block array. Convolution, pooling and
/// elementwise kernels hand such activations to each other without converting (PLATFORM.md measured
/// the CNN 2.85× PyTorch this way against 2.1× with NHWC); only channel counts that are a multiple
/// of the block are held blocked, so the layout uses exactly as many elements as NHWC.
struct BlockedLayout: NativeLayout, Hashable {
    let batch, height, width, channels, block: Int

    var elementCount: Int { batch * height * width * channels }

    func convertToRowMajor(from source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>) {
        let status = DNNLCache.shared.relayout(self, toBlocked: false).withHandle {
            bp_relayout_run($0, source, destination)
        }
        precondition(status == 0, "oneDNN could not convert \(self) to NHWC")
    }
}

extension CPUBackend {
    /// The channel block this machine's convolution kernels want (16 with AVX-512, 8 with AVX2), or
    /// 0 when blocked layouts are off or no blocked kernel fits the CPU.
    static func preferredActivationBlock() -> Int {
        let isa = dnnl_get_effective_cpu_isa().rawValue
        let avx512 = dnnl_cpu_isa_avx512_core.rawValue
        let avx2 = dnnl_cpu_isa_avx2.rawValue
        if isa & avx512 == avx512 { return 16 }
        if isa & avx2 == avx2 { return 8 }
        return 0
    }

    /// The blocked layout for NHWC activations of this size, or nil to keep them NHWC.
    func blockedLayout(batch: Int, height: Int, width: Int, channels: Int) -> BlockedLayout? {
        guard activationBlock > 0, channels % activationBlock == 0, batch * height * width > 0 else { return nil }
        return BlockedLayout(batch: batch, height: height, width: width, channels: channels, block: activationBlock)
    }

    /// The elements of `storage` in `layout` (nil: NHWC). When the storage is held otherwise, a
    /// converted copy is made and kept in `staging` until the caller's kernel has run.
    func elements(
        _ storage: TensorStorage, in layout: BlockedLayout?, staging: inout [TensorStorage]
    ) -> UnsafeMutablePointer<Float> {
        guard let layout else { return storage.pointer }
        if let current = storage.nativeLayout as? BlockedLayout, current == layout { return storage.nativePointer }
        precondition(storage.count >= layout.elementCount, "CPUBackend: \(storage.count) elements for \(layout)")
        let staged = TensorStorage(uninitializedCount: layout.elementCount)
        let status = DNNLCache.shared.relayout(layout, toBlocked: true).withHandle {
            bp_relayout_run($0, storage.pointer, staged.nativePointer)
        }
        precondition(status == 0, "oneDNN could not convert NHWC to \(layout)")
        staging.append(staged)
        return staged.nativePointer
    }

    /// The blocked layout shared by every storage given, when they are all held in one and it
    /// covers `count` elements; elementwise kernels then run on the blocked elements directly.
    func sharedBlockedLayout(_ storages: TensorStorage..., count: Int) -> BlockedLayout? {
        guard let first = storages.first?.nativeLayout as? BlockedLayout, first.elementCount == count else { return nil }
        for storage in storages.dropFirst() {
            guard let layout = storage.nativeLayout as? BlockedLayout, layout == first else { return nil }
        }
        return first
    }
}
