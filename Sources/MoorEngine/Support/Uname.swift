import Glibc

/// The host's uname(2) fields.
public enum Uname {
    public static var machine: String { field(\.machine) }
    public static var release: String { field(\.release) }
    public static var nodename: String { field(\.nodename) }

    private static func field<T>(_ path: KeyPath<utsname, T>) -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: name[keyPath: path]) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
