/// Asks the processor to bring the cache line at `p` into L1 ahead of use (x86 `prefetcht0`;
/// it never faults, so `p` may point past the data). Swift has no prefetch in its standard
/// library; this binds LLVM's prefetch intrinsic (arguments: read 0 / write 1, locality 0–3,
/// data cache 1). `Scripts/check-fma.sh` checks that the 6×64 kernel and B's packing still
/// contain it. Inlinable, so that the GEMM in `Tensors` gets the instruction, not a call.
@usableFromInline @_silgen_name("llvm.prefetch.p0")
func llvmPrefetch(_ p: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ dataCache: Int32)

@inlinable @inline(__always)
package func prefetch(_ p: UnsafeRawPointer) { llvmPrefetch(p, 0, 3, 1) }

@inlinable @inline(__always)
package func prefetchForWrite(_ p: UnsafeRawPointer) { llvmPrefetch(p, 1, 3, 1) }
