import Testing
@testable import MoorImages

@Suite("image references")
struct ReferenceTests {
    @Test("names are normalised as Docker does, and shown in the familiar form", arguments: [
        ("busybox", "docker.io", "library/busybox", nil, "busybox"),
        ("busybox:1.36", "docker.io", "library/busybox", "1.36", "busybox:1.36"),
        ("docker.io/library/busybox:latest", "docker.io", "library/busybox", "latest", "busybox:latest"),
        ("index.docker.io/user/app", "docker.io", "user/app", nil, "user/app"),
        ("library/busybox", "docker.io", "library/busybox", nil, "busybox"),
        ("user/app:v1.0-rc_1", "docker.io", "user/app", "v1.0-rc_1", "user/app:v1.0-rc_1"),
        ("localhost:5000/team/app:1", "localhost:5000", "team/app", "1", "localhost:5000/team/app:1"),
        ("localhost/app", "localhost", "app", nil, "localhost/app"),
        ("Registry.Example.com/a__b/c-d--e.f", "Registry.Example.com", "a__b/c-d--e.f", nil,
         "Registry.Example.com/a__b/c-d--e.f"),
        ("[::1]:5000/app", "[::1]:5000", "app", nil, "[::1]:5000/app"),
        ("localhost:5000", "docker.io", "library/localhost", "5000", "localhost:5000"),
    ] as [(String, String, String, String?, String)])
    func valid(text: String, domain: String, path: String, tag: String?, familiar: String) throws {
        let reference = try ImageReference.parse(text)
        #expect(reference.domain == domain)
        #expect(reference.path == path)
        #expect(reference.tag == tag)
        #expect(reference.description == familiar)
    }

    @Test("digests are parsed; a missing tag defaults to latest")
    func digestsAndDefaults() throws {
        let digest = "sha256:" + String(repeating: "ab", count: 32)
        let reference = try ImageReference.parse("busybox@" + digest)
        #expect(reference.digest == digest && reference.tag == nil)
        #expect(reference.withDefaultTag.description == "busybox@" + digest)
        #expect(try ImageReference.parse("busybox").withDefaultTag.description == "busybox:latest")
    }

    @Test("invalid references are refused with a 400", arguments: [
        "", "Busybox", "busybox:", ":tag", "a:b:c", "-leading", "trailing-", "a___b", "a..b", "a//b", "/abs",
        "busybox:" + String(repeating: "t", count: 129), "busybox:.dot", "busybox@sha256:abc",
        String(repeating: "ab", count: 32), "bad_host:5000x/app", "has space",
        String(repeating: "a", count: 256),
    ])
    func invalid(text: String) throws {
        let error = #expect(throws: ImagesError.self) { try ImageReference.parse(text) }
        #expect(error?.status == 400)
    }

    @Test("tag targets refuse digests and the name sha256")
    func tagTargets() throws {
        #expect(try ImageStore.tagTarget("app").description == "app:latest")
        #expect(throws: ImagesError.self) {
            try ImageStore.tagTarget("app@sha256:" + String(repeating: "0", count: 64))
        }
        #expect(throws: ImagesError.self) { try ImageStore.tagTarget("sha256:abc") }
    }
}
