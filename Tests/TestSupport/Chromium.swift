import Foundation

/// Debian's headless Chromium (`chromium`, installed by scripts/setup) opening a page from disk: its DOM after the
/// page's scripts ran, and a screenshot. A missing chromium or a failed run throws a `ToolError`: a check never
/// passes on the browser's absence.
public enum Chromium {
    public struct Page {
        /// The serialized DOM (`--dump-dom`).
        public var dom: String
        public var screenshot: String
    }

    /// Opens `file` (a local HTML file) at `width`×`height`, writes a PNG screenshot to `screenshot`, and returns the
    /// DOM. Each run gets a profile directory of its own under `scratch` (tests run in parallel).
    public static func open(_ file: String, screenshot: String, scratch: String, width: Int = 1400,
                            height: Int = 1000) throws -> Page {
        let profile = scratch + "/chromium-profile-\(UUID().uuidString)"
        let url = URL(fileURLWithPath: file).absoluteString
        let r = try run("chromium", [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--user-data-dir=\(profile)", "--window-size=\(width),\(height)", "--screenshot=\(screenshot)",
            "--dump-dom", url,
        ])
        try? FileManager.default.removeItem(atPath: profile)
        if r.status == 127 {
            throw ToolError(description: "chromium is not installed (exit 127; scripts/setup installs it): \(r.stderr)")
        }
        guard r.status == 0, !r.stdout.isEmpty else {
            throw ToolError(description: "chromium exited \(r.status) for \(file): \(r.stderr.suffix(2000))")
        }
        return Page(dom: r.stdout, screenshot: screenshot)
    }
}
