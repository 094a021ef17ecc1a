import Testing
@testable import MoorCLI

@Suite("JSON as the daemon sends it, and --format templates")
struct FormatAndJSONTests {
    static let inspect = """
    {"Id":"abc","State":{"Status":"running","Pid":1234,"Running":true,"Error":""},
     "Config":{"Cmd":["sh","-c","echo hi"],"Labels":{"b":"2","a":"1"},"Tty":false,"Entrypoint":null},
     "Name":"/web","Size":12.5}
    """

    @Test("parsing keeps key order and number text; indenting is Go's MarshalIndent with 4 spaces")
    func indented() throws {
        let json = try JSONParser.parse("{\"b\":1,\"a\":[1.50,{}],\"c\":{\"x\":null,\"y\":[]},\"d\":\"<&>\"}")
        #expect(JSONWriter.indented(json) == """
        {
            "b": 1,
            "a": [
                1.50,
                {}
            ],
            "c": {
                "x": null,
                "y": []
            },
            "d": "\\u003c\\u0026\\u003e"
        }
        """)
    }

    @Test("strings with escapes, unicode and surrogate pairs round-trip")
    func strings() throws {
        let json = try JSONParser.parse(#"["a\"b\\c\n\t", "\u00e9\ud83d\ude00", "é"]"#)
        #expect(json == .strings(["a\"b\\c\n\t", "é😀", "é"]))
        #expect(try JSONParser.parse(JSONWriter.compact(json)) == json)
    }

    @Test("malformed JSON is an error, not a crash", arguments: ["", "{", "[1,", "{\"a\" 1}", "tru", "\"abc", "1 2", "[\"\\u12\"]"])
    func malformed(text: String) {
        #expect(throws: CLIError.self) { try JSONParser.parse(text) }
    }

    @Test("deep nesting is refused")
    func deep() {
        #expect(throws: CLIError.self) { try JSONParser.parse(String(repeating: "[", count: 10_000)) }
    }

    func render(_ template: String) throws -> String {
        try FormatTemplate(template).render(try JSONParser.parse(Self.inspect))
    }

    @Test("dotted paths", arguments: [
        ("{{.State.Status}}", "running"), ("{{ .State.Pid }}", "1234"), ("{{.State.Running}}", "true"),
        ("{{.Name}}", "/web"), ("{{.Size}}", "12.5"), ("{{.State.Error}}", ""),
        ("{{.Missing}}", "<no value>"), ("{{.Config.Entrypoint}}", "<nil>"),
        ("{{.Config.Cmd}}", "[sh -c echo hi]"), ("{{.Config.Labels}}", "map[a:1 b:2]"),
        ("id={{.Id}} status={{.State.Status}}!", "id=abc status=running!"), ("{{.State.Status.Deeper}}", "<no value>"),
    ])
    func paths(template: String, expected: String) throws {
        #expect(try render(template) == expected)
    }

    @Test("functions: json, index, join, upper, lower", arguments: [
        ("{{json .Config.Cmd}}", "[\"sh\",\"-c\",\"echo hi\"]"), ("{{json .State}}", "{\"Status\":\"running\",\"Pid\":1234,\"Running\":true,\"Error\":\"\"}"),
        ("{{index .Config.Labels \"a\"}}", "1"), ("{{index .Config.Cmd 2}}", "echo hi"),
        ("{{join .Config.Cmd \" \"}}", "sh -c echo hi"), ("{{upper .State.Status}}", "RUNNING"), ("{{lower .Id}}", "abc"),
        ("{{json .}}", "{\"Id\":\"abc\",\"State\":{\"Status\":\"running\",\"Pid\":1234,\"Running\":true,\"Error\":\"\"},\"Config\":{\"Cmd\":[\"sh\",\"-c\",\"echo hi\"],\"Labels\":{\"b\":\"2\",\"a\":\"1\"},\"Tty\":false,\"Entrypoint\":null},\"Name\":\"/web\",\"Size\":12.5}"),
    ])
    func functions(template: String, expected: String) throws {
        #expect(try render(template) == expected)
    }

    @Test("template errors are reported", arguments: ["{{.State", "{{nope .Id}}", "{{}}", "{{.A .B}}"])
    func errors(template: String) {
        #expect(throws: CLIError.self) { try self.render(template) }
    }

    @Test("inspect prints an indented array, or one rendered line per object")
    func inspectOutput() throws {
        let objects = [try JSONParser.parse("{\"Id\":\"a\"}"), try JSONParser.parse("{\"Id\":\"b\"}")]
        #expect(try InspectCommand.render(objects, template: nil) == "[\n    {\n        \"Id\": \"a\"\n    },\n    {\n        \"Id\": \"b\"\n    }\n]\n")
        #expect(try InspectCommand.render(objects, template: FormatTemplate("{{.Id}}")) == "a\nb\n")
        #expect(try InspectCommand.render([], template: nil) == "[]\n")
    }
}
