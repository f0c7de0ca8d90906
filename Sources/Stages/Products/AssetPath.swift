#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where an `assets` / `variantAssets` entry points: a URL kept as a reference, or a file inside the
/// import's assets folder.
public enum AssetPath {
    public enum Resolution: Sendable, Equatable {
        /// An `http://` or `https://` URL, kept as written.
        case url(String)
        /// The file's path: the assets folder joined with the normalised relative path.
        case file(String)
    }

    public enum Problem: Error, Sendable, Equatable, CustomStringConvertible {
        case empty
        case absolutePath(String)
        /// `..` climbs out of the folder, or a symbolic link points outside it.
        case escapesDirectory(String)
        case missing(String)

        public var description: String {
            switch self {
            case .empty: "the asset path is empty"
            case .absolutePath(let path): "asset path '\(path)' is absolute; write it relative to the assets folder"
            case .escapesDirectory(let path): "asset path '\(path)' leads outside the assets folder"
            case .missing(let path): "asset file '\(path)' does not exist"
            }
        }
    }

    public static func resolve(_ written: String, under directory: String) -> Result<Resolution, Problem> {
        resolve(written, under: directory, realDirectory: nil)
    }

    static func resolve(_ written: String, under directory: String, realDirectory: String?) -> Result<Resolution, Problem> {
        let path = written.trimmingPadding()
        guard !path.isEmpty else { return .failure(.empty) }
        let lowercased = path.lowercased()
        if lowercased.hasPrefix("http://") || lowercased.hasPrefix("https://") { return .success(.url(path)) }
        if path.hasPrefix("/") || path.hasPrefix("\\") || path.hasPrefix("~") { return .failure(.absolutePath(path)) }
        var components: [Substring] = []
        for component in path.split(separator: "/", omittingEmptySubsequences: true) where component != "." {
            if component == ".." {
                guard components.popLast() != nil else { return .failure(.escapesDirectory(path)) }
            } else {
                components.append(component)
            }
        }
        guard !components.isEmpty else { return .failure(.escapesDirectory(path)) }
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let joined = ([base.isEmpty ? "." : base] + components.map(String.init)).joined(separator: "/")
        guard let realFile = realPath(joined) else { return .failure(.missing(path)) }
        guard let realDirectory = realDirectory ?? realPath(base.isEmpty ? "." : base),
            realFile.hasPrefix(realDirectory == "/" ? "/" : realDirectory + "/")
        else { return .failure(.escapesDirectory(path)) }
        return .success(.file(joined))
    }

    /// `resolve` for many paths under one folder, whose own real path is looked up once.
    public struct Folder: Sendable {
        public let directory: String
        let realDirectory: String?

        public init(_ directory: String) {
            self.directory = directory
            realDirectory = AssetPath.realPath(directory.isEmpty ? "." : directory)
        }

        public func resolve(_ written: String) -> Result<Resolution, Problem> {
            AssetPath.resolve(written, under: directory, realDirectory: realDirectory)
        }
    }

    /// The problem of the first path in `paths` that does not resolve under `directory`.
    public static func firstProblem(_ paths: [String], under directory: String) -> Problem? {
        for path in paths {
            if case .failure(let problem) = resolve(path, under: directory) { return problem }
        }
        return nil
    }

    /// The canonical path with symbolic links resolved; nil when the file does not exist.
    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
