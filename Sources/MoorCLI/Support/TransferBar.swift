import NIOConcurrencyHelpers

/// A progress bar rewritten in place on a terminal while an archive goes to
/// or comes from the daemon: "Loading  [=====>     ]  12.3MB/45.6MB", or
/// "Saving  12.3MB" when the total is not known.
final class TransferBar: Sendable {
    static let width = 30

    private let label: String
    private let total: Int?
    private let fd: Int32
    /// The last line shown, so it is rewritten only when it changes.
    private let shown = NIOLockedValueBox("")

    init(label: String, total: Int?, fd: Int32 = Output.stdout) {
        self.label = label
        self.total = total
        self.fd = fd
    }

    static func text(label: String, done: Int, total: Int?) -> String {
        let amount = HumanUnits.size(Int64(done))
        guard let total, total > 0 else { return "\(label)  \(amount)" }
        let filled = min(width, done * width / total)
        let bar = String(repeating: "=", count: max(0, filled - 1)) + (filled > 0 ? ">" : "")
            + String(repeating: " ", count: width - filled)
        return "\(label)  [\(bar)]  \(amount)/\(HumanUnits.size(Int64(total)))"
    }

    func update(_ done: Int) {
        let line = Self.text(label: label, done: done, total: total)
        let changed = shown.withLockedValue { shown in
            defer { shown = line }
            return shown != line
        }
        if changed { Output.print("\r\u{1B}[2K" + line, to: fd) }
    }

    /// Erases the bar before the final output.
    func clear() {
        if !shown.withLockedValue(\.isEmpty) { Output.print("\r\u{1B}[2K", to: fd) }
    }
}
