/// Aligns rows in columns as the docker CLI's tables do (Go's tabwriter with
/// a minimum cell width of 10, 3 spaces of padding): every column but the
/// last is padded to its widest cell plus 3, and never narrower than 10.
/// Widths count characters, so "…" is one.
struct Table {
    static let minimumWidth = 10
    static let padding = 3

    var header: [String]
    var rows: [[String]] = []

    init(header: [String]) {
        self.header = header
    }

    mutating func append(_ row: [String]) {
        rows.append(row)
    }

    /// The table as lines, each ending in a newline.
    func render() -> String {
        let all = [header] + rows
        let columns = all.map(\.count).max() ?? 0
        var widths = [Int](repeating: 0, count: columns)
        for row in all {
            for (column, cell) in row.enumerated() where column < row.count - 1 {
                widths[column] = max(widths[column], max(cell.count + Self.padding, Self.minimumWidth))
            }
        }
        var out = ""
        for row in all {
            for (column, cell) in row.enumerated() {
                out += cell
                if column < row.count - 1 {
                    out += String(repeating: " ", count: widths[column] - cell.count)
                }
            }
            out += "\n"
        }
        return out
    }
}
