import Foundation
import Testing
@testable import MoorDaemon

/// daemon.json and flags combine as in dockerd: unknown keys, wrong types
/// and settings given twice are errors that name the key.
struct DaemonSettingsTests {
    func resolve(_ json: String?, _ edit: (inout DaemonFlags) -> Void = { _ in }) throws -> DaemonSettings {
        var flags = DaemonFlags()
        flags.configFile = "/etc/moor/test.json"
        edit(&flags)
        return try DaemonSettings.resolve(flags: flags, fileContents: json.map { Data($0.utf8) })
    }

    @Test func defaultsMirrorTheSpec() throws {
        let s = try resolve(nil)
        #expect(s.dataRoot == "/var/lib/moor" && s.execRoot == "/run/moor" && s.socketPath == "/run/moor.sock")
        #expect(!s.liveRestore && s.logDriver == "json-file" && s.storageDriver == "overlay2")
    }

    @Test func fileKeysUseDockerdNames() throws {
        let s = try resolve(#"{"live-restore": true, "log-driver": "local", "log-opts": {"max-size": "1m"}, "data-root": "/x", "hosts": ["unix:///tmp/m.sock"], "spool-max-size": "64m"}"#)
        #expect(s.liveRestore && s.logDriver == "local" && s.logOpts == ["max-size": "1m"])
        #expect(s.dataRoot == "/x" && s.socketPath == "/tmp/m.sock" && s.spoolMaxBytes == 64 << 20)
    }

    @Test func anUnknownKeyIsNamed() {
        #expect { try resolve(#"{"live-restor": true}"#) } throws: { "\($0)".contains("live-restor") && "\($0)".contains("don't match") }
    }

    @Test func aWrongTypeIsNamed() {
        #expect { try resolve(#"{"live-restore": "yes"}"#) } throws: { "\($0)".contains("live-restore") && "\($0)".contains("bool") }
    }

    @Test func theSameSettingAsFlagAndInTheFileIsAnError() {
        #expect {
            try resolve(#"{"live-restore": false}"#) { $0.liveRestore = true }
        } throws: { "\($0)".contains("both as a flag and in the configuration file") && "\($0)".contains("live-restore") }
    }

    @Test func invalidJSONAndNonObjectsAreRefusedNamingTheFile() {
        #expect { try resolve("{") } throws: { "\($0)".contains("/etc/moor/test.json") }
        #expect { try resolve("[]") } throws: { "\($0)".contains("object") }
    }

    @Test func onlyOneUnixSocketIsServed() {
        #expect { try resolve(nil) { $0.hosts = ["tcp://0.0.0.0:2375"] } } throws: { "\($0)".contains("unix://") }
        #expect { try resolve(nil) { $0.hosts = ["unix://relative"] } } throws: { "\($0)".contains("absolute") }
    }

    @Test func badLevelsAndDriversAreRefused() {
        #expect { try resolve(#"{"log-level": "loud"}"#) } throws: { "\($0)".contains("loud") }
        #expect { try resolve(#"{"storage-driver": "zfs"}"#) } throws: { "\($0)".contains("zfs") }
    }

    @Test func reloadTellsWhatItCanAndCannotChange() throws {
        let before = try resolve(nil)
        let after = try resolve(#"{"live-restore": true, "data-root": "/other", "log-level": "debug"}"#)
        #expect(Set(after.reloadableDifferences(from: before)) == ["live-restore", "log-level"])
        #expect(after.fixedDifferences(from: before) == ["data-root"])
    }

    @Test func seccompProfileIsReadAndCheckedAtStart() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/moor-seccomp-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = dir + "/good.json", bad = dir + "/bad.json"
        try #"{"defaultAction":"SCMP_ACT_ALLOW"}"#.write(toFile: good, atomically: true, encoding: .utf8)
        try #"{"defaultAction":"SCMP_ACT_MAYBE"}"#.write(toFile: bad, atomically: true, encoding: .utf8)

        #expect(try resolve(nil).seccompProfileContents == nil)
        #expect(try resolve(#"{"seccomp-profile": "unconfined"}"#).seccompProfileContents == "unconfined")
        #expect(try resolve(#"{"seccomp-profile": "builtin"}"#).seccompProfileContents == nil)
        let custom = try resolve(nil) { $0.seccompProfile = good }
        #expect(custom.seccompProfile == good && custom.seccompProfileContents == #"{"defaultAction":"SCMP_ACT_ALLOW"}"#)
        #expect { try resolve(#"{"seccomp-profile": "\#(bad)"}"#) } throws: {
            "\($0)".contains("seccomp-profile: \(bad)") && "\($0)".contains("SCMP_ACT_MAYBE")
        }
        #expect { try resolve(#"{"seccomp-profile": "\#(dir)/missing.json"}"#) } throws: { "\($0)".contains("missing.json") }
        #expect { try resolve(#"{"seccomp-profile": "unconfined"}"#) { $0.seccompProfile = good } } throws: {
            "\($0)".contains("seccomp-profile") && "\($0)".contains("both as a flag and in the configuration file")
        }
        #expect(try resolve(nil) { $0.seccompProfile = good }.fixedDifferences(from: resolve(nil)) == ["seccomp-profile"])
    }

    @Test func anEmptyFileConfiguresNothing() throws {
        #expect(try resolve("  \n") == (try resolve(nil)))
    }
}
