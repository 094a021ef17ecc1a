/// A string as a JSON string literal (RFC 8259 section 7), escaped as Go's
/// encoding/json does by default (dockerd's bodies and the docker CLI's
/// `--format '{{json .}}'`): `<`, `>`, `&`, U+2028 and U+2029 as \u escapes too.
public enum JSONStringLiteral {
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += unicodeEscape(scalar.value)
            case _ where scalar.value < 0x20:
                out += unicodeEscape(scalar.value)
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func unicodeEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
