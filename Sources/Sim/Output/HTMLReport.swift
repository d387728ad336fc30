import Foundation

/// report.html: the run drawn — topology with each flow's path, a ladder per flow, fleets, files and flow logs —
/// in one self-contained file (inline CSS, SVG and script; a Content-Security-Policy that forbids every request),
/// made from report.json's content, which it embeds. The topology is laid out here (`HTMLTopology`); the page's
/// script draws the selected flow's path, its ladder and the charts from the embedded data.
public enum HTMLReport {
    /// Flow-log records the page shows at most (the file has them all).
    public static let flowLogRowLimit = 1000

    /// The first records of a flow-log file (its header line first), and whether it has more.
    public struct FlowLogExcerpt: Codable, Sendable {
        public var file: String
        public var lines: [String]
        public var more: Bool
    }

    /// The start of flow-logs.txt at `path`; nil when there is none.
    public static func flowLogExcerpt(path: String) -> FlowLogExcerpt? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        let limit = 1 << 20
        let data = h.readData(ofLength: limit)
        // The lines up to the limit and no further (a long log's first MiB is some 8,000 records: splitting all of
        // them cost a large run as much as its last 2,000 flows).
        var kept: [String] = []
        var more = data.count == limit
        var start = data.startIndex
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n"))
            if end == nil, data.count == limit { break }  // a line cut by the read limit is not shown
            let stop = end ?? data.endIndex
            if stop > start {
                if kept.count > flowLogRowLimit {
                    more = true
                    break
                }
                kept.append(String(decoding: data[start..<stop], as: UTF8.self))
            }
            start = stop == data.endIndex ? stop : data.index(after: stop)
        }
        return FlowLogExcerpt(file: (path as NSString).lastPathComponent, lines: kept, more: more)
    }

    /// JSON as the text of a `<script type="application/json">`: `<` written `\u003c` (so neither `</script>` nor
    /// `<!--` can end or change the element), and U+2028/U+2029 escaped as older parsers of script text want.
    static func scriptJSON(_ data: Data) -> String {
        var s = String(decoding: data, as: UTF8.self)
        s = s.replacingOccurrences(of: "<", with: "\\u003c")
        s = s.replacingOccurrences(of: "\u{2028}", with: "\\u2028")
        s = s.replacingOccurrences(of: "\u{2029}", with: "\\u2029")
        return s
    }

    static func compactJSON<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try e.encode(value)
    }

    /// report.json's content as the page embeds it: each distinct hop once (`hop_table`), each flow's paths as
    /// indexes into it (`flow_hops`, `flow_reply_hops`; the flows' own `hops` and `reply_hops` left empty). A
    /// thousand flows along one path repeat the same hops; stored once, the page stays a fraction of the size.
    struct Embedded: Encodable {
        var report: RunReport
        var hop_table: [RunReport.Hop] = []
        var flow_hops: [[Int]] = []
        var flow_reply_hops: [[Int]] = []

        init(_ r: RunReport) throws {
            report = r
            var index: [Data: Int] = [:]
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys]
            func intern(_ hops: [RunReport.Hop]) throws -> [Int] {
                try hops.map { h in
                    let key = try e.encode(h)
                    if let k = index[key] { return k }
                    index[key] = hop_table.count
                    hop_table.append(h)
                    return hop_table.count - 1
                }
            }
            for i in report.flows.indices {
                flow_hops.append(try intern(report.flows[i].hops))
                flow_reply_hops.append(try intern(report.flows[i].reply_hops))
                report.flows[i].hops = []
                report.flows[i].reply_hops = []
            }
        }
    }

    /// The page for a run's report (as report.json holds it) and the start of its flow logs.
    public static func page(_ r: RunReport, flowLogs: FlowLogExcerpt?) throws -> String {
        let esc = HTMLTopology.esc
        let topology = r.topology.map(HTMLTopology.svg) ?? "<p>This report.json has no topology (written by an older vpcsim).</p>"
        let failed = r.flows.filter { $0.outcome != "ok" }.count
        var h = "<!DOCTYPE html>\n<html lang=\"en\" data-errors=\"0\"><head><meta charset=\"utf-8\">\n"
        h += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
            + "script-src 'unsafe-inline'; img-src data:\">\n"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        h += "<title>vpcsim — \(esc(r.scenario))</title>\n"
        h += "<script>\(errorRecorder)</script>\n<style>\(css)</style>\n</head>\n<body>\n"
        h += "<header><h1>vpcsim — scenario \(esc(r.scenario))</h1>"
        h += "<p class=\"meta\">\(esc(r.file)), seed \(r.seed), \(esc(r.tool)). \(r.flows.count) flow\(r.flows.count == 1 ? "" : "s")"
            + (r.flows.isEmpty ? "" : ", \(failed) not ok")
            + (r.generators.isEmpty ? "" : "; \(r.generators.count) generator\(r.generators.count == 1 ? "" : "s")")
            + (r.expectations_checked > 0 ? "; expectations: \(r.expectations_checked - r.expectations_failed) of "
                + "\(r.expectations_checked) held" : "") + ".</p>"
        h += "<pre id=\"page-errors\" hidden></pre></header>\n"
        h += "<div class=\"layout\">\n<nav id=\"flows\" aria-label=\"Flows\"><h2>Flows</h2>"
        h += "<p class=\"hint\">↑ ↓ (or j k) move between flows.</p>"
        h += "<ul id=\"flow-list\" role=\"listbox\" tabindex=\"0\" aria-label=\"Flows\"></ul></nav>\n<main>\n"
        h += "<section id=\"topology-section\" aria-labelledby=\"h-topology\"><h2 id=\"h-topology\">Topology</h2>"
        h += "<p class=\"legend\"><span class=\"sw req\"></span> request path <span class=\"sw rep\"></span> reply path "
            + "<span class=\"sw drop\">✕</span> drop; numbers are the hops of report.txt.</p>"
        h += "<div class=\"scroll\">\(topology)</div>"
        if let t = r.topology { h += topologyText(t) }
        h += "</section>\n"
        h += "<section id=\"flow-detail\" aria-live=\"polite\" aria-labelledby=\"h-flow\"><h2 id=\"h-flow\">Flow</h2>"
            + "<p>No explicit flows in this scenario.</p></section>\n"
        h += "<section id=\"fleets\" aria-labelledby=\"h-fleets\"></section>\n"
        h += "<section id=\"files\" aria-labelledby=\"h-files\"></section>\n"
        h += "<section id=\"flow-logs\" aria-labelledby=\"h-flow-logs\"></section>\n"
        h += "<section id=\"assumptions\" aria-labelledby=\"h-assumptions\"></section>\n"
        h += "</main>\n</div>\n"
        h += "<script type=\"application/json\" id=\"report-data\">\(scriptJSON(try compactJSON(Embedded(r))))</script>\n"
        h += "<script type=\"application/json\" id=\"flow-logs-data\">"
            + "\(flowLogs.map { (try? compactJSON($0)).map(scriptJSON) ?? "null" } ?? "null")</script>\n"
        h += "<script>\(script)</script>\n</body></html>\n"
        return h
    }

    /// The topology in words, for readers who cannot see the drawing.
    static func topologyText(_ t: RunReport.Topology) -> String {
        let esc = HTMLTopology.esc
        func named(_ id: String, _ name: String?) -> String { esc(name.map { "\($0) (\(id))" } ?? id) }
        var s = "<details class=\"alt\"><summary>The topology in words</summary><ul>"
        for v in t.vpcs {
            s += "<li>VPC \(named(v.id, v.name)) \(esc(v.cidrs.joined(separator: ", ")))"
            for g in t.gateways where g.vpc == v.id && g.kind != "nat-gateway" { s += "; \(esc(g.kind)) \(esc(g.id))" }
            s += "<ul>"
            for sn in t.subnets where sn.vpc == v.id {
                s += "<li>\(sn.public ? "public" : "private") subnet \(named(sn.id, sn.name)) \(esc(sn.cidr)) in "
                    + "\(esc(sn.availability_zone)), network ACL \(named(sn.network_acl, sn.network_acl_name)), route table "
                    + "\(named(sn.route_table, sn.route_table_name))"
                var items: [String] = []
                for g in t.gateways where g.kind == "nat-gateway" && g.subnet == sn.id {
                    items.append("NAT gateway \(named(g.id, g.name)) \(esc(g.private_ip ?? ""))"
                        + (g.public_ip.map { " (public \(esc($0)))" } ?? ""))
                }
                for e in t.enis where e.subnet == sn.id && e.kind != "nat-gateway" {
                    items.append("\(e.kind == "lambda" ? "Lambda Hyperplane ENI" : "instance ENI") \(esc(e.id)) of "
                        + "\(esc(e.owner)) \(esc(e.private_ip))" + (e.public_ip.map { " (public \(esc($0)))" } ?? "")
                        + ", security groups \(esc(e.security_groups.joined(separator: ", ")))")
                }
                if !items.isEmpty { s += "<ul>" + items.map { "<li>\($0)</li>" }.joined() + "</ul>" }
                s += "</li>"
            }
            s += "</ul></li>"
        }
        if !t.outside_hosts.isEmpty {
            s += "<li>Internet: " + t.outside_hosts.map { "\(esc($0.name)) \(esc($0.address))" }.joined(separator: ", ") + "</li>"
        }
        return s + "</ul></details>"
    }

    /// Records script errors, console errors and blocked requests into the page (`#page-errors`, and the count
    /// in `data-errors` on the root element), where a reader and the tests see them.
    static let errorRecorder = #"""
(function(){var errs=[];window.__vpcsimErrors=errs;
function rec(m){errs.push(String(m));document.documentElement.setAttribute('data-errors',String(errs.length));
var p=document.getElementById('page-errors');if(p){p.textContent=errs.join('\n');p.hidden=false;}}
window.__vpcsimRecord=rec;
window.addEventListener('error',function(e){rec('error: '+(e.message||('could not load '+((e.target&&(e.target.src||e.target.href))||e.type))));},true);
window.addEventListener('unhandledrejection',function(e){rec('unhandled rejection: '+e.reason);});
window.addEventListener('securitypolicyviolation',function(e){rec('blocked request: '+e.blockedURI+' ('+e.violatedDirective+')');});
var ce=console.error;console.error=function(){rec('console.error: '+Array.prototype.join.call(arguments,' '));return ce.apply(console,arguments);};
})();
"""#

    static let css = #"""
:root{--bg:#fff;--fg:#1b1f24;--muted:#5b6570;--line:#c9d1d9;--panel:#f6f8fa;--vpc:#eef4ff;--az:#f8fafc;
--pub:#e7f6ec;--priv:#eef1f6;--chip:#fff;--req:#1f6feb;--rep:#b35900;--drop:#cf222e;--ok:#1a7f37;--warn:#9a6700;
--band:#dbe9ff;--sel:#dbeafe}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9aa6b2;--line:#3d444d;--panel:#161b22;
--vpc:#132039;--az:#111826;--pub:#0f2a19;--priv:#1a1f29;--chip:#0d1117;--req:#58a6ff;--rep:#f0883e;--drop:#ff7b72;
--ok:#3fb950;--warn:#d29922;--band:#1c2d4a;--sel:#1f3a5f}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
header{padding:12px 20px;border-bottom:1px solid var(--line)}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:18px 0 8px}h3{font-size:15px;margin:14px 0 6px}
.meta,.hint,.legend{color:var(--muted);margin:2px 0}
#page-errors{color:var(--drop);white-space:pre-wrap}
.layout{display:flex;align-items:flex-start}
nav#flows{position:sticky;top:0;width:290px;flex:none;max-height:100vh;overflow:auto;padding:0 12px 12px;
border-right:1px solid var(--line)}
main{flex:1;min-width:0;padding:0 20px 40px}
#flow-list{list-style:none;margin:0;padding:0}
#flow-list:focus{outline:2px solid var(--req);outline-offset:2px}
#flow-list li{padding:6px 8px;border-radius:6px;cursor:pointer;border:1px solid transparent}
#flow-list li[aria-selected=true]{background:var(--sel);border-color:var(--req)}
#flow-list .route{color:var(--muted);font-size:12px}
.mark{font-weight:bold}li.ok .mark,.ok-text{color:var(--ok)}li.bad .mark,.bad-text{color:var(--drop)}
.outcome{float:right;font-size:12px}
.scroll{overflow:auto;max-height:80vh;border:1px solid var(--line);border-radius:8px;background:var(--panel)}
svg text{fill:var(--fg);font:11px system-ui,sans-serif}
svg .t-vpc{font-weight:bold;font-size:13px}svg .t-az{font-weight:bold;fill:var(--muted)}
svg .t-subnet{font-weight:600}svg .t-chip{font-weight:600}svg .t-small{font-size:10px;fill:var(--muted)}
.vpc>rect{fill:var(--vpc);stroke:var(--req);stroke-width:1.5}
.az>rect{fill:var(--az);stroke:var(--line);stroke-dasharray:4 3}
.subnet>rect{stroke:var(--line)}.subnet.public>rect{fill:var(--pub)}.subnet.private>rect{fill:var(--priv)}
.badge-public{fill:var(--ok)!important;font-weight:bold}.badge-private{fill:var(--muted)!important;font-weight:bold}
.chip>rect{fill:var(--chip);stroke:var(--muted)}.chip.nat>rect,.chip.igw>rect{stroke:var(--warn);stroke-width:1.5}
.chip.lambda>rect,.chip.lambda-fn>rect{stroke:#d4760a}.chip.other>rect{stroke-dasharray:3 2}
.internet>rect{fill:var(--panel);stroke:var(--muted);stroke-dasharray:6 4}
.lambda-link{fill:none;stroke:#d4760a;stroke-dasharray:3 3}
.route{fill:none;stroke-width:3;stroke-linejoin:round;opacity:.85}.route.req{stroke:var(--req)}
.route.rep{stroke:var(--rep);stroke-dasharray:7 4}
.hop circle{stroke:var(--bg);stroke-width:1.5}.hop.req circle{fill:var(--req)}.hop.rep circle{fill:var(--rep)}
.hop text{fill:#fff;font-size:10px;font-weight:bold}.hop.dropped circle{fill:var(--drop)}
.drop-marker line{stroke:var(--drop);stroke-width:4}
.drop-marker rect{fill:var(--bg);stroke:var(--drop);opacity:.95}.drop-marker text{fill:var(--fg)}
.drop-marker .dm-rule{fill:var(--drop);font-weight:bold}.drop-marker .dm-fix{fill:var(--ok);font-weight:600}
.sw{display:inline-block;width:22px;height:4px;vertical-align:middle;margin:0 4px 0 10px}
.sw.req{background:var(--req)}.sw.rep{background:var(--rep)}.sw.drop{width:auto;height:auto;color:var(--drop);font-weight:bold}
ol.hops li.dropped{color:var(--drop);font-weight:600}
.drop-box{border-left:4px solid var(--drop);padding:6px 10px;background:var(--panel);margin:8px 0}
.fix-box{border-left:4px solid var(--ok);padding:6px 10px;background:var(--panel);margin:8px 0}
.ladder-wrap{overflow:auto;border:1px solid var(--line);border-radius:8px;background:var(--panel)}
.lane{stroke:var(--line);stroke-width:2}.pkt{stroke:var(--fg);stroke-width:1.5}.pkt.rep{stroke:var(--rep)}
.pkt.req{stroke:var(--req)}.dot{fill:var(--fg)}.cross{stroke:var(--drop);stroke-width:3}
.band{fill:var(--band);stroke:var(--req);stroke-dasharray:4 3}.gap{fill:var(--muted)!important;font-size:10px!important}
.timeout{stroke:var(--drop);stroke-dasharray:6 4}.changed{fill:var(--warn)!important;font-weight:bold}
.arrow.req{fill:var(--req)}.arrow.rep{fill:var(--rep)}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid var(--line);padding:3px 7px;text-align:left;vertical-align:top}
th{background:var(--panel)}tr.reject td{background:rgba(207,34,46,.15);color:var(--drop);font-weight:600}
code,.mono,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
code.filter{user-select:all;background:var(--panel);padding:1px 4px;border-radius:4px}
.bar{display:flex;height:18px;width:100%;max-width:560px;border:1px solid var(--line);border-radius:4px;overflow:hidden}
.bar span{display:block;height:100%}.o-ok{background:var(--ok)}.o-timeout{background:var(--drop)}
.o-refused{background:#8250df}.o-no-port{background:var(--warn)}.o-not-modeled{background:var(--muted)}
.o-other{background:#bf3989}.bars td{vertical-align:middle}
.chart .axis{stroke:var(--muted)}.chart .s0{stroke:var(--req);fill:none;stroke-width:2}.chart .s1{stroke:var(--ok);fill:none;stroke-width:2}
.chart .s2{stroke:var(--drop);fill:none;stroke-width:2}.chart .s3{stroke:var(--warn);fill:none;stroke-width:2}
.chart .p0{fill:var(--req)}.chart .p1{fill:var(--ok)}.chart .p2{fill:var(--drop)}.chart .p3{fill:var(--warn)}
details.alt{margin:6px 0}
@media print{nav#flows{display:none}.scroll,.ladder-wrap{max-height:none;overflow:visible;border:none}
body{background:#fff;color:#000}details.alt{display:none}section{break-inside:avoid-page}}
"""#

    static let script = #"""
(function(){
'use strict';
var rec=window.__vpcsimRecord||function(m){throw new Error(m);};
try{
var E=JSON.parse(document.getElementById('report-data').textContent),R=E.report;
R.flows.forEach(function(f,i){f.hops=E.flow_hops[i].map(function(k){return E.hop_table[k];});f.reply_hops=E.flow_reply_hops[i].map(function(k){return E.hop_table[k];});});
var LOGS=JSON.parse(document.getElementById('flow-logs-data').textContent);
var T=R.topology||{vpcs:[],subnets:[],gateways:[],enis:[],security_groups:[],lambdas:[],outside_hosts:[],capture_points:[]};
var CP=T.capture_points||[];
function esc(s){return String(s).replace(/[&<>"']/g,function(c){return{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c];});}
function n6(v){return (Math.round(v*1e6)/1e6).toFixed(6);}
function n3(v){return (Math.round(v*1e3)/1e3).toFixed(3);}
function dur(v){return v>=1?(Math.round(v*1000)/1000)+' s':(Math.round(v*1e6)/1000)+' ms';}
function label(s){return{'security-group-egress':'egress','security-group-ingress':'ingress','nacl-outbound':'outbound','nacl-inbound':'inbound','route':'route','nat-gateway':'NAT','internet-gateway':'IGW'}[s]||s;}
function hopText(h){var s;if(h.step==='internet')s='internet: '+h.rule;else if(h.step==='delivered')s=h.component_name+': '+h.rule;else s=h.component_name+' '+label(h.step)+': '+h.rule;if(h.detail)s+=' ('+h.detail+')';return s;}
function isDrop(h){return h.action==='denied'||h.action==='dropped';}
function plural(n,w){return n+' '+w+(n===1?'':'s');}
var boxes={};
Array.prototype.forEach.call(document.querySelectorAll('#topology [data-id]'),function(g){var b=g.getAttribute('data-box').split(' ').map(Number);boxes[g.getAttribute('data-id')]={x:b[0],y:b[1],w:b[2],h:b[3]};});
function anchor(id){var b=boxes[id];if(!b)return null;return{x:b.x+b.w/2,y:b.h>60?b.y+22:b.y+b.h/2,b:b};}

// Flows list and keyboard navigation.
var list=document.getElementById('flow-list');var current=-1;
var items=R.flows.map(function(f,i){var ok=f.outcome==='ok';var mark=ok?'✔':(f.outcome==='not-modeled'?'?':'✘');
return '<li role="option" id="flow-opt-'+i+'" data-flow="'+i+'" class="'+(ok?'ok':'bad')+'" aria-selected="false"><span class="mark" aria-hidden="true">'+mark+'</span> '+esc(f.name)+' <span class="outcome">'+esc(ok?'ok':f.outcome.toUpperCase())+'</span><br><span class="route">'+esc(f.from+' → '+f.to+' ('+f.app+')')+'</span></li>';});
list.innerHTML=items.join('')||'<li>No explicit flows.</li>';
list.addEventListener('click',function(e){var li=e.target.closest('li[data-flow]');if(li)select(+li.getAttribute('data-flow'),true);});
function step(d){if(R.flows.length)select(Math.max(0,Math.min(R.flows.length-1,current+d)),true);}
list.addEventListener('keydown',function(e){var k=e.key;if(k==='ArrowDown'||k==='j'){step(1);e.preventDefault();}else if(k==='ArrowUp'||k==='k'){step(-1);e.preventDefault();}else if(k==='Home'){select(0,true);e.preventDefault();}else if(k==='End'){select(R.flows.length-1,true);e.preventDefault();}});
document.addEventListener('keydown',function(e){if(e.target===list||e.altKey||e.ctrlKey||e.metaKey)return;var t=e.target.tagName;if(t==='INPUT'||t==='TEXTAREA')return;if(e.key==='j'){step(1);}else if(e.key==='k'){step(-1);}});

function select(i,user){if(i<0||i>=R.flows.length)return;var old=document.getElementById('flow-opt-'+current);if(old)old.setAttribute('aria-selected','false');current=i;var li=document.getElementById('flow-opt-'+i);li.setAttribute('aria-selected','true');list.setAttribute('aria-activedescendant','flow-opt-'+i);if(user&&li.scrollIntoView)li.scrollIntoView({block:'nearest'});var f=R.flows[i];renderFlow(f);drawPath(f);renderFiles(f);}

// The selected flow's paths on the topology.
function pathMarkup(hops,cls){var pts=[],out='',count={};
hops.forEach(function(h,k){var a=anchor(h.at);if(!a)return;var n=count[h.at]=(count[h.at]||0)+1;var off=cls==='req'?-5:5;
var last=pts[pts.length-1];if(!last||last.id!==h.at)pts.push({id:h.at,x:a.x+off,y:a.y+off});
var bx=a.b.x+a.b.w-12-(n-1)*21,by=cls==='req'?a.b.y+11:a.b.y+Math.min(a.b.h,50)-11;
out+='<g class="hop '+cls+(isDrop(h)?' dropped':'')+'"><title>'+esc((cls==='req'?'request ':'reply ')+'hop '+(k+1)+': '+hopText(h))+'</title><circle cx="'+bx+'" cy="'+by+'" r="9"/><text x="'+bx+'" y="'+(by+3.5)+'" text-anchor="middle">'+(k+1)+'</text></g>';});
var d=pts.map(function(p,j){return(j?'L':'M')+p.x+' '+p.y;}).join(' ');
return(pts.length>1?'<path class="route '+cls+'" d="'+d+'"/>':'')+out;}
function wrap(l,n){var out=[],cur='';l.split(' ').forEach(function(w){if(cur&&(cur+' '+w).length>n){out.push(cur);cur=w;}else cur=cur?cur+' '+w:w;});if(cur)out.push(cur);return out;}
function fixLines(fix){var l=[];if(!fix)return l;(fix.changes||[]).forEach(function(c){l.push('FIX: '+c.component+' '+c.change);});if(fix.advice)l.push('ADVICE: '+fix.advice);return l;}
function dropMarkup(f){var all=f.hops.map(function(h){return[h,'request'];}).concat(f.reply_hops.map(function(h){return[h,'reply'];}));
var hit=all.filter(function(x){return isDrop(x[0]);})[0];var at=hit?hit[0].at:null;var text;
if(hit)text='✘ '+hopText(hit[0]);else if(f.drop){text='✘ '+f.drop.component_name+(f.drop.direction?' '+f.drop.direction:'')+': '+f.drop.rule;var m=f.drop.component.split(',')[0];at=boxes[m]?m:null;}
if(!text||!at||!boxes[at])return '';var a=anchor(at);var full=[text].concat(fixLines(f.fix)),lines=[],kinds=[];
full.forEach(function(l,k){wrap(l,58).forEach(function(w,j){lines.push(w);kinds.push(k?'dm-fix':'dm-rule');});});
var w=Math.min(760,Math.max.apply(null,lines.map(function(s){return s.length;}))*6.7+16),x=a.b.x+a.b.w+14,y=a.b.y;
var s='<g class="drop-marker" id="drop-marker"><title>'+esc(full.join('\n'))+'</title>';
s+='<line x1="'+(a.x-10)+'" y1="'+(a.y-10)+'" x2="'+(a.x+10)+'" y2="'+(a.y+10)+'"/><line x1="'+(a.x-10)+'" y1="'+(a.y+10)+'" x2="'+(a.x+10)+'" y2="'+(a.y-10)+'"/>';
s+='<rect x="'+x+'" y="'+y+'" width="'+w+'" height="'+(lines.length*16+10)+'" rx="5"/>';
lines.forEach(function(l,k){s+='<text x="'+(x+8)+'" y="'+(y+18+k*16)+'" class="'+kinds[k]+'">'+esc(l)+'</text>';});
return s+'</g>';}
function drawPath(f){var g=document.getElementById('paths');if(!g)return;var svg=document.getElementById('topology');
g.innerHTML=pathMarkup(f.reply_hops,'rep')+pathMarkup(f.hops,'req')+dropMarkup(f);
var m=document.getElementById('drop-marker');if(m&&svg){var bb=m.getBBox();var vb=svg.viewBox.baseVal;var need=Math.ceil(bb.x+bb.width+10);if(need>vb.width){svg.setAttribute('viewBox','0 0 '+need+' '+vb.height);svg.setAttribute('width',need);}}
var pb=g.getBBox?g.getBBox():null,sc=svg&&svg.parentNode;if(pb&&sc&&pb.height>0){var y0=Math.max(0,pb.y-30);if(y0<sc.scrollTop||pb.y+Math.min(pb.height,sc.clientHeight)>sc.scrollTop+sc.clientHeight)sc.scrollTop=y0;}
var ds=document.getElementById('topology-desc');if(ds&&!ds.getAttribute('data-base'))ds.setAttribute('data-base',ds.textContent);
if(ds)ds.textContent=ds.getAttribute('data-base')+' Drawn: flow '+f.name+', its request path ('+plural(f.hops.length,'hop')+') and reply path ('+plural(f.reply_hops.length,'hop')+'), listed under Flow.';}

// The selected flow in words, and its ladder.
function hopList(hs){return '<ol class="hops">'+hs.map(function(h){return '<li'+(isDrop(h)?' class="dropped"':'')+'>'+esc(hopText(h))+(isDrop(h)?' <strong>✘ DROPPED</strong>':'')+'</li>';}).join('')+'</ol>';}
function renderFlow(f){var s='<h2 id="h-flow">Flow '+esc(f.name)+'</h2>';var ok=f.outcome==='ok';
s+='<p>'+esc(f.from+' → '+f.to+' ('+f.app+')')+(f.app==='ping'?', echo id ':', client port ')+(f.client_port==null?'none':f.client_port)+'</p>';
if(f.app_basis)s+='<p>app '+esc(f.app)+': '+esc(f.app_basis)+'</p>';
s+='<p class="'+(ok?'ok-text':'bad-text')+'"><strong>'+esc(f.outcome)+'</strong> after '+n3(f.elapsed_s)+' s — '+esc(f.message)+'</p>';
if(f.source_subnet)s+='<p>from subnet '+esc(f.source_subnet)+', Hyperplane ENI '+esc(f.source_eni)+'</p>';
if(f.address_family)s+='<ul class="family">'+f.address_family.map(function(a){return '<li>address family: '+esc(a)+'</li>';}).join('')+'</ul>';
if(f.syn_times_s.length>1||(!ok&&f.syn_times_s.length))s+='<p>SYNs sent at: '+f.syn_times_s.map(function(t){return(t===Math.round(t)?t:n3(t))+' s';}).join(', ')+'</p>';
if(f.hops.length)s+='<h3>Path of the first '+(f.app==='ping'?'echo request':f.app==='udp'?'datagram':'SYN')+(f.first_fragment?"'s first "+esc(f.first_fragment):'')+'</h3>'+hopList(f.hops);
if(f.reply_hops.length)s+='<h3>Path of the first reply</h3>'+hopList(f.reply_hops);
f.drops.forEach(function(d){s+='<div class="drop-box" role="note"><strong>✘ DROPPED '+(d.datagrams?plural(d.datagrams,'datagram')+' ('+d.count+' fragments)':plural(d.count,'packet'))+'</strong> at '+esc(d.component_name)+(d.direction?' '+esc(d.direction):'')+': <code>'+esc(d.rule)+'</code><br>first: '+esc(d.packet)+' at '+n6(d.first_time_s)+' s</div>';});
s+=fixBox(f.fix,'FIX','the flow succeeds when re-run with these changes');
if(f.expectation)s+='<p>'+(f.expectation.held?'Expectation held.':'<strong class="bad-text">EXPECTATION FAILED:</strong> '+esc(f.expectation.failures.join('; ')))+'</p>';
s+='<h3>Ladder</h3>'+ladder(f);
var el=document.getElementById('flow-detail');el.innerHTML=s;}
function fixBox(fix,heading,verified){if(!fix)return '';var s='<div class="fix-box" id="fix"><strong>'+heading+(fix.verified?' (verified: '+verified+')':' (partial)')+'</strong><ul>';
(fix.changes||[]).forEach(function(c){s+='<li><code>'+esc(c.component+' '+c.change)+'</code><br>'+esc(c.reason)+'</li>';});s+='</ul>';
(fix.notes||[]).forEach(function(n){s+='<p>✓ return path: '+esc(n)+'</p>';});if(fix.advice)s+='<p>ADVICE: '+esc(fix.advice)+'</p>';return s+'</div>';}

function pointLabel(p){var c=CP[p];if(!c)return '#'+p;var num=c.name.slice(0,2);var what=c.component==='eni'?(c.name.slice(3,9)==='lambda'?'lambda':'instance'):c.component==='nat-gateway'?'nat':c.component==='internet-gateway'?'igw':c.component_id;return num+' '+what;}
function gapPx(dt){return 18+8*Math.log2(1+Math.max(0,dt)*1000);}
function ladder(f){var rows=f.ladder||[];if(!rows.length)return '<p>No packets of this flow crossed a capture point.</p>';
var cols=[],col={};rows.forEach(function(r){r.points.forEach(function(p){if(col[p]===undefined){col[p]=cols.length;cols.push(p);}});});
var seen={};(f.seen_at||[]).forEach(function(v){seen[v.point]=v;});
var CW=170,X0=96,Y0=96,BH=34,ys=[],y=Y0,prevEnd=0,gaps=[];
rows.forEach(function(r,k){if(k){var dt=r.t_s-prevEnd,g=gapPx(dt);if(dt>=0.05)gaps.push({y:y+g/2,dt:dt});y+=g;}ys.push(y);if(r.count)y+=BH;prevEnd=r.t_end_s!=null?r.t_end_s:r.t_s;});
var endY=y+24,timeoutY=null;
if(f.outcome!=='ok'&&f.elapsed_s>prevEnd+0.001){var dt=f.elapsed_s-prevEnd,g=gapPx(dt);gaps.push({y:y+g/2,dt:dt});timeoutY=y+g;endY=timeoutY+24;}
var xOf=function(p){return X0+col[p]*CW+CW/2;};var W=X0+cols.length*CW+440;
var s='<svg class="ladder" width="'+W+'" height="'+(endY+10)+'" viewBox="0 0 '+W+' '+(endY+10)+'" role="img" aria-label="'+esc('Ladder of flow '+f.name+': '+plural(rows.length,'row')+' across '+plural(cols.length,'capture point')+', time going down; the table below lists the same')+'">';
var prev=null;
cols.forEach(function(p,c){var x=xOf(p),v=seen[p];s+='<line class="lane" x1="'+x+'" y1="'+(Y0-16)+'" x2="'+x+'" y2="'+endY+'"/>';
s+='<text x="'+x+'" y="16" text-anchor="middle" class="t-chip">'+esc(pointLabel(p))+'<title>'+esc(CP[p]?CP[p].description:'')+'</title></text>';
if(v){var cv=v.conversations,a0=cv[0],changed=prev&&(prev.client!==a0.client||prev.server!==a0.server);
cv.forEach(function(c,j){var d=j>0||changed;var yy=j?68:30;
s+='<text x="'+x+'" y="'+yy+'" text-anchor="middle" class="t-small'+(d&&(j?c.client!==cv[0].client:c.client!==prev.client)?' changed':'')+'">'+esc(c.client)+'</text>';
s+='<text x="'+x+'" y="'+(yy+12)+'" text-anchor="middle" class="t-small'+(d&&(j?c.server!==cv[0].server:c.server!==prev.server)?' changed':'')+'">→ '+esc(c.server)+'</text>';});
if(changed)s+='<text x="'+(x-CW/2)+'" y="42" text-anchor="middle" class="changed">⇄</text>';
if(cv.length>1)s+='<text x="'+x+'" y="55" text-anchor="middle" class="changed">⇅ translated here</text>';prev=cv[cv.length-1];}});
s+='<text x="4" y="'+(Y0-24)+'" class="t-small">time (s)</text>';
gaps.forEach(function(g){s+='<text x="4" y="'+(g.y+3)+'" class="gap">+'+esc(dur(g.dt))+'</text>';});
var firstFrom=rows[0].from_client;
rows.forEach(function(r,k){var y=ys[k];var xs=r.points.map(xOf);var lo=Math.min.apply(null,xs),hi=Math.max.apply(null,xs);
var right=xs[0]!==xs[xs.length-1]?xs[0]<xs[xs.length-1]:r.from_client===firstFrom;var cls=r.from_client?'req':'rep';
s+='<text x="44" y="'+(y+4)+'" class="t-small">'+n6(r.t_s)+'</text>';
if(r.count){s+='<rect class="band" x="'+(lo-10)+'" y="'+(y-8)+'" width="'+(hi-lo+20)+'" height="'+(BH+6)+'" rx="4"/>';
s+='<text x="'+(lo-4)+'" y="'+(y+8)+'" class="t-small">'+esc(r.summary)+'</text><text x="'+(lo-4)+'" y="'+(y+22)+'" class="t-small">'+esc((r.bytes||0).toLocaleString('en-US')+' bytes, until '+n6(r.t_end_s)+' s')+'</text>';return;}
var a=lo,b=hi;if(r.dropped_at){if(right)b=hi+CW/2;else a=lo-CW/2;}
if(b>a)s+='<line class="pkt '+cls+'" x1="'+a+'" y1="'+y+'" x2="'+b+'" y2="'+y+'"/>';
xs.forEach(function(x){s+='<circle class="dot" cx="'+x+'" cy="'+y+'" r="3.5"/>';});
if(r.dropped_at){var cx=right?b:a;s+='<g class="cross"><title>'+esc('dropped at '+r.dropped_at+': '+r.dropped_rule)+'</title><line class="cross" x1="'+(cx-6)+'" y1="'+(y-6)+'" x2="'+(cx+6)+'" y2="'+(y+6)+'"/><line class="cross" x1="'+(cx-6)+'" y1="'+(y+6)+'" x2="'+(cx+6)+'" y2="'+(y-6)+'"/></g>';}
else if(hi>lo){var tip=right?hi:lo,d=right?-8:8;s+='<polygon class="arrow '+cls+'" points="'+tip+','+y+' '+(tip+d)+','+(y-4)+' '+(tip+d)+','+(y+4)+'"/>';}
s+='<text x="'+(X0+cols.length*CW+6)+'" y="'+(y+4)+'">'+esc(r.summary)+(r.dropped_at?' ✘ '+r.dropped_at+' '+r.dropped_rule:'')+'</text>';});
if(timeoutY!=null){s+='<line class="timeout" x1="'+X0+'" y1="'+timeoutY+'" x2="'+(X0+cols.length*CW)+'" y2="'+timeoutY+'"/><text x="44" y="'+(timeoutY+4)+'" class="t-small">'+n6(f.elapsed_s)+'</text><text x="'+(X0+cols.length*CW+6)+'" y="'+(timeoutY+4)+'" class="dm-rule">'+esc(f.outcome+': '+f.message)+'</text>';}
s+='</svg>';
var t='<details class="alt"><summary>The ladder as a table</summary><table><thead><tr><th>time (s)</th><th>packet</th><th>seen at</th><th>dropped</th></tr></thead><tbody>';
rows.forEach(function(r){t+='<tr><td>'+n6(r.t_s)+(r.count?' – '+n6(r.t_end_s):'')+'</td><td>'+esc(r.summary)+(r.from_client?' (from the client)':' (from the server)')+'</td><td>'+esc(r.points.map(pointLabel).join(' → '))+'</td><td>'+(r.dropped_at?esc(r.dropped_at+' '+r.dropped_rule):'')+'</td></tr>';});
t+='</tbody></table></details>';
return '<div class="ladder-wrap">'+s+'</div>'+t;}

// Fleets: generators' outcomes, a function's split per subnet, AZ, ENI and NAT gateway, NAT metrics per minute.
var OUT=['ok','timeout','refused','no-port','not-modeled'];
function oc(o){return o==='failed'?'o-timeout':OUT.indexOf(o)>=0?'o-'+o:'o-other';}
function bar(parts){var tot=parts.reduce(function(a,p){return a+p[1];},0)||1;var txt=parts.filter(function(p){return p[1]>0;}).map(function(p){return p[1].toLocaleString('en-US')+' '+p[0];}).join(', ')||'none';
return '<div class="bar" role="img" aria-label="'+esc(txt)+'">'+parts.filter(function(p){return p[1]>0;}).map(function(p){return '<span class="'+oc(p[0])+'" style="width:'+(100*p[1]/tot).toFixed(3)+'%" title="'+esc(p[1]+' '+p[0])+'"></span>';}).join('')+'</div><span class="mono">'+esc(txt)+'</span>';}
function okFailed(rows){return '<table class="bars"><tbody>'+rows.map(function(r){return '<tr><th scope="row">'+esc(r[0])+'</th><td style="min-width:320px">'+bar([['ok',r[1]],['failed',r[2]]])+'</td></tr>';}).join('')+'</tbody></table>';}
function chart(title,minutes,series){var W=620,H=170,L=56,B=30,n=minutes.length;var max=1;series.forEach(function(s){minutes.forEach(function(m){max=Math.max(max,m.metrics[s[1]]||0);});});
var x=function(i){return L+(n<2?(W-L-10)/2:i*(W-L-10)/(n-1));},y=function(v){return H-B-(v/max)*(H-B-20);};
var s='<svg class="chart" width="'+W+'" height="'+H+'" role="img" aria-label="'+esc(title+' per minute: '+series.map(function(sr){return sr[0]+' '+minutes.map(function(m){return m.metrics[sr[1]]||0;}).join(', ');}).join('; '))+'">';
s+='<text x="'+L+'" y="13" class="t-chip">'+esc(title)+'</text><line class="axis" x1="'+L+'" y1="'+(H-B)+'" x2="'+(W-10)+'" y2="'+(H-B)+'"/><line class="axis" x1="'+L+'" y1="20" x2="'+L+'" y2="'+(H-B)+'"/>';
s+='<text x="'+(L-4)+'" y="24" text-anchor="end" class="t-small">'+max.toLocaleString('en-US')+'</text><text x="'+(L-4)+'" y="'+(H-B)+'" text-anchor="end" class="t-small">0</text>';
if(n){s+='<text x="'+x(0)+'" y="'+(H-B+14)+'" text-anchor="middle" class="t-small">'+utc(minutes[0].minute_start)+'</text>';if(n>1)s+='<text x="'+x(n-1)+'" y="'+(H-B+14)+'" text-anchor="end" class="t-small">'+utc(minutes[n-1].minute_start)+'</text>';}
series.forEach(function(sr,k){var pts=minutes.map(function(m,i){return x(i)+','+y(m.metrics[sr[1]]||0);});s+='<polyline class="s'+k+'" points="'+pts.join(' ')+'"/>';minutes.forEach(function(m,i){s+='<circle class="p'+k+'" cx="'+x(i)+'" cy="'+y(m.metrics[sr[1]]||0)+'" r="2.5"><title>'+esc(utc(m.minute_start)+' '+sr[0]+' '+(m.metrics[sr[1]]||0))+'</title></circle>';});
s+='<rect class="p'+k+'" x="'+(L+10+k*220)+'" y="'+(H-12)+'" width="10" height="10"/><text x="'+(L+24+k*220)+'" y="'+(H-3)+'" class="t-small">'+esc(sr[0])+'</text>';});
return s+'</svg>';}
function utc(sec){return new Date(sec*1000).toISOString().slice(0,16).replace('T',' ');}
function renderFleets(){var s='';
R.generators.forEach(function(g){s+='<h3>Generator '+esc(g.name)+' ×'+g.flows.toLocaleString('en-US')+'</h3><p>'+esc(g.from+' → '+g.to+' ('+g.app+')')+'; the longest took '+n3(g.max_elapsed_s)+' s</p>';
s+=bar(OUT.map(function(o){return[o,g.outcomes[o]||0];}));
g.drops.forEach(function(d){s+='<div class="drop-box"><strong>✘ DROPPED '+plural(d.count,'packet')+'</strong> at '+esc(d.component_name)+(d.direction?' '+esc(d.direction):'')+': <code>'+esc(d.rule)+'</code></div>';});
if(g.first_failures.length){s+='<table><thead><tr><th>first failed flows</th><th>started (s)</th><th>outcome</th><th>dropped at</th></tr></thead><tbody>'+g.first_failures.map(function(x){return '<tr><td>'+esc(x.name)+'</td><td>'+n3(x.start_s)+'</td><td>'+esc(x.outcome+': '+x.message)+'</td><td>'+esc(x.drop||'')+'</td></tr>';}).join('')+'</tbody></table>';}
if(g.fix)s+=fixBox(g.fix,'FIX for '+(g.fix_flow||'the first failed flow'),'the flow succeeds when re-run with these changes');});
(R.lambda_subnets||[]).forEach(function(l){s+='<h3>Lambda '+esc(l.function)+': '+l.invocations.toLocaleString('en-US')+' invocations over '+plural(l.subnets.length,'subnet')+'</h3>';
s+='<h4>per subnet and Hyperplane ENI</h4>'+okFailed(l.subnets.map(function(x){return[(x.subnet_name||x.subnet)+' ('+x.availability_zone+') '+x.eni,x.ok,x.failed];}));
var az={},azs=[];l.subnets.forEach(function(x){if(!az[x.availability_zone]){az[x.availability_zone]=[0,0];azs.push(x.availability_zone);}az[x.availability_zone][0]+=x.ok;az[x.availability_zone][1]+=x.failed;});
s+='<h4>per availability zone</h4>'+okFailed(azs.sort().map(function(z){return[z,az[z][0],az[z][1]];}));
s+='<h4>per NAT gateway</h4>'+okFailed(l.nat_gateways.map(function(x){return[x.id+(x.name?' ('+x.name+')':''),x.ok,x.failed];}));});
R.nat_gateways.forEach(function(n){var m=n.metrics;if(!m.connectionAttemptCount&&!n.per_minute.some(function(p){return p.metrics.connectionAttemptCount;}))return;
s+='<h3>NAT gateway '+esc(n.id+(n.name?' ('+n.name+')':''))+'</h3><p class="mono">ConnectionAttemptCount '+m.connectionAttemptCount+', ConnectionEstablishedCount '+m.connectionEstablishedCount+', ErrorPortAllocation '+m.errorPortAllocation+', IdleTimeoutCount '+m.idleTimeoutCount+', PacketsDropCount '+m.packetsDropCount+', peak ActiveConnectionCount '+m.peakActiveConnectionCount+'</p>';
n.reading.forEach(function(r){s+='<p>→ '+esc(r)+'</p>';});
if(n.per_minute.length){s+=chart('ConnectionAttemptCount vs ConnectionEstablishedCount (Sum)',n.per_minute,[['ConnectionAttemptCount','connectionAttemptCount'],['ConnectionEstablishedCount','connectionEstablishedCount']]);
s+=chart('ErrorPortAllocation (Sum)',n.per_minute,[['ErrorPortAllocation','errorPortAllocation']]);
s+=chart('ActiveConnectionCount (Max)',n.per_minute,[['ActiveConnectionCount','peakActiveConnectionCount']]);}});
var el=document.getElementById('fleets');if(s)el.innerHTML='<h2 id="h-fleets">Fleets and NAT gateways</h2>'+s;else el.hidden=true;}

// Files: every capture with its component and packets, and the selected flow's display filter in each.
function renderFiles(f){var el=document.getElementById('files');var s='<h2 id="h-files">Files</h2>';
if(!R.captures.length)s+='<p>No captures were written (--capture none).</p>';
else{var seen={};((f&&f.seen_at)||[]).forEach(function(v){seen[v.capture]=v;});
s+='<table><thead><tr><th>capture</th><th>component</th><th>packets</th><th>display filter'+(f?' for flow '+esc(f.name):'')+'</th></tr></thead><tbody>';
R.captures.forEach(function(c){var v=seen[c.name];s+='<tr><td class="mono">'+esc(c.file)+'</td><td>'+esc(c.description)+'</td><td>'+c.packets.toLocaleString('en-US')+'</td><td>'+(v?'<code class="filter" tabindex="0">'+esc(v.filter)+'</code>':'<span class="meta">not seen here</span>')+'</td></tr>';});
s+='</tbody></table><p class="meta">Paste a filter into Wireshark or <code>tshark -r FILE -Y \'FILTER\'</code>; addresses and ports, not <code>tcp.stream</code>, whose numbers differ from file to file.</p>';}
if(R.all_hops)s+='<p><code>'+esc(R.all_hops)+'</code>: every capture point as an interface, a comment on every packet.</p>';
el.innerHTML=s;}
function renderFlowLogs(){var el=document.getElementById('flow-logs');if(!LOGS||!LOGS.lines.length){el.hidden=true;return;}
var head=LOGS.lines[0].split(' '),ai=head.indexOf('action');var rejects=0;
var s='<table><thead><tr>'+head.map(function(h){return '<th>'+esc(h)+'</th>';}).join('')+'</tr></thead><tbody>';
LOGS.lines.slice(1).forEach(function(l){var c=l.split(' ');var rj=ai>=0?c[ai]==='REJECT':/ REJECT /.test(' '+l+' ');if(rj)rejects++;s+='<tr'+(rj?' class="reject"':'')+'>'+c.map(function(x){return '<td>'+esc(x)+'</td>';}).join('')+'</tr>';});
s+='</tbody></table>';
el.innerHTML='<h2 id="h-flow-logs">Flow logs</h2><p>'+esc(LOGS.file)+(LOGS.more?': its first '+plural(LOGS.lines.length-1,'record')+' (the file has more)':': '+plural(LOGS.lines.length-1,'record'))+'; '+plural(rejects,'REJECT record')+' shown highlighted.</p><div class="scroll">'+s+'</div>';}
function renderAssumptions(){var s='<h2 id="h-assumptions">Assumptions</h2><table><thead><tr><th>name</th><th>value</th><th>basis</th></tr></thead><tbody>';
R.assumptions.forEach(function(a){s+='<tr><td class="mono">'+esc(a.name)+'</td><td class="mono">'+esc(a.value)+'</td><td>'+esc(a.overridden?'set by the scenario':a.basis)+'</td></tr>';});
document.getElementById('assumptions').innerHTML=s+'</tbody></table>';}

renderFleets();renderFlowLogs();renderAssumptions();renderFiles(null);
var first=0;for(var i=0;i<R.flows.length;i++){if(R.flows[i].outcome!=='ok'&&R.flows[i].outcome!=='not-modeled'){first=i;break;}}
if(R.flows.length)select(first,false);
}catch(e){rec('script error: '+(e&&e.stack||e));}
var errs=window.__vpcsimErrors||[];var p=document.getElementById('page-errors');if(p&&errs.length){p.textContent=errs.join('\n');p.hidden=false;}
document.documentElement.setAttribute('data-ready','1');
if(window.performance)document.documentElement.setAttribute('data-render-ms',String(Math.round(performance.now())));
})();
"""#
}

extension HTMLReport {
    /// A report.json that cannot be read: the file, the place (line:column, or the JSON path) and the problem.
    public struct ReportFileError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Reads a report.json written by vpcsim run or trace.
    public static func readReport(path: String) throws -> RunReport {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReportFileError(description: "\(path): cannot read the file")
        }
        let bytes = [UInt8](data)
        if let offset = NestingLimit.firstTooDeep(json: bytes) {  // before the decoder recurses into it
            let (l, c) = NestingLimit.position(ofByte: offset, in: bytes)
            throw ReportFileError(description: "\(path):\(l):\(c): \(NestingLimit.message)")
        }
        do {
            return try JSONDecoder().decode(RunReport.self, from: data)
        } catch let e as DecodingError {
            throw ReportFileError(description: "\(path): \(describe(e))")
        } catch {
            throw ReportFileError(description: "\(path): \(error)")
        }
    }

    /// "flows[0].outcome: expected a string": the JSON path and what is wrong there.
    static func describe(_ e: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            var s = ""
            for k in keys {
                if let i = k.intValue { s += "[\(i)]" } else { s += (s.isEmpty ? "" : ".") + k.stringValue }
            }
            return s.isEmpty ? "the top level" : s
        }
        func what(_ type: Any.Type) -> String {
            type == String.self ? "a string" : type == Bool.self ? "true or false"
                : type == Double.self || type == Int.self || type == UInt64.self || type == Int64.self ? "a number"
                : "a \(type)"
        }
        switch e {
        case .keyNotFound(let key, let c):
            return "\(path(c.codingPath + [key])): missing (not a report.json of vpcsim run?)"
        case .typeMismatch(let type, let c):
            return "\(path(c.codingPath)): expected \(what(type))"
        case .valueNotFound(let type, let c):
            return "\(path(c.codingPath)): expected \(what(type)), found null"
        case .dataCorrupted(let c):
            if c.codingPath.isEmpty {
                let detail = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return "not valid JSON" + (detail.map { " (\($0))" } ?? "")
            }
            return "\(path(c.codingPath)): \(c.debugDescription)"
        @unknown default:
            return "\(e)"
        }
    }
}
