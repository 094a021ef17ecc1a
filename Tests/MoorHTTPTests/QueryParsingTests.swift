import MoorHTTP
import NIOCore
import Testing

@Suite("Request target, query and header parsing")
struct QueryParsingTests {
    @Test("the path is percent-decoded, the raw target kept")
    func pathDecoding() throws {
        let target = try HTTPRequestTarget(parsing: "/v1.43/containers/my%20box/json?all=1")
        #expect(target.path == "/v1.43/containers/my box/json")
        #expect(target.rawPath == "/v1.43/containers/my%20box/json")
        #expect(target.raw == "/v1.43/containers/my%20box/json?all=1")
        #expect(target.query.string("all") == "1")
    }

    @Test("query values: plus is a space, percent-escapes decode, repeated keys keep order")
    func queryDecoding() throws {
        let query = try HTTPQuery(parsing: "changes=ENV+A%3D1&changes=CMD%20%5B%22sh%22%5D&repo=a%2Fb&tag=")
        #expect(query.strings("changes") == ["ENV A=1", "CMD [\"sh\"]"])
        #expect(query.string("changes") == "ENV A=1")
        #expect(query.string("repo") == "a/b")
        #expect(query.string("tag") == "")
        #expect(query.contains("tag"))
        #expect(!query.contains("missing"))
        #expect(query.string("missing") == nil)
    }

    @Test("a key without = has an empty value; empty pairs are skipped")
    func bareKeys() throws {
        let query = try HTTPQuery(parsing: "follow&&stdout=1&")
        #expect(query.items.map(\.name) == ["follow", "stdout"])
        #expect(query.string("follow") == "")
    }

    @Test("filters JSON survives decoding")
    func filtersJSON() throws {
        let target = try HTTPRequestTarget(parsing: "/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D")
        #expect(target.query.string("filters") == "{\"type\":[\"container\"]}")
    }

    @Test("Docker's lenient booleans")
    func dockerBooleans() throws {
        let query = try HTTPQuery(parsing: "a=1&b=true&c=0&d=false&e=&f=no&g=NONE&h=yes&i=True")
        #expect(query.bool("a"))
        #expect(query.bool("b"))
        #expect(!query.bool("c"))
        #expect(!query.bool("d"))
        #expect(!query.bool("e"))
        #expect(!query.bool("f"))
        #expect(!query.bool("g"))
        #expect(query.bool("h"))
        #expect(query.bool("i"))
        #expect(!query.bool("absent"))
        #expect(query.bool("absent", default: true))
    }

    @Test("strict booleans reject anything but Go's ParseBool spellings")
    func strictBooleans() throws {
        let query = try HTTPQuery(parsing: "a=1&b=f&c=maybe")
        #expect(try query.strictBool("a") == true)
        #expect(try query.strictBool("b") == false)
        #expect(try query.strictBool("absent") == nil)
        #expect(throws: HTTPError.self) { try query.strictBool("c") }
    }

    @Test("integers: nil when absent or empty, a 400 naming the parameter when malformed")
    func integers() throws {
        let query = try HTTPQuery(parsing: "tail=100&t=&h=abc&w=-3")
        #expect(try query.int("tail") == 100)
        #expect(try query.int("t") == nil)
        #expect(try query.int("absent") == nil)
        #expect(try query.int("w") == -3)
        do {
            _ = try query.int("h")
            Issue.record("expected an error")
        } catch {
            #expect(error.status == .badRequest)
            #expect(error.message.contains("h"))
            #expect(error.message.contains("abc"))
        }
    }

    @Test("invalid percent-encoding is a 400")
    func invalidEncoding() {
        #expect(throws: HTTPError.self) { try HTTPRequestTarget(parsing: "/a%zz") }
        #expect(throws: HTTPError.self) { try HTTPRequestTarget(parsing: "/a?x=%4") }
        #expect(throws: HTTPError.self) { try HTTPRequestTarget(parsing: "/a%FF%FE") }
        #expect(throws: HTTPError.self) { try HTTPRequestTarget(parsing: "nopath") }
    }

    @Test("absolute-form targets keep only path and query")
    func absoluteForm() throws {
        let target = try HTTPRequestTarget(parsing: "http://docker/v1.41/_ping?x=1")
        #expect(target.path == "/v1.41/_ping")
        #expect(target.query.string("x") == "1")
    }

    @Test("a query built for the client round-trips through the parser")
    func encodingRoundTrip() throws {
        let query = HTTPQuery([("filters", "{\"label\":[\"a=b c\"]}"), ("t", "é&+"), ("t", "2")])
        let parsed = try HTTPQuery(parsing: Substring(query.encoded))
        #expect(parsed == query)
    }

    @Test("header names are case-insensitive and multi-valued")
    func headerFields() {
        var fields: HTTPFields = ["Content-Type": "application/json", "X-A": "1"]
        fields.add("x-a", "2")
        #expect(fields["content-type"] == "application/json")
        #expect(fields.values("X-A") == ["1", "2"])
        fields.set("X-a", "3")
        #expect(fields.values("x-a") == ["3"])
        fields.add("Connection", "keep-alive, Upgrade")
        #expect(fields.containsToken("upgrade", in: "connection"))
        #expect(!fields.containsToken("close", in: "connection"))
        fields.remove("CONTENT-TYPE")
        #expect(!fields.contains("content-type"))
    }

    @Test("a request built by hand knows when it asks to upgrade")
    func wantsUpgrade() throws {
        let plain = try HTTPRequest(method: "POST", target: "/containers/x/attach")
        #expect(!plain.wantsUpgrade)
        let upgrade = try HTTPRequest(
            method: "POST", target: "/containers/x/attach", headers: ["Connection": "Upgrade", "Upgrade": "tcp"]
        )
        #expect(upgrade.wantsUpgrade)
    }

    @Test("collect(upTo:) refuses a body larger than allowed with a 413")
    func collectLimit() async throws {
        let body = HTTPBody(bytes: Array(repeating: UInt8(7), count: 100))
        await #expect(throws: HTTPError.self) { try await body.collect(upTo: 99) }
        let fits = HTTPBody(bytes: Array(repeating: UInt8(7), count: 100))
        #expect(try await fits.collect(upTo: 100).readableBytes == 100)
    }

    @Test("a body can be consumed once; a second consumer gets an error, not a crash")
    func singleConsumer() async throws {
        let body = HTTPBody(bytes: [1, 2, 3])
        #expect(try await body.collect(upTo: 10).readableBytes == 3)
        await #expect(throws: HTTPError.self) { try await body.collect(upTo: 10) }
    }
}
