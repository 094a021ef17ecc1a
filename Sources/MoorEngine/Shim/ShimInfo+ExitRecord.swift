import MoorShimClient

extension ShimInfo {
    /// The exit record the shim wrote for `process` (docs/shim-protocol.md,
    /// "On disk"); nil if it wrote none.
    func exitRecord(process: UInt32) -> ExitRecord? {
        let name = process == ShimProtocol.initProcess ? "/exit" : "/exec-\(process)/exit"
        return try? ExitRecord.read(path: stateDirectory + name)
    }
}
