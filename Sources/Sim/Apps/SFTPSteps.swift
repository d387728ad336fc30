import Packets

/// One command of an interactive `sftp` session (a flow's `steps`), or a pause between commands.
public enum SFTPStep: Sendable, Equatable, CustomStringConvertible {
    /// `ls`: list the remote working directory.
    case ls
    /// `put SIZE`: upload a file of SIZE bytes.
    case put(Int)
    /// `get SIZE`: download a file of SIZE bytes.
    case get(Int)
    /// `idle DURATION`: the user types nothing for DURATION (nanoseconds); nothing is sent unless a keepalive is.
    case idle(Int64)

    public var description: String {
        switch self {
        case .ls: return "ls"
        case .put(let n): return "put \(n)"
        case .get(let n): return "get \(n)"
        case .idle(let d): return "idle \(formatDuration(d))"
        }
    }

    /// The bytes the step moves (counted against a run's size limit).
    public var size: Int {
        switch self {
        case .put(let n), .get(let n): return n
        case .ls, .idle: return 0
        }
    }
}

extension SSHConversation.PayloadSize {
    /// SSH_MSG_GLOBAL_REQUEST "keepalive@openssh.com", want_reply TRUE (clientloop.c server_alive_check).
    public static let globalKeepalive = 1 + s("keepalive@openssh.com") + 1
    /// SSH_MSG_REQUEST_FAILURE: no data (RFC 4254 §4).
    public static let requestFailure = 1
}

extension SSHConversation.SFTPSize {
    /// SSH_FXP_READ: handle, offset, length.
    static let readRequest = 4 + 1 + 4 + 4 + handle + 8 + 4
    /// SSH_FXP_DATA carrying `n` bytes.
    static func dataReply(_ n: Int) -> Int { 4 + 1 + 4 + 4 + n }
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
    /// of the linux-netns reference's `ls` (captures/reference/linux-netns/ok), with its processing delays;
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

extension SSHConversation {
    /// "get": the SFTP messages of one download after server message `trigger`, as sftp-client.c do_download
    /// (OpenSSH 9.2) runs it; returns the server's last message.
    ///
    /// sftp(1) stats the remote file (its glob), opens it and sends READs of 32768 bytes, one at first and one
    /// more outstanding after each full DATA reply up to 64 (`max_req`); once its next offset is past the size it
    /// keeps one request outstanding. A short DATA (the file's tail) makes it ask again for the rest, which
    /// sftp-server answers with STATUS EOF; then it closes the handle. sftp-server answers the READs in order;
    /// sshd sends a DATA only as far as the client's channel window lets it, and ssh(1) grows that window as
    /// sshd does its own (channel_check_window), so a DATA that would not fit waits for the WINDOW_ADJUST that
    /// makes it fit.
    static func get(_ fileSize: Int, after trigger: Int, pause: Int64, home: String, _ m: inout Builder,
                    _ rng: inout SplitMix64) -> Int {
        let us: Int64 = 1_000
        let remotePath = home + "/download.bin"
        let stat = m.data(.client, SFTPSize.pathRequest(remotePath), "SSH_FXP_STAT", trigger, pause + 200 * us, &rng)
        let attrs = m.data(.server, SFTPSize.attrsReply, "SSH_FXP_ATTRS", stat, 80 * us, &rng)
        let open = m.data(.client, SFTPSize.open(remotePath), "SSH_FXP_OPEN", attrs, 200 * us, &rng)
        let handle = m.data(.server, SFTPSize.handleReply, "SSH_FXP_HANDLE", open, 100 * us, &rng)

        struct Read { var offset: Int; var length: Int; var index: Int }
        var reads: [Read] = []        // in the order sent (and so served)
        var replies: [Int] = []       // the server's reply to each read served
        var nextOffset = 0
        var maxRequests = 1
        var outstanding = 0
        var clientFlow = ChannelFlow()  // ssh(1)'s receive window for the channel
        var sent = 0                    // channel data sshd has sent
        var grants: [(index: Int, total: Int)] = []  // each WINDOW_ADJUST and the credit it brings the total to
        var granted = SSHConversation.channelWindow
        func send(_ offset: Int, _ length: Int, after t: Int, _ delay: Int64, _ rng: inout SplitMix64) {
            let i = m.data(.client, SFTPSize.readRequest,
                           "SSH_FXP_READ \(length) bytes at \(offset)", t, delay, &rng)
            reads.append(Read(offset: offset, length: length, index: i))
            outstanding += 1
        }
        func replyLength(_ r: Read) -> Int {
            r.offset >= fileSize ? SFTPSize.statusEOF : SFTPSize.dataReply(min(r.length, fileSize - r.offset))
        }
        // sftp-server's pread(2) and sshd's write, ~60 µs after the READ (or the adjust) that lets it go.
        func serve(_ rng: inout SplitMix64) {
            while replies.count < reads.count {
                let r = reads[replies.count]
                let n = replyLength(r)
                guard sent + n <= granted else { return }
                sent += n
                // The READ, or the later adjust without which the data would not fit.
                let t = sent <= SSHConversation.channelWindow ? r.index
                    : max(r.index, grants.first { $0.total >= sent }!.index)
                let label = r.offset >= fileSize ? "SSH_FXP_STATUS EOF"
                    : "SSH_FXP_DATA \(min(r.length, fileSize - r.offset)) bytes at \(r.offset)"
                replies.append(m.add(.server, channelDataPackets(n, &rng), "SSH encrypted (SSH_MSG_CHANNEL_DATA \(label))",
                                     t, 60 * us))
            }
        }
        send(0, sftpChunk, after: handle, 100 * us, &rng)
        nextOffset = sftpChunk
        var processed = 0
        while outstanding > 0 {
            serve(&rng)
            precondition(processed < replies.count, "a read is served before the client waits for it")
            let r = reads[processed]
            let reply = replies[processed]
            processed += 1
            outstanding -= 1
            // ssh(1) takes the data in and may grow sshd's window, before sftp(1) sends its next requests.
            clientFlow.serverReceives(replyLength(r))
            let adj = clientFlow.checkWindow()
            if adj > 0 {
                let a = m.enc(.client, PayloadSize.channelWindowAdjust, "SSH_MSG_CHANNEL_WINDOW_ADJUST \(adj)",
                              reply, 30 * us, &rng)
                granted += adj
                grants.append((a, granted))
            }
            if r.offset >= fileSize {
                maxRequests = 0  // EOF
            } else {
                let got = min(r.length, fileSize - r.offset)
                if got < r.length {
                    send(r.offset + got, r.length - got, after: reply, 40 * us, &rng)  // the rest, again
                }
                if maxRequests > 0 {
                    if fileSize > 0, nextOffset > fileSize {
                        maxRequests = 1  // "Only one request at a time after the expected EOF"
                    } else if maxRequests < sftpMaxOutstanding {
                        maxRequests += 1
                    }
                }
            }
            while outstanding < maxRequests {
                send(nextOffset, sftpChunk, after: reply, 40 * us, &rng)
                nextOffset += sftpChunk
            }
        }
        precondition(processed == reads.count, "every read answered")
        let close = m.data(.client, SFTPSize.handleRequest, "SSH_FXP_CLOSE", replies.last ?? handle, 100 * us, &rng)
        return m.data(.server, SFTPSize.status, "SSH_FXP_STATUS for close", close, 80 * us, &rng)
    }
}
