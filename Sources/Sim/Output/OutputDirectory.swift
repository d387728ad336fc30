#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Packets

/// The directory a run writes into (`--out`): created with its parents, and locked for the run, so that two runs
/// into one directory cannot mix their files.
final class OutputDirectory {
    let path: String
    /// The open `.vpcsim.lock`, holding an exclusive `flock` until `unlock()` (or the process ends).
    private var lockDescriptor: Int32 = -1

    static let lockName = ".vpcsim.lock"

    /// Creates `path` (and its parents) and locks it: another run that holds the lock is an error at once (it is
    /// not waited for). The lock file stays, empty, in the directory.
    init(_ path: String) throws {
        self.path = path
        try Self.create(path)
        let lockPath = (path.hasSuffix("/") ? path : path + "/") + Self.lockName
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CaptureFileError(path: path, message: "cannot open the lock file \(lockPath): \(String(cString: strerror(errno)))")
        }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let e = errno
            if e == EINTR { continue }
            close(fd)
            if e == EWOULDBLOCK {
                throw CaptureFileError(path: path, message: "another vpcsim run is writing into this directory "
                                       + "(\(lockPath) is locked)")
            }
            throw CaptureFileError(path: path, message: "cannot lock \(lockPath): \(String(cString: strerror(e)))")
        }
        lockDescriptor = fd
    }

    /// Lets another run write into the directory.
    func unlock() {
        guard lockDescriptor >= 0 else { return }
        close(lockDescriptor)  // releases the flock
        lockDescriptor = -1
    }

    deinit { unlock() }

    /// `mkdir -p`, with what is wrong with the path when it fails: which part of it is a file, or a loop of
    /// symbolic links, rather than the bare "File exists" or "Not a directory" of the call that failed.
    static func create(_ path: String) throws {
        func fail(_ reason: String) -> CaptureFileError {
            CaptureFileError(path: path, message: "cannot create the output directory: \(reason)")
        }
        guard !path.isEmpty else { throw fail("the path is empty") }
        var prefix = path.hasPrefix("/") ? "/" : ""
        for part in path.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + part
            var info = stat()
            if stat(prefix, &info) == 0 {
                if info.st_mode & S_IFMT == S_IFDIR { continue }
                throw fail(info.st_mode & S_IFMT == S_IFREG ? "\(prefix) is a file, not a directory"
                           : "\(prefix) is not a directory")
            }
            switch errno {
            case ENOENT:
                // A dangling symbolic link: mkdir would fail with EEXIST.
                var link = stat()
                if lstat(prefix, &link) == 0 {
                    throw fail("\(prefix) is a symbolic link to nothing (its target does not exist)")
                }
                if mkdir(prefix, 0o777) != 0 {
                    let e = errno
                    if e == EEXIST, stat(prefix, &info) == 0, info.st_mode & S_IFMT == S_IFDIR { continue }  // a race
                    throw fail("\(prefix): \(String(cString: strerror(e)))")
                }
            case ELOOP:
                throw fail("\(prefix): too many levels of symbolic links (a loop of links)")
            case ENOTDIR:
                throw fail("a part of \(prefix) is not a directory")
            default:
                throw fail("\(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }
}
