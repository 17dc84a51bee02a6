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

    /// The storage's blocked layout and elements, read together; nil when it is row-major.
    func blockedElements(_ storage: TensorStorage) -> (layout: BlockedLayout, pointer: UnsafeMutablePointer<Float>)? {
        guard let (layout, pointer) = storage.nativeElements, let blocked = layout as? BlockedLayout else { return nil }
        return (blocked, pointer)
    }

    /// The elements of `storage` in `layout` (nil: NHWC). When the storage is held otherwise, a
    /// converted copy is made and kept in `staging` until the caller's kernel has run.
    func elements(
        _ storage: TensorStorage, in layout: BlockedLayout?, staging: inout [TensorStorage]
    ) -> UnsafeMutablePointer<Float> {
        guard let layout else { return storage.pointer }
        if let (current, pointer) = blockedElements(storage), current == layout { return pointer }
        precondition(storage.count >= layout.elementCount, "CPUBackend: \(storage.count) elements for \(layout)")
        let staged = TensorStorage(uninitializedCount: layout.elementCount)
        let status = DNNLCache.shared.relayout(layout, toBlocked: true).withHandle {
            bp_relayout_run($0, storage.pointer, staged.outputPointer)
        }
        precondition(status == 0, "oneDNN could not convert NHWC to \(layout)")
        staging.append(staged)
        return staged.outputPointer
    }

    /// The elements of every storage given, when they are all held in one blocked layout of
    /// `count` elements; elementwise kernels then run on the blocked elements directly.
    func sharedBlockedElements(_ storages: [TensorStorage], count: Int) -> (layout: BlockedLayout, pointers: [UnsafeMutablePointer<Float>])?
    {
        var layout: BlockedLayout?
        var pointers: [UnsafeMutablePointer<Float>] = []
        for storage in storages {
            guard let (current, pointer) = blockedElements(storage), current.elementCount == count, layout == nil || layout == current
            else { return nil }
            layout = current
            pointers.append(pointer)
        }
        return layout.map { ($0, pointers) }
    }

    /// Runs `kernel` on the memory `output` receives in `layout` (nil: NHWC) and marks the output.
    /// An output that cannot take the layout (a view, or one already read) gets the kernel's result
    /// converted to NHWC.
    func write(_ output: TensorStorage, in layout: BlockedLayout?, _ kernel: (UnsafeMutablePointer<Float>) -> Void) {
        guard let layout else { return kernel(output.pointer) }
        if output.canAdopt {
            kernel(output.outputPointer)
            output.adopt(layout)
            return
        }
        let staged = TensorStorage(uninitializedCount: layout.elementCount)
        kernel(staged.outputPointer)
        staged.adopt(layout)
        output.pointer.update(from: staged.pointer, count: layout.elementCount)
    }
}
