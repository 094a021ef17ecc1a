import Testing
@testable import MoorEngine

/// Docker's small rules the engine applies: names, signals, sizes, image
/// defaults under a create request.
struct EngineRulesTests {
    @Test(arguments: ["a", "-x", ".x", "bad name", "x/y", "ümlaut"])
    func invalidNamesAreRefusedNamingThem(_ name: String) {
        #expect { try ContainerNames.validate(name) } throws: { "\($0)".contains("(\(name))") }
    }

    @Test func validNamesLoseTheirSlash() throws {
        #expect(try ContainerNames.validate("/web-1.a_b") == "web-1.a_b")
    }

    @Test func idsAre64HexDigitsAndRandomNamesAvoidTakenOnes() {
        let id = ContainerNames.newID()
        #expect(id.count == 64 && id.allSatisfy(\.isHexDigit))
        var taken: Set<String> = []
        for _ in 0..<50 { taken.insert(ContainerNames.random { taken.contains($0) }) }
        #expect(taken.count == 50)
    }

    @Test func signalsParseAsDockerAcceptsThem() throws {
        #expect(try Signals.number("SIGTERM") == 15)
        #expect(try Signals.number("kill") == 9)
        #expect(try Signals.number("10") == 10)
        #expect(try Signals.number("RTMIN+1") == 35)
        #expect(throws: EngineError.self) { try Signals.number("SIGFOO") }
        #expect(throws: EngineError.self) { try Signals.number("0") }
    }

    @Test func sizesUseBinaryUnits() {
        #expect(ByteSize.parse("64m") == 64 << 20)
        #expect(ByteSize.parse("1g") == 1 << 30)
        #expect(ByteSize.parse("512") == 512)
        #expect(ByteSize.parse("x") == nil)
    }

    @Test func anEntrypointOnCreateDropsTheImageCommand() {
        let image = ImageDefaults(cmd: ["img-cmd"], entrypoint: ["img-ep"], env: ["A=1", "B=2"])
        var request = ContainerConfig()
        request.entrypoint = StringList(["ep"])
        request.env = ["B=3"]
        let merged = Engine.merge(request, with: image)
        #expect(merged.entrypoint?.values == ["ep"] && merged.cmd == nil)
        #expect(merged.env == ["A=1", "B=3"])
        var onlyCmd = ContainerConfig()
        onlyCmd.cmd = StringList(["c"])
        let kept = Engine.merge(onlyCmd, with: image)
        #expect(kept.entrypoint?.values == ["img-ep"] && kept.cmd?.values == ["c"])
    }
}
