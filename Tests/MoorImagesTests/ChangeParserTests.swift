import Testing
@testable import MoorImages

private func applied(_ changes: [String]) throws -> ContainerConfig {
    var config = ContainerConfig()
    try ChangeParser.apply(changes, to: &config)
    return config
}

@Suite("--change instructions")
struct ChangeParserTests {
    @Test("CMD and ENTRYPOINT: JSON exec form and shell form")
    func commands() throws {
        #expect(try applied(["CMD [\"a\",\"b\"]"]).cmd == ["a", "b"])
        #expect(try applied(["CMD echo hi"]).cmd == ["/bin/sh", "-c", "echo hi"])
        #expect(try applied(["cmd   echo  \"hi there\"  "]).cmd == ["/bin/sh", "-c", "echo  \"hi there\""])
        #expect(try applied(["CMD [not json"]).cmd == ["/bin/sh", "-c", "[not json"])
        #expect(try applied(["ENTRYPOINT [\"/init\"]"]).entrypoint == ["/init"])
        #expect(try applied(["ENTRYPOINT exec app"]).entrypoint == ["/bin/sh", "-c", "exec app"])
    }

    @Test("ENTRYPOINT resets a CMD only when none was given before it")
    func entrypointResetsCmd() throws {
        let kept = try applied(["CMD [\"x\"]", "ENTRYPOINT [\"/e\"]"])
        #expect(kept.cmd == ["x"] && kept.entrypoint == ["/e"])
        var base = ContainerConfig()
        base.cmd = ["from-base"]
        try ChangeParser.apply(["ENTRYPOINT [\"/e\"]"], to: &base)
        #expect(base.cmd == nil)
    }

    @Test("ENV: name=value pairs, the old `ENV name value` form, quotes, $VAR expansion, replacement")
    func env() throws {
        #expect(try applied(["ENV a=b c=d"]).env == ["a=b", "c=d"])
        #expect(try applied(["ENV a b"]).env == ["a=b"])
        #expect(try applied(["ENV a b c"]).env == ["a=b c"])
        #expect(try applied(["ENV msg=\"hello world\" single='$HOME'"]).env == ["msg=hello world", "single=$HOME"])
        #expect(try applied(["ENV escaped=a\\ b"]).env == ["escaped=a b"])
        let expanded = try applied(["ENV base=/usr", "ENV path=$base/bin:${base}/sbin other=${unset:-fallback}"])
        #expect(expanded.env == ["base=/usr", "path=/usr/bin:/usr/sbin", "other=fallback"])
        #expect(try applied(["ENV a=1", "ENV a=2"]).env == ["a=2"])
        // One ENV's pairs see the environment from before it, as in Docker.
        #expect(try applied(["ENV x=1", "ENV x=2 y=$x"]).env == ["x=2", "y=1"])
    }

    @Test("LABEL, WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL")
    func others() throws {
        #expect(try applied(["LABEL a=b \"c d\"=e"]).labels == ["a": "b", "c d": "e"])
        #expect(try applied(["WORKDIR /app", "WORKDIR sub/../src"]).workingDir == "/app/src")
        #expect(try applied(["WORKDIR relative"]).workingDir == "/relative")
        #expect(try applied(["USER nobody:nogroup"]).user == "nobody:nogroup")
        let ports = try applied(["EXPOSE 80/tcp 53/udp 8000-8001", "EXPOSE 443/TCP"]).exposedPorts
        #expect(ports.map { Set($0.keys) } == ["80/tcp", "53/udp", "8000/tcp", "8001/tcp", "443/tcp"])
        #expect(try applied(["VOLUME [\"/data\", \"/logs\"]"]).volumes.map { Set($0.keys) } == ["/data", "/logs"])
        #expect(try applied(["VOLUME /a /b"]).volumes.map { Set($0.keys) } == ["/a", "/b"])
        #expect(try applied(["STOPSIGNAL SIGKILL"]).stopSignal == "SIGKILL")
        #expect(try applied(["STOPSIGNAL 9"]).stopSignal == "9")
        #expect(try applied(["STOPSIGNAL rtmin+3"]).stopSignal == "rtmin+3")
    }

    @Test("backslash continuations and comments, as in a Dockerfile")
    func lines() throws {
        let config = try applied(["# a comment", "ENV a=1 \\\n    b=2", "", "CMD [\"x\"]"])
        #expect(config.env == ["a=1", "b=2"])
        #expect(config.cmd == ["x"])
    }

    @Test("a bad instruction is named", arguments: [
        ("FROM busybox", "FROM is not a valid change command"),
        ("RUN make", "RUN is not a valid change command"),
        ("ONBUILD RUN make", "ONBUILD"),
        ("HEALTHCHECK NONE", "HEALTHCHECK"),
        ("CMD", "CMD requires at least one argument"),
        ("CMD [1, 2]", "must be comprised of strings"),
        ("CMD --help", "unknown flag: help"),
        ("ENV novalue", "must have two arguments"),
        ("ENV a=1 b", "can't find = in \"b\""),
        ("ENV =x", "names can not be blank"),
        ("EXPOSE 80/xyz", "invalid protocol"),
        ("EXPOSE 0", "invalid port"),
        ("EXPOSE 70000", "invalid port"),
        ("EXPOSE 127.0.0.1:80:80", "IP:PORT"),
        ("STOPSIGNAL SIGNOPE", "invalid signal"),
        ("STOPSIGNAL 99", "invalid signal"),
        ("WORKDIR", "requires exactly one argument"),
        ("ENV a=\"unterminated", "double-quote"),
    ])
    func badInstruction(change: String, reason: String) throws {
        let error = #expect(throws: ImagesError.self) { try applied([change]) }
        #expect(error?.status == 400)
        #expect(error?.message.contains(reason) == true, "\(String(describing: error))")
        #expect(error?.message.contains(change) == true, "the change itself is quoted")
    }
}
