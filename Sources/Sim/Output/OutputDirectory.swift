#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Packets

/// The directory a run writes into (`--out`): created with its parents, and locked for the run (`DIR/.vpcsim.lock`,
/// `flock`), so that two runs into one directory cannot mix their files.
final class OutputDirectory {
    let path: String
    let lockPath: String
    /// The open `.vpcsim.lock`, holding an exclusive `flock` until `unlock()` (or the process ends).
    private var lockDescriptor: Int32 = -1

    static let lockName = ".vpcsim.lock"

    /// Creates `path` (and its parents) and locks it: another run that holds the lock is an error at once (it is
    /// not waited for). The lock file is removed when the run ends, and by a signal's cleanup
    /// (`TemporaryFiles`); one left by a killed run is simply locked again.
    init(_ path: String) throws {
        self.path = path
        lockPath = (path.hasSuffix("/") ? path : path + "/") + Self.lockName
        try Self.create(path)
        while true {
            let fd = TemporaryFiles.creating(lockPath) { open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) }
            guard fd >= 0 else {
                let e = errno
                TemporaryFiles.forget(lockPath)
                throw CaptureFileError(path: path, message: "cannot open the lock file \(lockPath): \(String(cString: strerror(e)))")
            }
            var e: Int32 = 0
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                e = errno
                if e != EINTR { break }
                e = 0
            }
            if e != 0 {
                close(fd)
                TemporaryFiles.forget(lockPath)  // the other run's
                if e == EWOULDBLOCK {
                    throw CaptureFileError(path: path, message: "another vpcsim run is writing into this directory "
                                           + "(\(lockPath) is locked)")
                }
                throw CaptureFileError(path: path, message: "cannot lock \(lockPath): \(String(cString: strerror(e)))")
            }
            // Locked; but a run that just ended may have removed the file after this one opened it: then the lock
            // is on a file no other run can find, and the path's own is to be locked instead.
            var held = stat(), named = stat()
            if fstat(fd, &held) == 0, stat(lockPath, &named) == 0, held.st_dev == named.st_dev, held.st_ino == named.st_ino {
                lockDescriptor = fd
                return
            }
            close(fd)
        }
    }

    /// Removes the lock file and lets another run write into the directory.
    func unlock() {
        guard lockDescriptor >= 0 else { return }
        TemporaryFiles.remove(lockPath)  // before the lock goes: no run can lock this file once it is unlocked
        close(lockDescriptor)
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
