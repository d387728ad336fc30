import Packets

/// One command of an interactive `sftp` session (a flow's `steps`), or a pause between commands.
public enum SFTPStep: Sendable, Equatable, CustomStringConvertible {
    /// `ls`: list the remote working directory.
    case ls
    /// `put SIZE`: upload a file of SIZE bytes.
    case put(Int)
    /// `idle DURATION`: the user types nothing for DURATION (nanoseconds); nothing is sent unless a keepalive is.
    case idle(Int64)

    public var description: String {
        switch self {
        case .ls: return "ls"
        case .put(let n): return "put \(n)"
        case .idle(let d): return "idle \(formatDuration(d))"
        }
    }

    /// The bytes the step moves (counted against a run's size limit).
    public var size: Int {
        if case .put(let n) = self { return n }
        return 0
    }
}

extension SSHConversation.PayloadSize {
    /// SSH_MSG_GLOBAL_REQUEST "keepalive@openssh.com", want_reply TRUE (clientloop.c server_alive_check).
    public static let globalKeepalive = 1 + s("keepalive@openssh.com") + 1
    /// SSH_MSG_REQUEST_FAILURE: no data (RFC 4254 §4).
    public static let requestFailure = 1
}

extension SSHConversation.SFTPSize {
    /// SSH_FXP_STAT / SSH_FXP_OPENDIR of `path`.
    static func pathRequest(_ path: String) -> Int { 4 + 1 + 4 + s(path) }
    /// ATTRS as sftp-server sends them: flags, size, uid/gid, permissions, atime/mtime.
    static let attrs = 4 + 8 + 4 + 4 + 4 + 4 + 4
    static let attrsReply = 4 + 1 + 4 + attrs
    /// SSH_FXP_READDIR / SSH_FXP_CLOSE of a handle.
    static let handleRequest = 4 + 1 + 4 + 4 + handle
    static let statusEOF = 4 + 1 + 4 + 4 + s("End of file") + s("")
    /// A fresh home directory as Debian's skeleton fills it: the entries, with ls -l long names.
    static let homeEntries = [".", "..", ".bash_logout", ".bashrc", ".profile", ".ssh"]
    static func nameReply(_ user: String) -> Int {
        4 + 1 + 4 + 4 + homeEntries.reduce(0) { total, name in
            let long = "drwxr-xr-x    2 \(user) \(user)     4096 Nov 26 09:00 \(name)"
            return total + s(name) + s(long) + attrs
        }
    }
}

extension SSHConversation {
    /// "ls": sftp(1) stats the directory, opens it and reads it until EOF, then closes it — the message sequence
    /// of the linux-netns reference's `ls` (Tests/Fixtures/captures/linux-netns/ok), with its processing delays;
    /// returns the server's last message.
    static func listing(after trigger: Int, pause: Int64, home: String, _ m: inout Builder,
                        _ rng: inout SplitMix64) -> Int {
        let us: Int64 = 1_000
        let user = String(home.split(separator: "/").last ?? "")
        let stat = m.data(.client, SFTPSize.pathRequest(home), "SSH_FXP_STAT", trigger, pause + 170 * us, &rng)
        let attrs = m.data(.server, SFTPSize.attrsReply, "SSH_FXP_ATTRS", stat, 80 * us, &rng)
        let open = m.data(.client, SFTPSize.pathRequest(home), "SSH_FXP_OPENDIR", attrs, 230 * us, &rng)
        let handle = m.data(.server, SFTPSize.handleReply, "SSH_FXP_HANDLE", open, 110 * us, &rng)
        let read = m.data(.client, SFTPSize.handleRequest, "SSH_FXP_READDIR", handle, 140 * us, &rng)
        let names = m.data(.server, SFTPSize.nameReply(user), "SSH_FXP_NAME (entries)", read, 230 * us, &rng)
        let read2 = m.data(.client, SFTPSize.handleRequest, "SSH_FXP_READDIR", names, 110 * us, &rng)
        let eof = m.data(.server, SFTPSize.statusEOF, "SSH_FXP_STATUS EOF", read2, 110 * us, &rng)
        let close = m.data(.client, SFTPSize.handleRequest, "SSH_FXP_CLOSE", eof, 90 * us, &rng)
        return m.data(.server, SFTPSize.status, "SSH_FXP_STATUS for close", close, 80 * us, &rng)
    }
}
