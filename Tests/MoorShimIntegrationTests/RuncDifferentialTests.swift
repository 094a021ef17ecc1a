import Foundation
import Testing
@testable import MoorShimClient

/// The same OCI bundle under runc and under moor-shim: what the container
/// sees of its confinement must match.
@Suite(.serialized) struct RuncDifferentialTests {
    static let probe = """
        grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' /proc/self/status; \
        hostname; id; echo pid=$$; ls /dev | sort | tr '\\n' ' '; echo; \
        wc -c < /proc/timer_list 2>&1; (echo x > /proc/sys/kernel/domainname) 2>/dev/null || echo sys-ro
        """

    static var runc: String? {
        ["/usr/sbin/runc", "/usr/bin/runc"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(.enabled(if: runc != nil, "runc is installed by make test"))
    func runcAndMoorShimGiveTheSameConfinement() throws {
        let c = try TestContainer(["sh", "-c", Self.probe]) { spec in
            // runc needs a plain root: use the image read-only, no overlay.
            spec["root"] = ["path": TestEnvironment.busyboxRootfs, "readonly": true]
        }
        defer { c.remove() }
        var options = c.startOptions
        options.lowerDirs = []
        options.upperDir = nil
        options.workDir = nil
        let started = try ShimLauncher(shimPath: TestEnvironment.shimBinary).start(options)
        let client = try ShimClient(socketPath: started.socket, timeout: 30)
        _ = try client.wait(process: 0)
        let moorOut = try c.output()
        try client.shutdown(kill: true)

        let runcRoot = c.dir + "/runc-root"
        let name = c.id + "-runc"
        let result = try TestEnvironment.run(try #require(Self.runc),
            ["--root", runcRoot, "run", "--bundle", c.bundle, name])
        _ = try? TestEnvironment.run(try #require(Self.runc), ["--root", runcRoot, "delete", "-f", name])
        #expect(result.status == 0, "runc: \(result.stderr)")
        #expect(moorOut == result.stdout, "moor-shim:\n\(moorOut)\nrunc:\n\(result.stdout)")
    }
}
