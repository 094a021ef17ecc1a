/// The part of Go's text/template that `--format` is used for in practice:
/// literal text around actions such as `{{.State.Status}}`, `{{.}}`,
/// `{{json .Config}}`, `{{index .Config.Labels "k"}}`,
/// `{{join .Config.Cmd " "}}`, `{{upper .Name}}`, `{{lower .Name}}`.
/// Values print as Go prints them: a missing key as `<no value>`, an array
/// as `[a b]`, an object as `map[k:v]`.
struct FormatTemplate {
    enum Token: Equatable {
        /// `.A.B`; empty for `.`.
        case path([String])
        case string(String)
        case number(Int)
        case function(String)
    }

    enum Part: Equatable {
        case text(String)
        case action([Token])
    }

    /// A value under evaluation: a missing key is not `null`.
    enum Value {
        case missing
        case json(JSON)
        case text(String)
    }

    let parts: [Part]

    init(_ source: String) throws(CLIError) {
        var parts: [Part] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw CLIError("template parsing error: unclosed action in \(source)")
            }
            var body = rest[open.upperBound..<close.lowerBound]
            // {{- and -}} trim spaces around the action in Go; the markers
            // themselves must not be read as arguments.
            if body.hasPrefix("-") { body = body.dropFirst() }
            if body.hasSuffix("-") { body = body.dropLast() }
            parts.append(.action(try Self.tokens(body, source: source)))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    func render(_ root: JSON) throws(CLIError) -> String {
        var out = ""
        for part in parts {
            switch part {
            case let .text(text): out += text
            case let .action(tokens): out += Self.display(try Self.evaluate(tokens, root: root))
            }
        }
        return out
    }

    private static func tokens(_ body: Substring, source: String) throws(CLIError) -> [Token] {
        var tokens: [Token] = []
        var rest = body.drop { $0 == " " }
        while let first = rest.first {
            let word: Substring
            if first == "\"" {
                guard let end = rest.dropFirst().firstIndex(of: "\"") else {
                    throw CLIError("template parsing error: unterminated quoted string in \(source)")
                }
                tokens.append(.string(String(rest[rest.index(after: rest.startIndex)..<end])))
                rest = rest[rest.index(after: end)...]
            } else {
                word = rest.prefix { $0 != " " }
                rest = rest.dropFirst(word.count)
                if word.hasPrefix(".") {
                    tokens.append(.path(word.split(separator: ".").map(String.init)))
                } else if let number = Int(word) {
                    tokens.append(.number(number))
                } else {
                    tokens.append(.function(String(word)))
                }
            }
            rest = rest.drop { $0 == " " }
        }
        guard !tokens.isEmpty else { throw CLIError("template parsing error: missing value for command in \(source)") }
        return tokens
    }

    private static func evaluate(_ tokens: [Token], root: JSON) throws(CLIError) -> Value {
        let args = tokens.dropFirst().map { argument($0, root: root) }
        switch tokens[0] {
        case .function("json"):
            guard let value = args.first else { throw CLIError("template: wrong number of args for json") }
            if case let .json(json) = value { return .text(JSONWriter.compact(json)) }
            return .text("null")
        case .function("upper"): return .text(display(args.first ?? .missing).uppercased())
        case .function("lower"): return .text(display(args.first ?? .missing).lowercased())
        case .function("join"):
            guard args.count == 2, case let .json(.array(items)) = args[0], case let .text(separator) = args[1]
            else { throw CLIError("template: join needs an array and a separator") }
            return .text(items.map { display(.json($0)) }.joined(separator: separator))
        case .function("index"):
            return args.dropFirst().reduce(args.first ?? .missing, index)
        case let .function(name):
            throw CLIError("template: function \"\(name)\" not defined")
        default:
            guard tokens.count == 1 else { throw CLIError("template: can't give argument to non-function") }
            return argument(tokens[0], root: root)
        }
    }

    private static func argument(_ token: Token, root: JSON) -> Value {
        switch token {
        case let .path(keys):
            var value = Value.json(root)
            for key in keys { value = index(value, .text(key)) }
            return value
        case let .string(text): return .text(text)
        case let .number(number): return .json(.int(number))
        case let .function(name): return .text(name)
        }
    }

    private static func index(_ value: Value, _ key: Value) -> Value {
        switch (value, key) {
        case let (.json(.object), .text(name)):
            guard case let .json(json) = value, let member = json[name] else { return .missing }
            return .json(member)
        case let (.json(.array(items)), .json(number)):
            guard let position = number.intValue, position >= 0, position < items.count else { return .missing }
            return .json(items[Int(position)])
        default:
            return .missing
        }
    }

    static func display(_ value: Value) -> String {
        switch value {
        case .missing: return "<no value>"
        case let .text(text): return text
        case let .json(json): return display(json)
        }
    }

    private static func display(_ json: JSON) -> String {
        switch json {
        case .null: return "<nil>"
        case let .bool(flag): return flag ? "true" : "false"
        case let .number(text): return text
        case let .string(text): return text
        case let .array(items): return "[" + items.map(display).joined(separator: " ") + "]"
        case let .object(members):
            let sorted = members.sorted { $0.key < $1.key }
            return "map[" + sorted.map { "\($0.key):\(display($0.value))" }.joined(separator: " ") + "]"
        }
    }
}
