// Unit tests of the exit record (exit.c), called directly through MoorShimCore.
import Foundation
import Glibc
import MoorShimCore
import Testing

// MARK: - Helpers

private func message(_ err: moor_err_t) -> String {
    withUnsafeBytes(of: err.msg) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

private struct ExitTestError: Error, CustomStringConvertible {
    var description: String
}

/// A fresh temp directory for `body`, removed afterwards.
private func withTempDir(_ body: (String) throws -> Void) throws {
    var template = Array("/tmp/moor-exit-test-XXXXXX".utf8CString)
    guard mkdtemp(&template) != nil else {
        throw ExitTestError(description: "mkdtemp: \(String(cString: strerror(errno)))")
    }
    let dir = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try body(dir)
}

/// Runs `/bin/sh -c script` and returns the raw waitpid() status.
private func waitStatus(of script: String) throws -> Int32 {
    var pid: pid_t = 0
    let args = ["/bin/sh", "-c", script]
    var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    // The child starts with default signal actions and nothing blocked,
    // whatever the test runner set up for itself.
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var all = sigset_t()
    var none = sigset_t()
    sigfillset(&all)
    sigemptyset(&none)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setsigmask(&attr, &none)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
    let rc = posix_spawn(&pid, "/bin/sh", nil, &attr, &argv, environ)
    guard rc == 0 else { throw ExitTestError(description: "posix_spawn: \(String(cString: strerror(rc)))") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { throw ExitTestError(description: "waitpid: \(String(cString: strerror(errno)))") }
    }
    return status
}

private func write(_ ex: moor_exit_t, to path: String) -> (rc: Int32, message: String) {
    var copy = ex
    var err = moor_err_t()
    let rc = moor_exit_write(path, &copy, &err)
    return (rc, message(err))
}

private func read(_ path: String) -> (rc: Int32, code: Int32, message: String, record: moor_exit_t) {
    var ex = moor_exit_t()
    var err = moor_err_t()
    let rc = moor_exit_read(path, &ex, &err)
    return (rc, err.code, message(err), ex)
}

private func sample(code: Int32 = 137, signal: Int32 = 9, oom: Bool = true) -> moor_exit_t {
    var ex = moor_exit_t()
    ex.pid = 4242
    ex.exit_code = code
    ex.signal = signal
    ex.oom_killed = oom
    ex.started_ns = 1_700_000_000_000_000_001
    ex.finished_ns = 1_700_000_005_123_456_789
    return ex
}

private func same(_ a: moor_exit_t, _ b: moor_exit_t) -> Bool {
    a.pid == b.pid && a.exit_code == b.exit_code && a.signal == b.signal &&
        a.oom_killed == b.oom_killed && a.started_ns == b.started_ns && a.finished_ns == b.finished_ns
}

// MARK: - Tests

@Suite struct ExitRecordTests {
    @Test func aNormalExitGivesItsCodeAndNoSignal() throws {
        var ex = moor_exit_t()
        moor_exit_from_status(&ex, try waitStatus(of: "exit 3"))
        #expect(ex.exit_code == 3 && ex.signal == 0)
        moor_exit_from_status(&ex, try waitStatus(of: "true"))
        #expect(ex.exit_code == 0 && ex.signal == 0)
    }

    @Test func aKilledProcessGives128PlusTheSignal() throws {
        var ex = moor_exit_t()
        moor_exit_from_status(&ex, try waitStatus(of: "kill -KILL $$"))
        #expect(ex.exit_code == 137 && ex.signal == 9)
        moor_exit_from_status(&ex, try waitStatus(of: "kill -TERM $$"))
        #expect(ex.exit_code == 143 && ex.signal == 15)
        // SIGSEGV with a core dump (bit 0x80) is still signal 11.
        moor_exit_from_status(&ex, 0x80 | 11)
        #expect(ex.exit_code == 139 && ex.signal == 11)
    }

    @Test func aRecordReadsBackAsWrittenAndIsTheDocumentedJSON() throws {
        try withTempDir { dir in
            let path = dir + "/exit"
            for ex in [sample(), sample(code: 0, signal: 0, oom: false)] {
                let w = write(ex, to: path)
                #expect(w.rc == 0, "\(w.message)")
                let r = read(path)
                #expect(r.rc == 0, "\(r.message)")
                #expect(same(r.record, ex))
            }
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let obj = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(Set(obj.keys) == ["pid", "exit_code", "signal", "oom_killed", "started_ns", "finished_ns"])
            #expect(obj["pid"] as? Int == 4242)
            #expect(obj["exit_code"] as? Int == 0)
            #expect(obj["oom_killed"] as? Bool == false)
            #expect((obj["finished_ns"] as? NSNumber)?.uint64Value == 1_700_000_005_123_456_789)
        }
    }

    @Test func writingReplacesTheFileByRenameAndLeavesNoTemporary() throws {
        try withTempDir { dir in
            let path = dir + "/exit"
            #expect(write(sample(code: 1, signal: 0), to: path).rc == 0)
            var before = stat()
            #expect(stat(path, &before) == 0)
            #expect(write(sample(code: 2, signal: 0, oom: false), to: path).rc == 0)
            var after = stat()
            #expect(stat(path, &after) == 0)
            // A new inode: the old file was never rewritten in place, so a
            // crash leaves either the old record or the new one, whole.
            #expect(before.st_ino != after.st_ino)
            #expect(read(path).record.exit_code == 2)
            let names = try FileManager.default.contentsOfDirectory(atPath: dir)
            #expect(names == ["exit"])
        }
    }

    @Test func writingWhereThereIsNoDirectoryFailsNamingThePath() throws {
        try withTempDir { dir in
            let path = dir + "/missing/exit"
            let w = write(sample(), to: path)
            #expect(w.rc == -ENOENT)
            #expect(w.message.contains(dir + "/missing"))
        }
    }

    @Test func aMissingRecordIsENOENTNamingThePath() throws {
        try withTempDir { dir in
            let r = read(dir + "/exit")
            #expect(r.rc == -ENOENT && r.code == ENOENT)
            #expect(r.message.contains(dir + "/exit"))
        }
    }

    @Test(arguments: [
        ("", "unexpected end of input"),
        ("not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (#"{"exit_code":0,"signal":0,"oom_killed":false,"started_ns":1,"finished_ns":2}"#, "pid: required"),
        (#"{"pid":"12","exit_code":0,"signal":0,"oom_killed":false,"started_ns":1,"finished_ns":2}"#,
         "pid: expected an integer"),
        (#"{"pid":0,"exit_code":0,"signal":0,"oom_killed":false,"started_ns":1,"finished_ns":2}"#,
         "pid: 0 is out of range"),
        (#"{"pid":7,"exit_code":300,"signal":0,"oom_killed":false,"started_ns":1,"finished_ns":2}"#,
         "exit_code: 300 is out of range"),
        (#"{"pid":7,"exit_code":0.5,"signal":0,"oom_killed":false,"started_ns":1,"finished_ns":2}"#,
         "exit_code: expected an integer"),
        (#"{"pid":7,"exit_code":0,"signal":9,"oom_killed":false,"started_ns":1,"finished_ns":2}"#,
         "exit_code: 0 does not match signal 9"),
        (#"{"pid":7,"exit_code":0,"signal":-1,"oom_killed":false,"started_ns":1,"finished_ns":2}"#,
         "signal: -1 is out of range"),
        (#"{"pid":7,"exit_code":0,"signal":0,"oom_killed":"no","started_ns":1,"finished_ns":2}"#,
         "oom_killed: expected a boolean"),
        (#"{"pid":7,"exit_code":0,"signal":0,"started_ns":1,"finished_ns":2}"#, "oom_killed: required"),
        (#"{"pid":7,"exit_code":0,"signal":0,"oom_killed":false,"started_ns":-1,"finished_ns":2}"#,
         "started_ns: expected a non-negative integer"),
        (#"{"pid":7,"exit_code":0,"signal":0,"oom_killed":false,"started_ns":1}"#, "finished_ns: required"),
        (#"{"pid":7,"exit_code":0,"signal":0,"oom_killed":false,"started_ns":1,"finished_ns":2} x"#,
         "invalid JSON"),
    ])
    func aMalformedRecordIsRefusedNamingThePathAndTheField(content: String, fragment: String) throws {
        try withTempDir { dir in
            let path = dir + "/exit"
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
            let r = read(path)
            #expect(r.rc == -EINVAL && r.code == EINVAL)
            #expect(r.message.contains("exit record `\(path)`"), "\(r.message)")
            #expect(r.message.contains(fragment), "\(r.message)")
            #expect(same(r.record, moor_exit_t()), "nothing half-parsed is handed out")
        }
    }

    @Test func unknownFieldsAreIgnoredForLaterVersions() throws {
        try withTempDir { dir in
            let path = dir + "/exit"
            let json = #"{"pid":7,"exit_code":130,"signal":2,"oom_killed":false,"started_ns":1,"finished_ns":2,"cgroup":"x"}"#
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            let r = read(path)
            #expect(r.rc == 0, "\(r.message)")
            #expect(r.record.exit_code == 130 && r.record.signal == 2 && r.record.pid == 7)
        }
    }

    @Test func anOversizedFileIsNotTakenForARecord() throws {
        try withTempDir { dir in
            let path = dir + "/exit"
            try Data(repeating: 0x20, count: 10000).write(to: URL(fileURLWithPath: path))
            let r = read(path)
            #expect(r.rc == -EFBIG)
            #expect(r.message.contains(path))
        }
    }
}
