import Foundation

/// One JSON object of the dump (a subnet, a route table, …) with where it came from, for messages.
struct DumpItem {
    let json: [String: Any]
    /// "Subnets.json: Subnets[2]"
    let origin: String
    /// The transit gateway route table an item of search-transit-gateway-routes or
    /// get-transit-gateway-route-table-propagations belongs to, taken from the file's path (the output names none).
    var tgwRouteTable: String? = nil
}

/// The files of an AWS CLI dump, read and sorted by kind. Files are recognised by their top-level key, whatever
/// they are called; subdirectories are searched; non-JSON files are ignored.
struct AWSDump {
    static let keys = [
        "Vpcs", "Subnets", "RouteTables", "NetworkAcls", "SecurityGroups", "NatGateways", "InternetGateways",
        "NetworkInterfaces", "Reservations", "Addresses", "PrefixLists", "Entries", "VpcPeeringConnections",
        "VpcEndpoints", "Functions",
        "TransitGateways", "TransitGatewayAttachments", "TransitGatewayVpcAttachments", "TransitGatewayRouteTables",
        "TransitGatewayRouteTablePropagations", "Routes", "VpnGateways", "CustomerGateways", "VpnConnections",
        "EgressOnlyInternetGateways",
    ]

    var directory: String
    /// Items by top-level key; "Reservations" holds the instances, flattened; "Functions" also the single
    /// function configurations.
    var items: [String: [DumpItem]] = [:]
    /// Prefix-list id → its CIDR strings from get-managed-prefix-list-entries files (id taken from the path).
    var prefixListEntries: [(id: String, cidrs: [String], origin: String)] = []
    var files: [(path: String, key: String?)] = []
    var warnings: [ImportWarning] = []

    subscript(_ key: String) -> [DumpItem] { items[key] ?? [] }

    static func read(_ path: String) throws -> AWSDump {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw AWSImportError(file: path, line: 0, column: 0, message: "cannot read the dump: No such file or directory")
        }
        var dump = AWSDump(directory: path)
        var paths: [String] = []
        if isDir.boolValue {
            guard let e = FileManager.default.enumerator(atPath: path) else {
                throw AWSImportError(file: path, line: 0, column: 0, message: "cannot read the dump directory")
            }
            while let rel = e.nextObject() as? String {
                guard rel.lowercased().hasSuffix(".json") else { continue }
                let full = path.hasSuffix("/") ? path + rel : path + "/" + rel
                var d: ObjCBool = false
                if FileManager.default.fileExists(atPath: full, isDirectory: &d), !d.boolValue { paths.append(full) }
            }
            paths.sort()
        } else {
            paths = [path]
        }
        for p in paths { try dump.readFile(p) }
        try dump.requireAWSOutput(paths.count)
        return dump
    }

    /// A dump from files already read (`path` names each in messages).
    static func read(files: [(path: String, data: Data)], directory: String) throws -> AWSDump {
        var dump = AWSDump(directory: directory)
        for f in files { try dump.read(f.data, path: f.path) }
        try dump.requireAWSOutput(files.count)
        return dump
    }

    func requireAWSOutput(_ count: Int) throws {
        let path = directory
        if !files.contains(where: { $0.key != nil }) {
            let found = count == 0 ? "no JSON files" : "\(count) JSON file\(count == 1 ? "" : "s"), none of them AWS CLI output the importer reads"
            throw AWSImportError(file: path, line: 0, column: 0, message: "not an AWS CLI dump: \(found) "
                                 + "(expected e.g. `aws ec2 describe-vpcs --output json` saved as a .json file)")
        }
    }

    mutating func readFile(_ path: String) throws {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw AWSImportError(file: path, line: 0, column: 0, message: "cannot read: \(Self.reason(error))")
        }
        try read(data, path: path)
    }

    mutating func read(_ data: Data, path: String) throws {
        let bytes = [UInt8](data)
        guard bytes.contains(where: { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }) else {
            throw AWSImportError(file: path, line: 1, column: 1, message: "malformed JSON: the file is empty")
        }
        if let offset = NestingLimit.firstTooDeep(json: bytes) {  // before JSONSerialization recurses into it
            let (l, c) = NestingLimit.position(ofByte: offset, in: bytes)
            throw AWSImportError(file: path, line: l, column: c, message: NestingLimit.message)
        }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw Self.syntaxError(error, path: path, bytes: bytes)
        }
        let name = String(path.split(separator: "/").last ?? Substring(path))
        guard let top = root as? [String: Any] else {
            files.append((path, nil))
            warnings.append(ImportWarning(.unrecognisedFile, id: path, "not a JSON object at the top level; ignored"))
            return
        }
        if top["FunctionName"] is String, top["VpcConfig"] != nil {
            try AWSDumpCheck.check(top, file: path, path: "")
            files.append((path, "FunctionName"))
            items["Functions", default: []].append(DumpItem(json: top, origin: "\(name): function configuration"))
            return
        }
        guard let key = Self.keys.first(where: { top[$0] != nil }) else {
            files.append((path, nil))
            let shown = top.keys.sorted().prefix(3).joined(separator: ", ")
            warnings.append(ImportWarning(.unrecognisedFile, id: path,
                                          "top-level keys (\(shown)) are not AWS CLI output the importer reads; ignored"))
            return
        }
        files.append((path, key))
        guard let list = top[key] as? [Any] else {
            let (l, c) = Self.position(ofKey: key, in: bytes)
            throw AWSImportError(file: path, line: l, column: c, message: "\"\(key)\" is not a list")
        }
        var objects: [[String: Any]] = []
        for (i, v) in list.enumerated() {
            guard let o = v as? [String: Any] else {
                if key == "Entries", v is String { continue }
                let (l, c) = Self.position(ofKey: key, in: bytes)
                throw AWSImportError(file: path, line: l, column: c, message: "\(key)[\(i)] is not a JSON object")
            }
            objects.append(o)
        }
        // Every value the importer reads, by its key: the wrong type or form is an error at its JSON path.
        for (i, o) in objects.enumerated() { try AWSDumpCheck.check(o, file: path, path: "\(key)[\(i)]", within: key) }
        switch key {
        case "Reservations":
            for (r, res) in objects.enumerated() {
                for (i, v) in ((res["Instances"] as? [Any]) ?? []).enumerated() {
                    guard let o = v as? [String: Any] else { continue }
                    items["Reservations", default: []].append(DumpItem(json: o, origin: "\(name): Reservations[\(r)].Instances[\(i)]"))
                }
            }
        case "Entries":
            // get-managed-prefix-list-entries prints only the entries: the list's id comes from the file's path.
            guard let id = Self.prefixListID(in: path) else {
                warnings.append(ImportWarning(.unrecognisedFile, id: path, "prefix-list entries, but the file's path names "
                                              + "no prefix list (pl-…); ignored. Name it e.g. get-managed-prefix-list-entries-pl-0123abcd.json"))
                return
            }
            prefixListEntries.append((id, objects.compactMap { $0["Cidr"] as? String }, name))
        case "Routes", "TransitGatewayRouteTablePropagations":
            // search-transit-gateway-routes and get-transit-gateway-route-table-propagations print no route table
            // id: it comes from the file's path (search-transit-gateway-routes-tgw-rtb-0123abcd.json).
            guard let table = Self.lastID("tgw-rtb-", in: path) else {
                let what = key == "Routes" ? "routes (search-transit-gateway-routes)" : "route table propagations"
                warnings.append(ImportWarning(.unrecognisedFile, id: path, "transit gateway \(what), but the file's path "
                                              + "names no route table (tgw-rtb-…); ignored. Name it e.g. "
                                              + "search-transit-gateway-routes-tgw-rtb-0123abcd.json"))
                return
            }
            if key == "Routes", top["AdditionalRoutesAvailable"] as? Bool == true {
                warnings.append(ImportWarning(.notModelled, id: table, "\(name) holds only the first \(objects.count) "
                                              + "routes (AdditionalRoutesAvailable); the others are not imported"))
            }
            for (i, o) in objects.enumerated() {
                items[key, default: []].append(DumpItem(json: o, origin: "\(name): \(key)[\(i)]", tgwRouteTable: table))
            }
        default:
            for (i, o) in objects.enumerated() {
                items[key, default: []].append(DumpItem(json: o, origin: "\(name): \(key)[\(i)]"))
            }
        }
    }

    /// The last "pl-…" in a path ("dump/prefix-lists/pl-0a1b2c3d.json" → "pl-0a1b2c3d").
    static func prefixListID(in path: String) -> String? { lastID("pl-", in: path) }

    /// The last `prefix` followed by hex digits in a path, not preceded by a letter ("tgw-rtb-", "pl-").
    static func lastID(_ prefix: String, in path: String) -> String? {
        let chars = Array(path), p = Array(prefix)
        var found: String?
        var i = 0
        while i + p.count < chars.count {
            if Array(chars[i..<i + p.count]) == p, i == 0 || !chars[i - 1].isLetter {
                var j = i + p.count
                while j < chars.count, chars[j].isASCII, chars[j].isHexDigit { j += 1 }
                if j > i + p.count { found = String(chars[i..<j]) }
                i = j
            } else {
                i += 1
            }
        }
        return found
    }

    static func reason(_ error: Error) -> String {
        let e = error as NSError
        if let u = e.userInfo[NSUnderlyingErrorKey] as? NSError, u.domain == NSPOSIXErrorDomain,
           let s = strerror(Int32(u.code)) {
            return String(cString: s)
        }
        return e.localizedDescription
    }

    /// Foundation reports "… around character N." (a byte offset) or "… around line L, column C.", or the end of
    /// the file: turned into line and column.
    static func syntaxError(_ error: Error, path: String, bytes: [UInt8]) -> AWSImportError {
        let text = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
        var problem = text
        var line = 0, column = 0
        func number(after marker: String) -> Int? {
            guard let r = text.range(of: marker) else { return nil }
            return Int(text[r.upperBound...].prefix { $0.isNumber })
        }
        if let l = number(after: "line "), let c = number(after: "column ") {
            (line, column) = (l, c)
        } else if let offset = number(after: "character ") {
            (line, column) = lineColumn(offset: offset, in: bytes)
        } else if text.lowercased().contains("end of file") || text.lowercased().contains("unexpected end") {
            (line, column) = lineColumn(offset: bytes.count, in: bytes)
        }
        if let r = problem.range(of: " around ") { problem = String(problem[..<r.lowerBound]) }
        while problem.hasSuffix(".") { problem.removeLast() }
        return AWSImportError(file: path, line: line, column: column,
                              message: "malformed JSON: \(problem.isEmpty ? "cannot parse" : problem)")
    }

    /// 1-based line and column (in characters) of a byte offset.
    static func lineColumn(offset: Int, in bytes: [UInt8]) -> (Int, Int) {
        NestingLimit.position(ofByte: max(0, offset), in: bytes)
    }

    /// Where `"key"` first appears (for a top-level key of the wrong type).
    static func position(ofKey key: String, in bytes: [UInt8]) -> (Int, Int) {
        let needle = Array("\"\(key)\"".utf8)
        guard needle.count <= bytes.count else { return (1, 1) }
        for i in 0...(bytes.count - needle.count) where bytes[i] == needle[0] && Array(bytes[i..<i + needle.count]) == needle {
            return lineColumn(offset: i, in: bytes)
        }
        return (1, 1)
    }
}

/// Typed reading of JSONSerialization's objects.
extension Dictionary where Key == String, Value == Any {
    /// A string value without surrounding whitespace (by scalars, then by characters, as the scenario loader tests
    /// it); nil when absent or blank.
    func awsStr(_ k: String) -> String? {
        guard let s = self[k] as? String else { return nil }
        var t = Substring(s.trimmingCharacters(in: .whitespacesAndNewlines))
        while t.first?.isWhitespace == true { t = t.dropFirst() }
        while t.last?.isWhitespace == true { t = t.dropLast() }
        return t.isEmpty ? nil : String(t)
    }
    func awsInt(_ k: String) -> Int? {
        if let s = self[k] as? String { return Int(s) }
        if let n = self[k] as? NSNumber { return n.intValue }
        return self[k] as? Int
    }
    func awsBool(_ k: String) -> Bool? {
        if let b = self[k] as? Bool { return b }
        if let s = self[k] as? String { return s == "true" ? true : s == "false" ? false : nil }
        return nil
    }
    func awsObj(_ k: String) -> [String: Any]? { self[k] as? [String: Any] }
    func awsObjs(_ k: String) -> [[String: Any]] { ((self[k] as? [Any]) ?? []).compactMap { $0 as? [String: Any] } }
    func awsStrs(_ k: String) -> [String] { ((self[k] as? [Any]) ?? []).compactMap { $0 as? String } }
    /// The `Name` tag (Tags or TagSet), trimmed; nil when absent or blank.
    var awsNameTag: String? {
        for t in awsObjs("Tags") + awsObjs("TagSet") where t.awsStr("Key") == "Name" { return t.awsStr("Value") }
        return nil
    }
}
