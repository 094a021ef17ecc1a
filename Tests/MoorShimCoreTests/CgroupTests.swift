// Unit tests of the cgroup backends (cgroup-v1.c, cgroup-v2.c), called
// directly through MoorShimCore: first against directory trees the tests
// build (which file gets which value), then against the host's real v1
// hierarchies and cgroup2 mount, touching only cgroups the tests create.
import Foundation
import MoorShimCore
import Testing

// MARK: - Helpers

private func message(_ err: moor_err_t) -> String {
    withUnsafeBytes(of: err.msg) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// A failed cgroup call: the negative return value and the error message.
private struct CgroupFailure: Error, CustomStringConvertible {
    let rc: Int32
    let message: String
    var description: String { "rc \(rc): \(message)" }
}

private func check(_ rc: Int32, _ err: moor_err_t) throws {
    if rc < 0 {
        throw CgroupFailure(rc: rc, message: message(err))
    }
}

private func missingOp(_ name: String) -> CgroupFailure {
    CgroupFailure(rc: -EINVAL, message: "the ops table has no \(name)")
}

/// linux.resources as the tests give them: nil is "not in the config".
private struct Limits {
    var memory: Int64?
    var memorySwap: Int64?
    var pids: Int64?
    var shares: UInt64?
    var quota: Int64?
    var period: UInt64?
    var cpus: String?
    var mems: String?
}

/// One moor_cgroup_t and throwing wrappers around its table of operations.
private final class Cgroup {
    var cg = moor_cgroup_t()

    init(_ mode: moor_cgroup_mode, root: String, unified: String? = nil, path: String) throws {
        var err = moor_err_t()
        try check(moor_cgroup_init(&cg, mode, root, unified, path, &err), err)
    }

    func create() throws {
        var err = moor_err_t()
        guard let op = cg.ops.pointee.create else { throw missingOp("create") }
        try check(op(&cg, &err), err)
    }

    func apply(_ limits: Limits) throws {
        var res = moor_resources_t()
        res.has_memory_limit = limits.memory != nil
        res.memory_limit = limits.memory ?? 0
        res.has_memory_swap = limits.memorySwap != nil
        res.memory_swap = limits.memorySwap ?? 0
        res.has_pids_limit = limits.pids != nil
        res.pids_limit = limits.pids ?? 0
        res.has_cpu_shares = limits.shares != nil
        res.cpu_shares = limits.shares ?? 0
        res.has_cpu_quota = limits.quota != nil
        res.cpu_quota = limits.quota ?? 0
        res.has_cpu_period = limits.period != nil
        res.cpu_period = limits.period ?? 0
        res.cpuset_cpus = limits.cpus.flatMap { strdup($0) }
        res.cpuset_mems = limits.mems.flatMap { strdup($0) }
        defer {
            free(res.cpuset_cpus)
            free(res.cpuset_mems)
        }
        var err = moor_err_t()
        guard let op = cg.ops.pointee.apply else { throw missingOp("apply") }
        try check(op(&cg, &res, &err), err)
    }

    func enter(_ pid: pid_t) throws {
        var err = moor_err_t()
        guard let op = cg.ops.pointee.enter else { throw missingOp("enter") }
        try check(op(&cg, pid, &err), err)
    }

    func oomKills() throws -> UInt64 {
        var err = moor_err_t()
        var count: UInt64 = 99
        guard let op = cg.ops.pointee.oom_kills else { throw missingOp("oom_kills") }
        try check(op(&cg, &count, &err), err)
        return count
    }

    func freeze(_ frozen: Bool) throws {
        var err = moor_err_t()
        guard let op = cg.ops.pointee.freeze else { throw missingOp("freeze") }
        try check(op(&cg, frozen, &err), err)
    }

    func pids() throws -> [pid_t] {
        var err = moor_err_t()
        var out = [pid_t](repeating: 0, count: 64)
        guard let op = cg.ops.pointee.pids else { throw missingOp("pids") }
        let n = op(&cg, &out, Int32(out.count), &err)
        try check(n, err)
        return Array(out.prefix(Int(n)))
    }

    func destroy() throws {
        var err = moor_err_t()
        guard let op = cg.ops.pointee.destroy else { throw missingOp("destroy") }
        try check(op(&cg, &err), err)
    }
}

/// Runs `body`, expecting it to throw a CgroupFailure; returns that failure.
private func failure(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation)
    -> CgroupFailure?
{
    do {
        try body()
    } catch let failure as CgroupFailure {
        return failure
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return nil
    }
    Issue.record("expected a cgroup error, but the call succeeded", sourceLocation: sourceLocation)
    return nil
}

/// A temporary directory standing in for a cgroup root. cgroupfs makes every
/// interface file itself and moor never creates one, so a test pre-creates
/// exactly the files a controller would have.
private struct Tree {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory.path + "/moor-cgroup-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    func dir(_ rel: String) throws {
        try FileManager.default.createDirectory(atPath: root + "/" + rel, withIntermediateDirectories: true)
    }

    /// Creates `rel` (and its directories) holding `content`.
    func file(_ rel: String, _ content: String = "") throws {
        try dir((rel as NSString).deletingLastPathComponent)
        try content.write(toFile: root + "/" + rel, atomically: false, encoding: .utf8)
    }

    func link(_ rel: String, to target: String) throws {
        try FileManager.default.createSymbolicLink(atPath: root + "/" + rel, withDestinationPath: target)
    }

    func read(_ rel: String) -> String? {
        try? String(contentsOfFile: root + "/" + rel, encoding: .utf8)
    }

    func exists(_ rel: String) -> Bool {
        FileManager.default.fileExists(atPath: root + "/" + rel)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}

/// A v1 tree: each hierarchy has cgroup.procs at its base, and the leaf
/// /a/b exists with cgroup.procs plus `files` (path under the root -> content).
private func v1Tree(_ hierarchies: [String], files: [String: String] = [:]) throws -> Tree {
    let tree = try Tree()
    for h in hierarchies {
        try tree.file(h + "/cgroup.procs")
        try tree.file(h + "/a/b/cgroup.procs")
    }
    for (rel, content) in files {
        try tree.file(rel, content)
    }
    return tree
}

private let unlimitedV1 = "9223372036854771712\n"

/// Every cgroup test sits under this suite, so `--filter CgroupTests` runs them all.
@Suite("cgroup backends") struct CgroupTests {}

// MARK: - v1 against a built tree

extension CgroupTests {
    @Suite("v1 backend, against a built tree")
    struct V1Tree {
        @Test func applyWritesEveryLimitToItsControllerFile() throws {
            let tree = try v1Tree(["memory", "pids", "cpu,cpuacct", "cpuset"], files: [
                "memory/a/b/memory.limit_in_bytes": unlimitedV1,
                "memory/a/b/memory.memsw.limit_in_bytes": unlimitedV1,
                "pids/a/b/pids.max": "max\n",
                "cpu,cpuacct/a/b/cpu.shares": "1024\n",
                "cpu,cpuacct/a/b/cpu.cfs_period_us": "100000\n",
                "cpu,cpuacct/a/b/cpu.cfs_quota_us": "-1\n",
                "cpuset/a/b/cpuset.cpus": "",
                "cpuset/a/b/cpuset.mems": "",
            ])
            defer { tree.remove() }
            try tree.link("cpu", to: "cpu,cpuacct")
            try tree.link("cpuacct", to: "cpu,cpuacct")
            let cg = try Cgroup(MOOR_CGROUP_V1, root: tree.root, path: "/a/b")

            try cg.apply(Limits(memory: 32 << 20, memorySwap: 64 << 20, pids: 20, shares: 512,
                                quota: 50000, period: 200000, cpus: "0-1", mems: "0"))

            #expect(tree.read("memory/a/b/memory.limit_in_bytes") == "33554432")
            #expect(tree.read("memory/a/b/memory.memsw.limit_in_bytes") == "67108864")
            #expect(tree.read("pids/a/b/pids.max") == "20")
            #expect(tree.read("cpu,cpuacct/a/b/cpu.shares") == "512")
            #expect(tree.read("cpu,cpuacct/a/b/cpu.cfs_period_us") == "200000")
            #expect(tree.read("cpu,cpuacct/a/b/cpu.cfs_quota_us") == "50000")
            #expect(tree.read("cpuset/a/b/cpuset.cpus") == "0-1")
            #expect(tree.read("cpuset/a/b/cpuset.mems") == "0")
        }

        @Test func unlimitedValuesAndUnsetFields() throws {
            let untouched = "untouched"
            let tree = try v1Tree(["memory", "pids", "cpu"], files: [
                "memory/a/b/memory.limit_in_bytes": untouched,
                "memory/a/b/memory.memsw.limit_in_bytes": untouched,
                "pids/a/b/pids.max": untouched,
                "cpu/a/b/cpu.shares": untouched,
                "cpu/a/b/cpu.cfs_period_us": untouched,
                "cpu/a/b/cpu.cfs_quota_us": untouched,
            ])
            defer { tree.remove() }
            let cg = try Cgroup(MOOR_CGROUP_V1, root: tree.root, path: "/a/b")

            try cg.apply(Limits())
            for file in ["memory/a/b/memory.limit_in_bytes", "memory/a/b/memory.memsw.limit_in_bytes",
                         "pids/a/b/pids.max", "cpu/a/b/cpu.shares", "cpu/a/b/cpu.cfs_period_us",
                         "cpu/a/b/cpu.cfs_quota_us"] {
                #expect(tree.read(file) == untouched, "\(file) was written")
            }

            try cg.apply(Limits(memory: -1, pids: -1, shares: 0, quota: -1))
            #expect(tree.read("memory/a/b/memory.limit_in_bytes") == "-1")
            #expect(tree.read("memory/a/b/memory.memsw.limit_in_bytes") == untouched)
            #expect(tree.read("pids/a/b/pids.max") == "max")
            #expect(tree.read("cpu/a/b/cpu.shares") == untouched, "shares 0 means not set")
            #expect(tree.read("cpu/a/b/cpu.cfs_period_us") == untouched)
            #expect(tree.read("cpu/a/b/cpu.cfs_quota_us") == "-1")

            try cg.apply(Limits(pids: 0))
            #expect(tree.read("pids/a/b/pids.max") == "max", "pids 0 means no limit")
        }

        @Test func swapLimitWithoutSwapAccounting() throws {
            // No memory.memsw.limit_in_bytes: the kernel runs without swap accounting.
            let tree = try v1Tree(["memory"], files: ["memory/a/b/memory.limit_in_bytes": unlimitedV1])
            defer { tree.remove() }
            let cg = try Cgroup(MOOR_CGROUP_V1, root: tree.root, path: "/a/b")

            try cg.apply(Limits(memory: 32 << 20, memorySwap: 32 << 20))
            #expect(tree.read("memory/a/b/memory.limit_in_bytes") == "33554432")
            try cg.apply(Limits(memory: 16 << 20, memorySwap: -1))
            #expect(tree.read("memory/a/b/memory.limit_in_bytes") == "16777216")

            let refused = failure { try cg.apply(Limits(memory: 32 << 20, memorySwap: 64 << 20)) }
            #expect(refused?.rc == -ENOENT)
            #expect(refused?.message.contains(tree.root + "/memory/a/b/memory.memsw.limit_in_bytes") == true,
                    "\(refused?.message ?? "")")
        }

        @Test func missingControllerFileIsNamed() throws {
            let tree = try v1Tree(["memory", "pids"])
            defer { tree.remove() }
            let cg = try Cgroup(MOOR_CGROUP_V1, root: tree.root, path: "/a/b")

            let noFile = failure { try cg.apply(Limits(pids: 5)) }
            #expect(noFile?.rc == -ENOENT)
            #expect(noFile?.message.contains("`pids`") == true, "\(noFile?.message ?? "")")
            #expect(noFile?.message.contains(tree.root + "/pids/a/b/pids.max") == true, "\(noFile?.message ?? "")")

            let noHierarchy = failure { try cg.apply(Limits(shares: 512)) }
            #expect(noHierarchy?.rc == -ENOENT)
            #expect(noHierarchy?.message.contains("`cpu`") == true, "\(noHierarchy?.message ?? "")")
        }

        @Test func enterWritesThePidInEveryHierarchyAndTheUnifiedMount() throws {
            let tree = try v1Tree(["memory", "pids", "cpu,cpuacct", "name-systemd"], files: [
                // A cgroup2 mount beside the v1 ones is not a v1 hierarchy.
                "unified/cgroup.procs": "", "unified/cgroup.controllers": "",
                "unified/a/b/cgroup.procs": "",
                // Neither is a directory without cgroup.procs.
                "other/a/b/cgroup.procs": "",
            ])
            defer { tree.remove() }
            try tree.link("cpu", to: "cpu,cpuacct")

            let placed = try Cgroup(MOOR_CGROUP_V1, root: tree.root, path: "/a/b")
            try placed.enter(4242)
            for h in ["memory", "pids", "cpu,cpuacct", "name-systemd"] {
                #expect(tree.read(h + "/a/b/cgroup.procs") == "4242", "\(h)")
            }
            #expect(tree.read("unified/a/b/cgroup.procs") == "")
            #expect(tree.read("other/a/b/cgroup.procs") == "")

            let hybrid = try Cgroup(MOOR_CGROUP_V1, root: tree.root, unified: tree.root + "/unified", path: "/a/b")
            try hybrid.enter(4343)
            #expect(tree.read("memory/a/b/cgroup.procs") == "4343")
            #expect(tree.read("unified/a/b/cgroup.procs") == "4343")
            #expect(tree.read("other/a/b/cgroup.procs") == "")
        }

        @Test func oomKillsAndPidsAreRead() throws {
            let tree = try v1Tree(["memory", "pids"], files: [
                "memory/a/b/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
                "pids/a/b/cgroup.procs": "12\n345\n",
                "memory/old/cgroup.procs": "",
                "memory/old/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\n",
            ])
            defer { tree.remove() }

            let cg = try Cgroup(MOOR_CGROUP_V1, root: tree.root, path: "/a/b")
            #expect(try cg.oomKills() == 3)
            #expect(try cg.pids() == [12, 345])
            // Kernels before 4.13 have no oom_kill line.
            let old = try Cgroup(MOOR_CGROUP_V1, root: tree.root, path: "/old")
            #expect(try old.oomKills() == 0)
        }

        @Test func freezeWritesTheFreezerState() throws {
            let tree = try v1Tree(["freezer"], files: ["freezer/a/b/freezer.state": "THAWED\n"])
            defer { tree.remove() }
            let cg = try Cgroup(MOOR_CGROUP_V1, root: tree.root, path: "/a/b")

            try cg.freeze(true)
            #expect(tree.read("freezer/a/b/freezer.state") == "FROZEN")
            try cg.freeze(false)
            #expect(tree.read("freezer/a/b/freezer.state") == "THAWED")
        }

        @Test func createMakesEveryLevelAndDestroyRemovesOnlyTheLeaf() throws {
            let tree = try Tree()
            defer { tree.remove() }
            for h in ["memory", "pids", "cpu,cpuacct", "unified"] {
                try tree.file(h + "/cgroup.procs")
            }
            try tree.file("unified/cgroup.controllers")
            try tree.link("cpu", to: "cpu,cpuacct")
            let cg = try Cgroup(MOOR_CGROUP_V1, root: tree.root, unified: tree.root + "/unified", path: "/a/b")

            try cg.create()
            for h in ["memory", "pids", "cpu,cpuacct", "unified"] {
                #expect(tree.exists(h + "/a/b"), "\(h)/a/b created")
            }
            try cg.destroy()
            for h in ["memory", "pids", "cpu,cpuacct", "unified"] {
                #expect(!tree.exists(h + "/a/b"), "\(h)/a/b removed")
                #expect(tree.exists(h + "/a"), "\(h)/a (maybe shared) kept")
            }
            try cg.destroy() // already gone is fine
        }

        @Test func createUndoesEverythingWhenCpusetCannotBeInitialised() throws {
            // A plain directory made by mkdir has no cpuset.cpus to copy into, so
            // the cpuset step fails after blkio (sorted first) was created.
            let tree = try Tree()
            defer { tree.remove() }
            for h in ["blkio", "cpuset", "memory"] {
                try tree.file(h + "/cgroup.procs")
            }
            try tree.file("cpuset/cpuset.cpus", "0-3\n")
            try tree.file("cpuset/cpuset.mems", "0\n")
            let cg = try Cgroup(MOOR_CGROUP_V1, root: tree.root, path: "/a/b")

            let refused = failure { try cg.create() }
            #expect(refused?.message.contains(tree.root + "/cpuset/a/cpuset.cpus") == true,
                    "\(refused?.message ?? "")")
            for h in ["blkio", "cpuset", "memory"] {
                #expect(!tree.exists(h + "/a"), "\(h)/a undone")
            }
        }
    }
}

// MARK: - v2 against a built tree

/// A v2 tree whose leaf /a/b holds `files` (name -> content).
private func v2Tree(_ files: [String: String]) throws -> Tree {
    let tree = try Tree()
    try tree.file("a/b/cgroup.procs")
    for (name, content) in files {
        try tree.file("a/b/" + name, content)
    }
    return tree
}

private let v2LimitFiles = [
    "memory.max": "max\n", "memory.swap.max": "max\n", "pids.max": "max\n",
    "cpu.weight": "100\n", "cpu.max": "max 100000\n", "cpuset.cpus": "", "cpuset.mems": "",
]

extension CgroupTests {
    @Suite("v2 backend, against a built tree")
    struct V2Tree {
        @Test func applyWritesEveryLimitToItsControllerFile() throws {
            let tree = try v2Tree(v2LimitFiles)
            defer { tree.remove() }
            let cg = try Cgroup(MOOR_CGROUP_V2, root: tree.root, path: "/a/b")

            try cg.apply(Limits(memory: 32 << 20, memorySwap: 96 << 20, pids: 20, shares: 1024,
                                quota: 50000, period: 200000, cpus: "0-1", mems: "0"))

            #expect(tree.read("a/b/memory.max") == "33554432")
            #expect(tree.read("a/b/memory.swap.max") == "67108864", "swap alone: memory+swap - memory")
            #expect(tree.read("a/b/pids.max") == "20")
            #expect(tree.read("a/b/cpu.weight") == "39")
            #expect(tree.read("a/b/cpu.max") == "50000 200000")
            #expect(tree.read("a/b/cpuset.cpus") == "0-1")
            #expect(tree.read("a/b/cpuset.mems") == "0")
        }

        @Test func unlimitedValuesAndUnsetFields() throws {
            let tree = try v2Tree(v2LimitFiles)
            defer { tree.remove() }
            let cg = try Cgroup(MOOR_CGROUP_V2, root: tree.root, path: "/a/b")

            try cg.apply(Limits())
            for (name, content) in v2LimitFiles {
                #expect(tree.read("a/b/" + name) == content, "\(name) was written")
            }

            try cg.apply(Limits(memory: -1, memorySwap: -1, pids: 0, shares: 0, quota: -1))
            #expect(tree.read("a/b/memory.max") == "max")
            #expect(tree.read("a/b/memory.swap.max") == "max")
            #expect(tree.read("a/b/pids.max") == "max")
            #expect(tree.read("a/b/cpu.weight") == "100\n", "shares 0 means not set")
            #expect(tree.read("a/b/cpu.max") == "max 100000", "default period")

            try cg.apply(Limits(memory: 64 << 20, memorySwap: 64 << 20, quota: 25000))
            #expect(tree.read("a/b/memory.swap.max") == "0", "swap equal to memory: no swap")
            #expect(tree.read("a/b/cpu.max") == "25000 100000")

            // A period alone keeps the quota already there.
            try cg.apply(Limits(period: 50000))
            #expect(tree.read("a/b/cpu.max") == "25000 50000")
        }

        @Test func inconsistentSwapIsRefused() throws {
            let tree = try v2Tree(v2LimitFiles)
            defer { tree.remove() }
            let cg = try Cgroup(MOOR_CGROUP_V2, root: tree.root, path: "/a/b")

            let below = failure { try cg.apply(Limits(memory: 64 << 20, memorySwap: 32 << 20)) }
            #expect(below?.rc == -EINVAL)
            #expect(below?.message.contains("below the memory limit") == true, "\(below?.message ?? "")")
            let alone = failure { try cg.apply(Limits(memorySwap: 32 << 20)) }
            #expect(alone?.rc == -EINVAL)
            #expect(alone?.message.contains("linux.resources.memory.limit") == true, "\(alone?.message ?? "")")
            #expect(tree.read("a/b/memory.max") == "max\n", "nothing written before the check")
        }

        @Test func missingControllerFileIsNamed() throws {
            let tree = try v2Tree(["memory.max": "max\n"])
            defer { tree.remove() }
            let cg = try Cgroup(MOOR_CGROUP_V2, root: tree.root, path: "/a/b")

            let pids = failure { try cg.apply(Limits(pids: 5)) }
            #expect(pids?.rc == -ENOENT)
            #expect(pids?.message.contains("`pids`") == true, "\(pids?.message ?? "")")
            #expect(pids?.message.contains(tree.root + "/a/b/pids.max") == true, "\(pids?.message ?? "")")

            let cpu = failure { try cg.apply(Limits(shares: 512)) }
            #expect(cpu?.message.contains("`cpu`") == true, "\(cpu?.message ?? "")")
            #expect(cpu?.message.contains(tree.root + "/a/b/cpu.weight") == true, "\(cpu?.message ?? "")")

            // Without swap accounting only "no swap limit" can be honoured.
            try cg.apply(Limits(memory: 32 << 20, memorySwap: 32 << 20))
            try cg.apply(Limits(memory: 32 << 20, memorySwap: -1))
            let swap = failure { try cg.apply(Limits(memory: 32 << 20, memorySwap: 64 << 20)) }
            #expect(swap?.message.contains(tree.root + "/a/b/memory.swap.max") == true, "\(swap?.message ?? "")")
        }

        @Test(arguments: [
            (UInt64(2), UInt64(1)), (1, 1), (1024, 39), (512, 20), (262144, 10000), (1_000_000, 10000),
            (0, 0),
        ])
        func weightFromShares(shares: UInt64, weight: UInt64) {
            #expect(moor_cgroup_v2_weight_from_shares(shares) == weight)
        }

        @Test func createEnablesOurControllersLevelByLevel() throws {
            let tree = try Tree()
            defer { tree.remove() }
            try tree.file("cgroup.controllers", "cpuset cpu io memory hugetlb pids\n")
            try tree.file("cgroup.subtree_control", "memory\n")
            try tree.file("a/cgroup.controllers", "memory pids\n")
            try tree.file("a/cgroup.subtree_control", "")
            let cg = try Cgroup(MOOR_CGROUP_V2, root: tree.root, path: "/a/b/c")

            try cg.create()

            // One write per missing controller (appended here; cgroupfs parses each),
            // none for io/hugetlb or what is already enabled.
            #expect(tree.read("cgroup.subtree_control") == "memory\n+cpuset+cpu+pids")
            #expect(tree.read("a/cgroup.subtree_control") == "+memory+pids")
            // b is a plain new directory with no cgroup.controllers: nothing to enable.
            #expect(!tree.exists("a/b/cgroup.subtree_control"))
            #expect(tree.exists("a/b/c"))

            try cg.destroy()
            #expect(!tree.exists("a/b/c"))
            #expect(tree.exists("a/b"), "parent levels are left alone")
        }

        @Test func enterOomKillsAndPids() throws {
            let tree = try v2Tree([
                "memory.events": "low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\noom_group_kill 0\n",
            ])
            defer { tree.remove() }
            try tree.file("c/cgroup.procs")
            let cg = try Cgroup(MOOR_CGROUP_V2, root: tree.root, path: "/a/b")

            try cg.enter(4242)
            #expect(tree.read("a/b/cgroup.procs") == "4242")
            #expect(try cg.pids() == [4242])
            #expect(try cg.oomKills() == 1)
            // No memory controller, no memory.events: no OOM kill.
            let bare = try Cgroup(MOOR_CGROUP_V2, root: tree.root, path: "/c")
            #expect(try bare.oomKills() == 0)
        }

        @Test func freezeWaitsForCgroupEvents() throws {
            let tree = try v2Tree(["cgroup.freeze": "0\n", "cgroup.events": "populated 1\nfrozen 1\n"])
            defer { tree.remove() }
            let cg = try Cgroup(MOOR_CGROUP_V2, root: tree.root, path: "/a/b")

            try cg.freeze(true)
            #expect(tree.read("a/b/cgroup.freeze") == "1")

            // cgroup.events never says "frozen 0": bounded wait, then an error naming it.
            let stuck = failure { try cg.freeze(false) }
            #expect(stuck?.rc == -ETIMEDOUT)
            #expect(stuck?.message.contains(tree.root + "/a/b/cgroup.events") == true, "\(stuck?.message ?? "")")
        }

        @Test func freezeThatNeverSettlesIsUndone() throws {
            let tree = try v2Tree(["cgroup.freeze": "0\n", "cgroup.events": "populated 1\nfrozen 0\n"])
            defer { tree.remove() }
            let cg = try Cgroup(MOOR_CGROUP_V2, root: tree.root, path: "/a/b")

            let stuck = failure { try cg.freeze(true) }
            #expect(stuck?.rc == -ETIMEDOUT)
            #expect(tree.read("a/b/cgroup.freeze") == "0", "a half frozen cgroup is thawed again")

            let noFreezer = try Cgroup(MOOR_CGROUP_V2, root: tree.root, path: "/a")
            let missing = failure { try noFreezer.freeze(true) }
            #expect(missing?.message.contains(tree.root + "/a/cgroup.freeze") == true, "\(missing?.message ?? "")")
        }
    }
}

// MARK: - Real hierarchies of this host

private enum Host {
    static let root = "/sys/fs/cgroup"
    static let unified = root + "/unified"

    static func mode(_ path: String) -> moor_cgroup_mode? {
        var mode = moor_cgroup_mode(rawValue: 0)
        var err = moor_err_t()
        return moor_cgroup_detect(path, &mode, &err) == 0 ? mode : nil
    }

    static var isRoot: Bool { getuid() == 0 }
    static var hasV1: Bool { isRoot && mode(root) == MOOR_CGROUP_V1 }
    static var hasUnified: Bool { isRoot && FileManager.default.fileExists(atPath: unified + "/cgroup.procs")
        && mode(unified) == MOOR_CGROUP_V2 }

    /// The v1 hierarchies as the backend should see them: real directories
    /// with cgroup.procs that are not a cgroup2 mount.
    static var v1Hierarchies: [String] {
        let fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: root)) ?? []
        return names.sorted().map { root + "/" + $0 }.filter { path in
            let type = (try? fm.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
            return type == .typeDirectory && fm.fileExists(atPath: path + "/cgroup.procs")
                && !fm.fileExists(atPath: path + "/cgroup.controllers")
        }
    }

    /// A name no other test run uses, so only our own cgroups are touched.
    static func uniqueParent() -> String {
        "/moor-test-" + UUID().uuidString.prefix(8).lowercased()
    }

    static func read(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A `sleep` child to move around; `stop()` kills and reaps it.
private final class Sleeper {
    let process = Process()
    var pid: pid_t { process.processIdentifier }

    init() throws {
        process.executableURL = URL(fileURLWithPath: "/bin/sleep")
        process.arguments = ["600"]
        try process.run()
    }

    func stop() {
        if process.isRunning {
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
    }
}

extension CgroupTests {
    @Suite("both backends on this host's real hierarchies")
    struct RealHierarchies {
        @Test(.enabled(if: Host.hasUnified, "needs root and a cgroup2 mount at /sys/fs/cgroup/unified"))
        func v2CreateEnterDestroyInTheUnifiedMount() throws {
            let parentPath = Host.uniqueParent()
            let path = parentPath + "/leaf"
            let cg = try Cgroup(MOOR_CGROUP_V2, root: Host.unified, path: path)
            let parent = try Cgroup(MOOR_CGROUP_V2, root: Host.unified, path: parentPath)
            defer {
                try? cg.destroy()
                try? parent.destroy()
            }

            try cg.create()
            #expect(FileManager.default.fileExists(atPath: Host.unified + path + "/cgroup.procs"))
            let child = try Sleeper()
            defer { child.stop() }
            try cg.enter(child.pid)

            let lines = Host.read("/proc/\(child.pid)/cgroup")?.split(separator: "\n").map(String.init) ?? []
            #expect(lines.contains("0::" + path), "\(lines)")
            #expect(try cg.pids() == [child.pid])
            #expect(try cg.oomKills() == 0, "no memory controller here")

            child.stop()
            try cg.destroy()
            #expect(!FileManager.default.fileExists(atPath: Host.unified + path))
            #expect(FileManager.default.fileExists(atPath: Host.unified + parentPath), "parent left alone")
            try parent.destroy()
            #expect(!FileManager.default.fileExists(atPath: Host.unified + parentPath))
        }

        @Test(.enabled(if: Host.hasV1, "needs root and cgroup v1 hierarchies under /sys/fs/cgroup"))
        func v1CreateApplyEnterFreezeDestroy() throws {
            let parentPath = Host.uniqueParent()
            let path = parentPath + "/leaf"
            let unified = Host.hasUnified ? Host.unified : nil
            let cg = try Cgroup(MOOR_CGROUP_V1, root: Host.root, unified: unified, path: path)
            let parent = try Cgroup(MOOR_CGROUP_V1, root: Host.root, unified: unified, path: parentPath)
            let hierarchies = Host.v1Hierarchies + (unified.map { [$0] } ?? [])
            defer {
                try? cg.destroy()
                try? parent.destroy()
            }

            try cg.create()
            for h in hierarchies {
                #expect(FileManager.default.fileExists(atPath: h + path), "\(h + path) created")
            }
            try expectCpusetCopied(parentPath: parentPath, path: path)
            try expectMemoryAndPidsApplied(cg, path: path)

            let child = try Sleeper()
            defer {
                // A frozen v1 task cannot die: thaw before the kill.
                try? cg.freeze(false)
                child.stop()
            }
            try cg.enter(child.pid)
            let lines = Host.read("/proc/\(child.pid)/cgroup")?.split(separator: "\n").map(String.init) ?? []
            for name in ["memory", "pids", "freezer", "cpuset"] {
                #expect(lines.contains { $0.hasSuffix(":" + name + ":" + path) }, "\(name) in \(lines)")
            }
            if unified != nil {
                #expect(lines.contains("0::" + path), "\(lines)")
            }
            #expect(try cg.pids() == [child.pid])
            #expect(try cg.oomKills() == 0)

            let state = Host.root + "/freezer" + path + "/freezer.state"
            try cg.freeze(true)
            #expect(Host.read(state) == "FROZEN")
            try cg.freeze(false)
            #expect(Host.read(state) == "THAWED")

            child.stop()
            try cg.destroy()
            for h in hierarchies {
                #expect(!FileManager.default.fileExists(atPath: h + path), "\(h + path) removed")
                #expect(FileManager.default.fileExists(atPath: h + parentPath), "\(h + parentPath) left alone")
            }
            try parent.destroy()
            for h in hierarchies {
                #expect(!FileManager.default.fileExists(atPath: h + parentPath), "\(h + parentPath) removed")
            }
        }

        /// v1 cpuset starts a cgroup with no cpus and mems; create copies them.
        private func expectCpusetCopied(parentPath: String, path: String) throws {
            let cpuset = Host.root + "/cpuset"
            guard FileManager.default.fileExists(atPath: cpuset + "/cpuset.cpus") else { return }
            for level in [parentPath, path] {
                for file in ["cpuset.cpus", "cpuset.mems"] {
                    let value = Host.read(cpuset + level + "/" + file)
                    #expect(value == Host.read(cpuset + "/" + file), "\(level)/\(file)")
                    #expect(value?.isEmpty == false, "\(level)/\(file)")
                }
            }
        }

        /// Limits read back from the kernel, raising and lowering memory+swap
        /// (which only works in the right order of the two writes).
        private func expectMemoryAndPidsApplied(_ cg: Cgroup, path: String) throws {
            let memory = Host.root + "/memory" + path
            let hasSwap = FileManager.default.fileExists(atPath: memory + "/memory.memsw.limit_in_bytes")
            for (limit, swap) in [(Int64(32 << 20), Int64(64 << 20)), (128 << 20, 256 << 20), (16 << 20, 16 << 20)] {
                try cg.apply(Limits(memory: limit, memorySwap: hasSwap ? swap : limit, pids: 16))
                #expect(Host.read(memory + "/memory.limit_in_bytes") == String(limit))
                if hasSwap {
                    #expect(Host.read(memory + "/memory.memsw.limit_in_bytes") == String(swap))
                }
            }
            #expect(Host.read(Host.root + "/pids" + path + "/pids.max") == "16")
        }
    }
}
