/// The Dockerfile's word rules, as `docker import --change` applies them:
/// `split` cuts an instruction's arguments into words keeping quotes and
/// escapes (the parser's step); `process` then removes quotes and escapes
/// and expands $VAR, ${VAR} and ${VAR:-word} / ${VAR:+word} / ${VAR-word} /
/// ${VAR+word} from the environment set so far (the builder's step).
enum ShellWords {
    typealias Scalars = [Unicode.Scalar]

    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    /// Whitespace-separated words; quoted parts ('...' or "...") and
    /// backslash-escaped characters do not split, and are kept as written.
    static func split(_ text: String) -> [String] {
        let input = Scalars(text.unicodeScalars)
        var words = [String]()
        var word = String.UnicodeScalarView()
        var inWord = false
        var quoted = false  // the word had quotes, so "" is a word
        var quote: Unicode.Scalar?
        var index = 0
        while index < input.count {
            let scalar = input[index]
            index += 1
            if quote == nil && isSpace(scalar) {
                if inWord && (quoted || !word.isEmpty) { words.append(String(word)) }
                word = String.UnicodeScalarView()
                inWord = false
                quoted = false
                continue
            }
            inWord = true
            if let open = quote, scalar == open {
                quote = nil
            } else if quote == nil && (scalar == "'" || scalar == "\"") {
                quote = scalar
                quoted = true
            } else if scalar == "\\" && quote != "'" {
                // An escape keeps the next character with it; at the end it is dropped.
                guard index < input.count else { continue }
                word.append(scalar)
                word.append(input[index])
                index += 1
                continue
            }
            word.append(scalar)
        }
        if inWord && (quoted || !word.isEmpty) { words.append(String(word)) }
        return words
    }

    /// One word with quotes and escapes removed and variables expanded.
    static func process(_ text: String, env: [String: String]) throws -> String {
        var lexer = Lexer(input: Scalars(text.unicodeScalars), env: env)
        return try lexer.word()
    }

    private struct Lexer {
        let input: Scalars
        let env: [String: String]
        var index = 0
        var output = String.UnicodeScalarView()

        init(input: Scalars, env: [String: String]) {
            self.input = input
            self.env = env
        }

        mutating func word() throws -> String {
            while index < input.count {
                let scalar = input[index]
                index += 1
                switch scalar {
                case "'": try singleQuoted()
                case "\"": try doubleQuoted()
                case "\\":
                    if index < input.count {
                        output.append(input[index])
                        index += 1
                    }
                case "$": output.append(contentsOf: try dollar().unicodeScalars)
                default: output.append(scalar)
                }
            }
            return String(output)
        }

        private mutating func singleQuoted() throws {
            while index < input.count {
                let scalar = input[index]
                index += 1
                if scalar == "'" { return }
                output.append(scalar)
            }
            throw ImagesError.invalid("unexpected end of statement while looking for matching single-quote")
        }

        /// Inside double quotes only \" \$ and \\ are escapes; $ expands.
        private mutating func doubleQuoted() throws {
            while index < input.count {
                let scalar = input[index]
                index += 1
                switch scalar {
                case "\"":
                    return
                case "\\" where index < input.count && ["\"", "$", "\\"].contains(input[index]):
                    output.append(input[index])
                    index += 1
                case "$":
                    output.append(contentsOf: try dollar().unicodeScalars)
                default:
                    output.append(scalar)
                }
            }
            throw ImagesError.invalid("unexpected end of statement while looking for matching double-quote")
        }

        private static func isNameScalar(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "_" || (scalar.isASCII && scalar.properties.isAlphabetic)
                || ("0"..."9").contains(scalar)
        }

        private mutating func name() -> String {
            var name = String.UnicodeScalarView()
            while index < input.count, Self.isNameScalar(input[index]) {
                name.append(input[index])
                index += 1
            }
            return String(name)
        }

        /// After a "$": a variable's value, or "$" itself when no name follows.
        private mutating func dollar() throws -> String {
            guard index < input.count else { return "$" }
            if input[index] != "{" {
                let variable = name()
                return variable.isEmpty ? "$" : env[variable] ?? ""
            }
            index += 1
            let variable = name()
            guard !variable.isEmpty, index < input.count else { throw badSubstitution() }
            if input[index] == "}" {
                index += 1
                return env[variable] ?? ""
            }
            return try modifier(variable)
        }

        /// ${VAR:-word} and friends; the word itself is processed too.
        private mutating func modifier(_ variable: String) throws -> String {
            let colon = input[index] == ":"
            if colon { index += 1 }
            guard index < input.count, ["-", "+"].contains(input[index]) else { throw badSubstitution() }
            let operation = input[index]
            index += 1
            guard let close = input[index...].firstIndex(of: "}") else { throw badSubstitution() }
            let raw = String(String.UnicodeScalarView(input[index..<close]))
            index = close + 1
            let value = env[variable]
            let present = colon ? !(value ?? "").isEmpty : value != nil
            let word = try ShellWords.process(raw, env: env)
            if operation == "-" { return present ? value ?? "" : word }
            return present ? word : ""
        }

        private func badSubstitution() -> ImagesError {
            .invalid("bad substitution in \"\(String(String.UnicodeScalarView(input)))\"")
        }
    }
}
