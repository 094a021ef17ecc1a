import NIOConcurrencyHelpers

/// One line, rewritten in place on a terminal, telling how much of an
/// upload was sent: "Importing  12.3MB/45.6MB".
final class ProgressLine: Sendable {
    private let total: Int?
    /// The last size shown, so the line is rewritten only when it changes.
    private let shown = NIOLockedValueBox("")

    init(total: Int?) {
        self.total = total
    }

    static func text(sent: Int, total: Int?) -> String {
        let done = HumanUnits.size(Int64(sent))
        return "Importing  " + (total.map { done + "/" + HumanUnits.size(Int64($0)) } ?? done)
    }

    func update(_ sent: Int) {
        let line = Self.text(sent: sent, total: total)
        let changed = shown.withLockedValue { shown in
            defer { shown = line }
            return shown != line
        }
        if changed { Output.print("\r\u{1B}[2K" + line) }
    }

    /// Erases the line before the final output.
    func clear() {
        if !shown.withLockedValue(\.isEmpty) { Output.print("\r\u{1B}[2K") }
    }
}
