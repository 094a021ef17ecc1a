import Foundation
import Testing
@testable import MoorImages

/// Archives that try to reach outside the layer or put what a layer must
/// not hold. Each is refused with the offending entry named, and leaves
/// nothing behind: no temporary directory, no layer, nothing outside.
@Suite("hostile archives")
struct HostileArchiveTests {
    /// Imports `bytes` expecting a 400 naming `entry`; checks that nothing is
    /// left in the store and nothing was written outside it.
    private func expectRefused(
        _ build: (StoreFixture) -> [UInt8], naming entry: String, saying reason: String? = nil,
        options: ImageStore.Options = ImageStore.Options(), sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base, options: options)
            let error = await #expect(throws: ImagesError.self, sourceLocation: sourceLocation) {
                try await fixture.store.importBytes(build(fixture), reference: "hostile", chunkSize: 700)
            }
            #expect(error?.status == 400, "\(String(describing: error))", sourceLocation: sourceLocation)
            #expect(error?.message.contains(entry) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
            if let reason {
                #expect(error?.message.contains(reason) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
            }
            #expect(try fixture.tmpContents().isEmpty, sourceLocation: sourceLocation)
            #expect(try fixture.layerDirectories().isEmpty, sourceLocation: sourceLocation)
            #expect(try fixture.outsideContents().isEmpty, sourceLocation: sourceLocation)
            #expect(await fixture.store.images().isEmpty, sourceLocation: sourceLocation)
        }
    }

    private func archive(_ fill: (inout TarWriter) -> Void) -> [UInt8] {
        var tar = TarWriter()
        tar.file("ok", "fine")
        fill(&tar)
        tar.end()
        return tar.bytes
    }

    /// The outside directory as a path relative to the layer's root,
    /// tmp/import-*/diff: up four levels from diff to the fixture's base.
    private let upToOutside = "../../../../outside"

    @Test("a \"..\" component")
    func dotDot() async throws {
        try await expectRefused({ _ in archive { $0.file(upToOutside + "/escaped", "x") } },
                                naming: "../../../../outside/escaped", saying: "contains \"..\"")
        try await expectRefused({ _ in archive { $0.file("a/../../b", "x") } }, naming: "a/../../b")
    }

    @Test("an absolute path")
    func absolute() async throws {
        try await expectRefused({ fixture in archive { $0.file(fixture.outside + "/absolute", "x") } },
                                naming: "/absolute", saying: "absolute path")
        try await expectRefused({ _ in archive { $0.file("/../x", "x") } }, naming: "/../x")
    }

    @Test("a symlink to / then a file written through it")
    func throughRootSymlink() async throws {
        try await expectRefused({ fixture in
            archive {
                $0.symlink("rootlink", to: "/")
                $0.file("rootlink" + fixture.outside + "/through-root", "x")
            }
        }, naming: "rootlink", saying: "symbolic link")
    }

    @Test("a symlink to ../../ then a file (or directory) written through it")
    func throughRelativeSymlink() async throws {
        try await expectRefused({ _ in
            archive {
                $0.symlink("up", to: upToOutside)
                $0.file("up/through-up", "x")
            }
        }, naming: "up/through-up", saying: "symbolic link")
        try await expectRefused({ _ in
            archive {
                $0.directory("d/")
                $0.symlink("d/up", to: "../" + upToOutside)
                $0.directory("d/up/newdir/")
            }
        }, naming: "d/up/newdir/", saying: "\"d/up\" is a symbolic link")
    }

    @Test("hardlinks to /etc/passwd, to ../x, to what is not unpacked, through a symlink, to a directory")
    func hardlinks() async throws {
        try await expectRefused({ _ in archive { $0.hardlink("passwd", to: "/etc/passwd") } },
                                naming: "passwd", saying: "absolute hardlink target")
        try await expectRefused({ _ in archive { $0.hardlink("up", to: "../x") } },
                                naming: "up", saying: "contains \"..\"")
        try await expectRefused({ _ in archive { $0.hardlink("early", to: "later") } },
                                naming: "early", saying: "not in the layer")
        try await expectRefused({ _ in
            archive {
                $0.symlink("etc", to: "/etc")
                $0.hardlink("shadow", to: "etc/passwd")
            }
        }, naming: "shadow", saying: "symbolic link")
        try await expectRefused({ _ in
            archive {
                $0.directory("dir/")
                $0.hardlink("dirlink", to: "dir")
            }
        }, naming: "dirlink", saying: "is a directory")
    }

    @Test("character and block devices")
    func devices() async throws {
        try await expectRefused({ _ in archive { $0.device("dev/null", major: 1, minor: 3) } },
                                naming: "dev/null", saying: "character device 1:3")
        try await expectRefused({ _ in archive { $0.device("dev/sda", block: true, major: 8, minor: 0) } },
                                naming: "dev/sda", saying: "block device")
    }

    @Test("a truncated archive, a bad checksum, a truncated gzip stream")
    func corrupt() async throws {
        var full = TarWriter()
        full.file("content-cut", [UInt8](repeating: 3, count: 5000))
        full.end()
        try await expectRefused({ _ in Array(full.bytes.prefix(3000)) }, naming: "content-cut", saying: "truncated")
        try await expectRefused({ _ in
            var tar = TarWriter()
            tar.file("fine", "x")
            var header = TarWriter.Header("bad-sum")
            header.corruptChecksum = true
            tar.header(header)
            tar.end()
            return tar.bytes
        }, naming: "bad-sum", saying: "checksum")
        let gzip = try run("/usr/bin/gzip", ["-c"], input: full.bytes)
        try await expectRefused({ _ in Array(gzip.prefix(gzip.count - 10)) }, naming: "gzip", saying: "truncated")
    }

    @Test("the size bound: one large entry, or many small ones")
    func sizeBound() async throws {
        var options = ImageStore.Options()
        options.maxImportBytes = 64 * 1024
        try await expectRefused({ _ in archive { $0.file("large-file", [UInt8](repeating: 1, count: 100_000)) } },
                                naming: "large-file", saying: "limit", options: options)
        try await expectRefused({ _ in
            archive { tar in
                for index in 0..<40 { tar.file("small-\(index)", [UInt8](repeating: 2, count: 2000)) }
            }
        }, naming: "import limit", options: options)
    }

    @Test("a later entry replaces a symlink instead of writing through it")
    func replacesSymlink() async throws {
        try await withTemporaryDirectory { base in
            let fixture = try StoreFixture(base: base)
            var tar = TarWriter()
            tar.symlink("target", to: fixture.outside + "/replaced")
            tar.file("target", "inside")
            tar.end()
            let id = try await fixture.store.importBytes(tar.bytes)
            let diff = try await fixture.store.layerPaths(id)[0]
            #expect(try readBytes(diff + "/target") == Array("inside".utf8))
            #expect(try fixture.outsideContents().isEmpty)
        }
    }
}
