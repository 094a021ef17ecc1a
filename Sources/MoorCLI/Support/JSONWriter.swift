import MoorHTTP

/// Writes `JSON` as text the way the docker CLI shows it: compact for request
/// bodies and `{{json .}}`, indented by four spaces for `inspect`; strings
/// escaped as Go's encoder does (`<`, `>`, `&` as `\u003c`…).
enum JSONWriter {
    static func compact(_ value: JSON) -> String {
        var out = ""
        write(value, into: &out, indent: nil, level: 0)
        return out
    }

    /// `indent` is one level's prefix; Go's `json.MarshalIndent(v, "", indent)`.
    static func indented(_ value: JSON, indent: String = "    ") -> String {
        var out = ""
        write(value, into: &out, indent: indent, level: 0)
        return out
    }

    private static func write(_ value: JSON, into out: inout String, indent: String?, level: Int) {
        switch value {
        case .null: out += "null"
        case let .bool(flag): out += flag ? "true" : "false"
        case let .number(text): out += text
        case let .string(text): out += quoted(text)
        case let .array(items):
            writeList(items, open: "[", close: "]", into: &out, indent: indent, level: level) { item, out, level in
                write(item, into: &out, indent: indent, level: level)
            }
        case let .object(members):
            writeList(members, open: "{", close: "}", into: &out, indent: indent, level: level) { member, out, level in
                out += quoted(member.key) + (indent == nil ? ":" : ": ")
                write(member.value, into: &out, indent: indent, level: level)
            }
        }
    }

    private static func writeList<T>(
        _ items: [T], open: String, close: String, into out: inout String, indent: String?, level: Int,
        element: (T, inout String, Int) -> Void
    ) {
        out += open
        guard !items.isEmpty else { out += close; return }
        for (position, item) in items.enumerated() {
            if position > 0 { out += "," }
            if let indent { out += "\n" + String(repeating: indent, count: level + 1) }
            element(item, &out, level + 1)
        }
        if let indent { out += "\n" + String(repeating: indent, count: level) }
        out += close
    }

    static func quoted(_ text: String) -> String {
        JSONStringLiteral.quoted(text)
    }
}
