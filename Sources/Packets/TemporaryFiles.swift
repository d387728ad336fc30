#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The files a run is still writing under a temporary name: an `OutputFile`'s hidden `.NAME.PID.tmp`, the spool
/// files of all-hops.pcapng and flow-logs.txt. Each is registered before it is created and forgotten once it is
/// renamed into place or removed.
///
/// `removeOnSignals()` (the command line calls it first thing) makes SIGINT, SIGTERM and SIGHUP remove every one of
/// them before the process ends with that signal: a run interrupted with Ctrl-C leaves no partial file behind,
/// hidden or not (a million-flow run has gigabytes of them). The signals are taken by a thread of their own with
/// `sigwait`, not by a handler, so the removal runs as ordinary code. It also ignores SIGXFSZ, so that a file-size
/// limit (`ulimit -f`) makes a write fail with EFBIG, reported and cleaned up as any failed write, rather than kill
/// the process with its files half written.
///
/// The paths are kept as C strings under a mutex: release builds count references non-atomically, so no Swift
/// storage is shared between the threads that register files (the simulation's, the flow-log thread) and the one
/// that removes them.
public enum TemporaryFiles {
    private struct State {
        var mutex = pthread_mutex_t()
        var paths: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
        var count = 0
        var capacity: Int
        /// Set when a signal came: the files are being removed and the process ends.
        var terminating = false
    }

    private nonisolated(unsafe) static let state: UnsafeMutablePointer<State> = {
        let s = UnsafeMutablePointer<State>.allocate(capacity: 1)
        let capacity = 64
        let paths = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        paths.initialize(repeating: nil, count: capacity)
        s.initialize(to: State(paths: paths, capacity: capacity))
        pthread_mutex_init(&s.pointee.mutex, nil)
        return s
    }()

    /// Registers `path` and runs `create` (which makes the file) with the registry locked, so that a signal's
    /// cleanup happens either before (and the caller then waits for the end of the process instead of creating
    /// anything) or after (and removes the file). Every temporary file is made through here: created outside the
    /// lock, it could appear just after the cleanup and be left behind.
    public static func creating<T>(_ path: String, _ create: () throws -> T) rethrows -> T {
        let c = strdup(path)
        lockToCreate()
        defer { pthread_mutex_unlock(&state.pointee.mutex) }
        if state.pointee.count == state.pointee.capacity {
            let bigger = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: 2 * state.pointee.capacity)
            bigger.moveInitialize(from: state.pointee.paths, count: state.pointee.count)
            state.pointee.paths.deallocate()
            state.pointee.paths = bigger
            state.pointee.capacity *= 2
        }
        state.pointee.paths[state.pointee.count] = c
        state.pointee.count += 1
        return try create()
    }

    /// `fopen(path, mode)` through `creating`: registered, and never created after a signal's cleanup. A file
    /// that cannot be opened is forgotten at once.
    public static func open(_ path: String, _ mode: String) -> UnsafeMutablePointer<FILE>? {
        let fp = creating(path) { fopen(path, mode) }
        if fp == nil {
            let saved = errno
            forget(path)
            errno = saved
        }
        return fp
    }

    /// `fopen(path, mode)` for a file already registered (a spool opened again to append), never after a
    /// signal's cleanup: "ab" would create it again.
    public static func reopen(_ path: String, _ mode: String) -> UnsafeMutablePointer<FILE>? {
        lockToCreate()
        defer { pthread_mutex_unlock(&state.pointee.mutex) }
        return fopen(path, mode)
    }

    /// Locks the registry to create a file; once a signal is being handled, waits for the end of the process
    /// instead (the file would be left behind).
    private static func lockToCreate() {
        pthread_mutex_lock(&state.pointee.mutex)
        guard state.pointee.terminating else { return }
        pthread_mutex_unlock(&state.pointee.mutex)
        while true { pause() }
    }

    /// `path` was renamed into place or removed.
    public static func forget(_ path: String) {
        path.withCString { p in
            pthread_mutex_lock(&state.pointee.mutex)
            defer { pthread_mutex_unlock(&state.pointee.mutex) }
            let paths = state.pointee.paths
            let count = state.pointee.count
            for i in 0..<count {
                guard let q = paths[i], strcmp(q, p) == 0 else { continue }
                free(q)
                paths[i] = paths[count - 1]
                paths[count - 1] = nil
                state.pointee.count = count - 1
                return
            }
        }
    }

    /// `temp` was renamed into place as `final`: the output stays on the list, so that an interrupt removes it too,
    /// until the run it belongs to is complete (`forget(under:)`): an interrupted run leaves none of its outputs,
    /// complete or not, rather than some of them.
    public static func renamed(_ temp: String, to final: String) {
        temp.withCString { t in
            let c = strdup(final)
            pthread_mutex_lock(&state.pointee.mutex)
            defer { pthread_mutex_unlock(&state.pointee.mutex) }
            let paths = state.pointee.paths
            for i in 0..<state.pointee.count {
                guard let q = paths[i], strcmp(q, t) == 0 else { continue }
                free(q)
                paths[i] = c
                return
            }
            free(c)
        }
    }

    /// Forgets every file in `directory` (its run is complete).
    public static func forget(under directory: String) {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        prefix.withCString { p in
            let n = strlen(p)
            pthread_mutex_lock(&state.pointee.mutex)
            defer { pthread_mutex_unlock(&state.pointee.mutex) }
            let paths = state.pointee.paths
            var i = 0
            while i < state.pointee.count {
                if let q = paths[i], strncmp(q, p, n) == 0, strchr(q + n, 47) == nil {  // 47: "/"
                    free(q)
                    state.pointee.count -= 1
                    paths[i] = paths[state.pointee.count]
                    paths[state.pointee.count] = nil
                } else {
                    i += 1
                }
            }
        }
    }

    /// Removes `path` and forgets it.
    public static func remove(_ path: String) {
        unlink(path)
        forget(path)
    }

    /// The files registered now, sorted (for tests).
    public static var registered: [String] {
        pthread_mutex_lock(&state.pointee.mutex)
        defer { pthread_mutex_unlock(&state.pointee.mutex) }
        return (0..<state.pointee.count).map { String(cString: state.pointee.paths[$0]!) }.sorted()
    }

    /// Removes every registered file, then ends the process with the signal (as if it had not been caught):
    /// status 130 for SIGINT, 143 for SIGTERM. Before that it writes one line to stderr,
    /// "`name`: interrupted by SIGINT; N files of the unfinished run removed". Call it before any other thread starts:
    /// threads inherit the blocked signals, and the signal thread is then the only one that takes them.
    public static func removeOnSignals(name: String) {
        signal(SIGXFSZ, SIG_IGN)
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGINT, SIGTERM, SIGHUP] where !isIgnored(s) { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        let context = UnsafeMutablePointer<SignalContext>.allocate(capacity: 1)
        context.initialize(to: SignalContext(set: set, name: strdup(name)))
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { arg in
            let context = arg!.assumingMemoryBound(to: SignalContext.self)
            var signalNumber: Int32 = 0
            while sigwait(&context.pointee.set, &signalNumber) != 0 {}
            TemporaryFiles.terminate(signalNumber, name: context.pointee.name)
            return nil
        }, context)
        if status == 0 {
            pthread_detach(thread)
        } else {
            // No thread to take them: the signals act as they did (uncaught; the files stay).
            pthread_sigmask(SIG_UNBLOCK, &set, nil)
        }
    }

    /// Whether `signalNumber` is ignored in this process (`nohup` ignores SIGHUP; a non-interactive shell ignores
    /// SIGINT in background jobs). `removeOnSignals` leaves such a signal ignored: Linux would hand a blocked one
    /// to `sigwait` even so.
    public static func isIgnored(_ signalNumber: Int32) -> Bool {
        var current = sigaction()
        guard sigaction(signalNumber, nil, &current) == 0 else { return false }
        #if canImport(Glibc)
        let handler = current.__sigaction_handler.sa_handler
        #elseif canImport(Musl)
        let handler = current.__sa_handler.sa_handler
        #else
        let handler = current.__sigaction_u.__sa_handler
        #endif
        return unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    private struct SignalContext {
        var set: sigset_t
        var name: UnsafeMutablePointer<CChar>?
    }

    /// On the signal thread: removes the files (keeping the lock, so that no new one is registered), says so, and
    /// re-raises the signal with its default action.
    private static func terminate(_ signalNumber: Int32, name: UnsafeMutablePointer<CChar>?) {
        pthread_mutex_lock(&state.pointee.mutex)
        state.pointee.terminating = true
        var removed = 0
        for i in 0..<state.pointee.count {
            if let p = state.pointee.paths[i], unlink(p) == 0 { removed += 1 }
        }
        let signalName: String
        switch signalNumber {
        case SIGINT: signalName = "SIGINT"
        case SIGTERM: signalName = "SIGTERM"
        case SIGHUP: signalName = "SIGHUP"
        default: signalName = "signal \(signalNumber)"
        }
        let program = name.map { String(cString: $0) } ?? "vpcsim"
        // On a terminal the progress bar may hold the line: start a new one.
        let line = (isatty(2) != 0 ? "\n" : "") + "\(program): interrupted by \(signalName); "
            + "\(removed) file\(removed == 1 ? "" : "s") of the unfinished run removed\n"
        line.withCString { _ = write(2, $0, strlen($0)) }
        signal(signalNumber, SIG_DFL)
        var only = sigset_t()
        sigemptyset(&only)
        sigaddset(&only, signalNumber)
        pthread_sigmask(SIG_UNBLOCK, &only, nil)
        raise(signalNumber)
        // Not reached: the default action of these signals ends the process.
        _exit(128 + signalNumber)
    }
}
