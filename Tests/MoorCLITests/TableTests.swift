import Testing
@testable import MoorCLI

@Suite("tables, sizes and durations as docker prints them")
struct TableTests {
    @Test("columns padded to the widest cell plus 3, at least 10; the last column unpadded")
    func tabwriter() {
        var table = Table(header: ["CONTAINER ID", "IMAGE", "NAMES"])
        table.append(["abc", "busybox:latest", "web"])
        #expect(table.render() == """
        CONTAINER ID   IMAGE            NAMES
        abc            busybox:latest   web

        """)
    }

    @Test("\"…\" counts as one character")
    func widthInCharacters() {
        var table = Table(header: ["A", "B"])
        table.append(["\"sh -c 'while true; d…\"", "x"])
        let lines = table.render().split(separator: "\n")
        #expect(lines[0] == "A" + String(repeating: " ", count: 25) + "B")
    }

    static let container = JSON.object([
        ("Id", "3f4e8d7c6b5a49382716aabbccddeeff00112233445566778899aabbccddeeff"),
        ("Names", .strings(["/web", "/other/link"])), ("Image", "busybox"),
        ("Command", "sh -c 'while true; do echo hi; sleep 1; done'"), ("Created", .int(1_000_000)),
        ("Ports", .array([])), ("Status", "Up 5 seconds"),
    ])

    @Test("ps: short ID, command cut to 20 and quoted, age, status, own names only")
    func psRow() {
        let row = ContainerTable.row(Self.container, truncate: true, now: 1_000_300)
        #expect(row == ["3f4e8d7c6b5a", "busybox", "\"sh -c 'while true; …\"", "5 minutes ago", "Up 5 seconds", "", "web"])
    }

    @Test("ps --no-trunc: full ID and command, every name")
    func psNoTrunc() {
        let row = ContainerTable.row(Self.container, truncate: false, now: 1_000_001)
        #expect(row[0].count == 64)
        #expect(row[2] == "\"sh -c 'while true; do echo hi; sleep 1; done'\"")
        #expect(row[3] == "1 second ago")
        #expect(row[6] == "web,other/link")
    }

    @Test("ps: ports as ip:public->private/type")
    func ports() {
        let ports: [JSON] = [
            .object([("IP", "0.0.0.0"), ("PrivatePort", .int(80)), ("PublicPort", .int(8080)), ("Type", "tcp")]),
            .object([("PrivatePort", .int(53)), ("Type", "udp")]),
        ]
        #expect(ContainerTable.ports(ports) == "0.0.0.0:8080->80/tcp, 53/udp")
    }

    @Test("images: a row per tag, <none> for untagged, digests column on request")
    func imageRows() {
        let image = JSON.object([
            ("Id", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
            ("RepoTags", .strings(["busybox:latest", "localhost:5000/bb:1"])),
            ("RepoDigests", .strings(["busybox@sha256:feed"])), ("Created", .int(0)), ("Size", .int(4_261_234)),
        ])
        let now = 3.0 * 86400
        #expect(ImageTable.rows(image, digests: false, truncate: true, now: now) == [
            ["busybox", "latest", "0123456789ab", "3 days ago", "4.26MB"],
            ["localhost:5000/bb", "1", "0123456789ab", "3 days ago", "4.26MB"],
        ])
        #expect(ImageTable.rows(image, digests: true, truncate: true, now: now)[0] == [
            "busybox", "latest", "sha256:feed", "0123456789ab", "3 days ago", "4.26MB",
        ])
        let untagged = JSON.object([("Id", "sha256:aa"), ("RepoTags", .null), ("Created", .int(0)), ("Size", .int(5))])
        #expect(ImageTable.rows(untagged, digests: false, truncate: true, now: 0)[0][0...1] == ["<none>", "<none>"])
        #expect(ImageTable.ids([image, image], truncate: true) == "0123456789ab\n")
    }

    @Test("sizes: decimal units, 3 significant digits", arguments: [
        (Int64(0), "0B"), (Int64(123), "123B"), (Int64(12345), "12.3kB"), (Int64(4_261_234), "4.26MB"),
        (Int64(1_000_000), "1MB"), (Int64(1_234_567_890), "1.23GB"),
    ])
    func sizes(bytes: Int64, text: String) {
        #expect(HumanUnits.size(bytes) == text)
    }

    @Test("binary sizes for info")
    func binarySizes() {
        #expect(HumanUnits.binarySize(8_335_384_576) == "7.763GiB")
    }

    static let durationCases: [(Double, String)] = [
        (0.5, "Less than a second"), (1.2, "1 second"), (59, "59 seconds"), (60, "About a minute"),
        (119, "About a minute"), (120, "2 minutes"), (3599, "59 minutes"), (3600, "About an hour"),
        (5400, "2 hours"), (169_200, "47 hours"), (172_800, "2 days"), (1_209_600, "2 weeks"),
        (5_184_000, "2 months"), (69_120_000, "2 years"),
    ]

    @Test("durations in words", arguments: durationCases)
    func durations(seconds: Double, text: String) {
        #expect(HumanUnits.duration(seconds: seconds) == text)
    }

    @Test("Go durations for --since", arguments: [
        ("10m", 600.0), ("1h30m", 5400.0), ("1.5h", 5400.0), ("300ms", 0.3), ("2s", 2.0), ("0", 0.0),
    ])
    func goDurations(text: String, seconds: Double) {
        #expect(abs((HumanUnits.goDuration(text) ?? -1) - seconds) < 1e-9)
    }

    @Test("not Go durations")
    func notDurations() {
        for text in ["", "10", "2013-01-02T13:23:37Z", "1700000000.5", "m", "5x"] {
            #expect(HumanUnits.goDuration(text) == nil, "\(text)")
        }
    }

    @Test("logs --since: relative times become unix seconds.nanos, others pass through")
    func logsTimestamp() {
        #expect(LogsCommand.timestamp("10m", now: 1_700_000_600.25) == "1700000000.250000000")
        #expect(LogsCommand.timestamp("2013-01-02T13:23:37Z", now: 0) == "2013-01-02T13:23:37Z")
        #expect(LogsCommand.timestamp("1700000000", now: 0) == "1700000000")
    }
}
