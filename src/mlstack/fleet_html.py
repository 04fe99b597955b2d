"""The fleet report as one self-contained HTML file: sortable table, per-repo detail, charts.

Charts: repositories per template version (share of the fleet), rollout outcomes (with a
state file), levels reached, and with `--history` the same over time plus the most-failed
rules. No external assets (it must open offline and be attachable to an audit). Data is
embedded as JSON and only ever inserted with textContent / setAttribute, so repository
content cannot inject markup; the few server-rendered parts are html.escape'd.
"""

from __future__ import annotations

import html
import json
import re

from mlstack.commands.fleet import FleetReport

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mlstack fleet report</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #1d2530; }
  h1 { margin: 0 0 .25rem; font-size: 1.4rem; }
  .meta { color: #5a6472; margin-bottom: 1rem; }
  .cards { display: flex; gap: .75rem; flex-wrap: wrap; margin-bottom: 1rem; }
  .card { border: 1px solid #d6dbe1; border-radius: 6px; padding: .5rem .9rem; min-width: 7rem; }
  .card b { display: block; font-size: 1.3rem; }
  .layout { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1.25rem; }
  .layout > div { overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #e5e8ec; white-space: nowrap; }
  th { cursor: pointer; user-select: none; background: #f5f7f9; }
  th[aria-sort="ascending"]::after { content: " \\25B2"; }
  th[aria-sort="descending"]::after { content: " \\25BC"; }
  tbody tr { cursor: pointer; }
  tbody tr:hover, tbody tr.selected { background: #eef4fb; }
  .outcome-ok { color: #1a7f37; } .outcome-update { color: #9a6700; } .outcome-drift { color: #bc4c00; }
  .outcome-policy, .outcome-broken { color: #cf222e; font-weight: 600; }
  #detail { border: 1px solid #d6dbe1; border-radius: 6px; padding: .75rem 1rem; align-self: start; }
  #detail li { margin-bottom: .4rem; }
  .sev-error { color: #cf222e; } .sev-warning { color: #9a6700; } .sev-info { color: #5a6472; }
  #filter { margin-bottom: .5rem; padding: .3rem .5rem; width: 18rem; }
  svg text { font: 12px system-ui, sans-serif; fill: #1d2530; }
  .legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1rem; }
  .legend span { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; vertical-align: -1px; }
  .history-charts { display: flex; flex-wrap: wrap; gap: 2rem; }
  #history-rules { width: auto; }
</style>
</head>
<body>
<h1>mlstack fleet report</h1>
<div class="meta">Generated __GENERATED__ · policy __POLICY__ · latest template __LATEST__</div>
<div class="cards">__CARDS__</div>
<h2>Template versions across the fleet</h2>
__CHART__
__ROLLOUT__
__LEVELS__
__HISTORY__
<h2>Repositories</h2>
<input id="filter" type="search" placeholder="Filter repositories" aria-label="Filter repositories">
<div class="layout">
  <div>
    <table id="fleet-table">
      <thead><tr>__HEADERS__</tr></thead>
      <tbody></tbody>
    </table>
  </div>
  <section id="detail" aria-live="polite"><p>Select a repository to see its findings.</p></section>
</div>
<script type="application/json" id="fleet-data">__DATA__</script>
<script>
(function () {
  const data = JSON.parse(document.getElementById("fleet-data").textContent);
  const rows = data.repos;
  const tbody = document.querySelector("#fleet-table tbody");
  const detail = document.getElementById("detail");
  const filter = document.getElementById("filter");
  const keys = Array.from(document.querySelectorAll("#fleet-table th"), th => th.dataset.key);
  const PALETTE = ["#4a7bd0", "#e0a526", "#3fa36b", "#c4566b", "#8a63c9", "#2aa3b5", "#b07a3c", "#7c8896"];
  let sortKey = "repo", ascending = true, selected = null;

  function cellValue(row, key) {
    const value = row[key];
    if (Array.isArray(value)) return value.join(" ");
    return value === null || value === undefined ? "" : value;
  }
  function compare(a, b) {
    const x = cellValue(a, sortKey), y = cellValue(b, sortKey);
    const result = (typeof x === "number" && typeof y === "number") ? x - y
      : String(x).localeCompare(String(y), undefined, {numeric: true});
    return ascending ? result : -result;
  }
  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }
  function render() {
    const needle = filter.value.trim().toLowerCase();
    tbody.replaceChildren();
    rows.filter(r => !needle || r.repo.toLowerCase().includes(needle)).sort(compare).forEach(row => {
      const tr = el("tr");
      tr.dataset.repo = row.repo;
      if (row.repo === selected) tr.classList.add("selected");
      keys.forEach(key => {
        const td = el("td");
        const text = String(cellValue(row, key));
        if (key === "request_url" && /^https?:\\/\\//.test(text)) {
          const link = el("a", text);
          link.href = text;
          link.rel = "noopener noreferrer";
          td.appendChild(link);
        } else {
          td.textContent = text;
        }
        if (key === "outcome") td.className = "outcome-" + row.outcome;
        tr.appendChild(td);
      });
      tr.addEventListener("click", () => { selected = row.repo; render(); show(row); });
      tbody.appendChild(tr);
    });
    document.querySelectorAll("#fleet-table th").forEach(th => {
      th.setAttribute("aria-sort", th.dataset.key === sortKey ? (ascending ? "ascending" : "descending") : "none");
    });
  }
  function show(row) {
    detail.replaceChildren(el("h3", row.repo));
    if (row.error) { detail.appendChild(el("p", "Could not be checked: " + row.error, "outcome-broken")); return; }
    detail.appendChild(el("p", "Template " + (row.template_version || "unknown") + " · outcome " + row.outcome,
                          "outcome-" + row.outcome));
    const report = row.report || {findings: [], waived: [], waivers: {active: [], expired: []}};
    detail.appendChild(el("h4", "Findings (" + report.findings.length + ")"));
    const list = el("ul");
    list.id = "findings";
    report.findings.forEach(f => {
      const li = el("li", null, "finding sev-" + f.severity);
      li.dataset.rule = f.rule;
      li.textContent = f.rule + " [" + f.severity + "] " + (f.path ? f.path + (f.line ? ":" + f.line : "") + ": " : "")
        + f.message + (f.fix ? " — fix: " + f.fix : "");
      list.appendChild(li);
    });
    if (!report.findings.length) list.appendChild(el("li", "No findings."));
    detail.appendChild(list);
    detail.appendChild(el("h4", "Waivers"));
    const waivers = el("ul");
    waivers.id = "waivers";
    report.waivers.active.forEach(w => waivers.appendChild(el("li", w.rule + " until " + w.expires + " (" + w.owner
      + "): " + w.reason)));
    report.waivers.expired.forEach(w => waivers.appendChild(el("li", "EXPIRED " + w.rule + " on " + w.expires
      + " (" + w.owner + ")", "sev-warning")));
    if (!waivers.children.length) waivers.appendChild(el("li", "None."));
    detail.appendChild(waivers);
  }
  document.querySelectorAll("#fleet-table th").forEach(th => th.addEventListener("click", () => {
    if (sortKey === th.dataset.key) ascending = !ascending; else { sortKey = th.dataset.key; ascending = true; }
    render();
  }));
  filter.addEventListener("input", render);
  render();

  const historyData = document.getElementById("fleet-history");
  if (historyData) showHistory(JSON.parse(historyData.textContent));

  function svgNode(tag, attributes, text) {
    const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.entries(attributes || {}).forEach(([name, value]) => node.setAttribute(name, String(value)));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  // One stacked bar per snapshot (oldest left); a segment per name in `order`, colour by position.
  function stackedChart(svgId, snapshots, field, order, attribute) {
    const svg = document.getElementById(svgId);
    const bar = 16, gap = 6, plot = 160, left = 36, top = 8;
    const most = Math.max(1, ...snapshots.map(s => s.repos));
    svg.setAttribute("width", left + snapshots.length * (bar + gap) + 10);
    svg.setAttribute("height", top + plot + 36);
    svg.appendChild(svgNode("text", {x: 0, y: top + 10}, String(most)));
    svg.appendChild(svgNode("text", {x: 0, y: top + plot}, "0"));
    snapshots.forEach((snapshot, index) => {
      const x = left + index * (bar + gap);
      const group = svgNode("g", {"class": "snapshot", "data-at": snapshot.at, "data-repos": snapshot.repos});
      group.appendChild(svgNode("title", {}, snapshot.at + ": " + snapshot.repos + " repositories"));
      let y = top + plot;
      order.forEach((name, position) => {
        const count = snapshot[field][name] || 0;
        if (!count) return;
        const height = plot * count / most;
        y -= height;
        const segment = svgNode("rect", {"class": "segment", x: x, y: y, width: bar, height: height,
                                         fill: PALETTE[position % PALETTE.length], ["data-" + attribute]: name,
                                         "data-count": count});
        segment.appendChild(svgNode("title", {}, name + ": " + count + " of " + snapshot.repos + " ("
          + Math.round(100 * count / Math.max(1, snapshot.repos)) + "%) on " + snapshot.at));
        group.appendChild(segment);
      });
      svg.appendChild(group);
    });
    if (snapshots.length) {
      svg.appendChild(svgNode("text", {x: left, y: top + plot + 16}, snapshots[0].at.slice(0, 10)));
      const last = snapshots[snapshots.length - 1].at.slice(0, 10);
      svg.appendChild(svgNode("text", {x: left + (snapshots.length - 1) * (bar + gap) + bar, y: top + plot + 32,
                                       "text-anchor": "end"}, last));
    }
    const legend = document.getElementById(svgId + "-legend");
    order.forEach((name, position) => {
      const item = el("li");
      const swatch = el("span");
      swatch.style.background = PALETTE[position % PALETTE.length];
      item.append(swatch, name);
      legend.appendChild(item);
    });
  }
  function showHistory(history) {
    const snapshots = history.snapshots;
    const stored = snapshots.filter(s => s.source !== "this run").length;
    let note = snapshots.length + " snapshots: " + stored + " stored and this run. "
      + "The dashboard embeds at most the last " + history.limit + ".";
    if (history.older_not_shown) note += " " + history.older_not_shown + " older stored runs are not shown.";
    document.getElementById("history-note").textContent = note;
    stackedChart("history-versions", snapshots, "versions", history.version_order, "version");
    if (history.level_order.length) {
      stackedChart("history-levels", snapshots, "levels", history.level_order, "level");
    } else {
      document.getElementById("history-levels-box").replaceChildren(el("p", "No levels: the policy defines none."));
    }
    const rules = document.querySelector("#history-rules tbody");
    history.top_rules.forEach(item => {
      const tr = el("tr");
      tr.dataset.rule = item.rule;
      [item.rule, item.latest, item.total, item.snapshots].forEach(value => tr.appendChild(el("td", String(value))));
      rules.appendChild(tr);
    });
    if (!history.top_rules.length) {
      const tr = el("tr");
      tr.appendChild(el("td", "No rule failed in these snapshots."));
      rules.appendChild(tr);
    }
  }
})();
</script>
</body>
</html>
"""


def _cards(report: FleetReport) -> str:
    counts = report.counts()
    labels = [("repos", "repositories"), ("ok", "ok"), ("update", "update available"), ("drift", "drifted"),
              ("policy", "failing policy"), ("broken", "broken")]
    return "".join(f'<div class="card" data-count="{key}"><b>{counts[key]}</b>{html.escape(label)}</div>'
                   for key, label in labels)


HEADERS = {"repo": "Repository", "template_version": "Template", "behind": "Behind", "outcome": "Outcome",
           "errors": "Errors", "warnings": "Warnings", "drift": "Drift", "failing_rules": "Failing rules",
           "active_waivers": "Waivers", "expired_waivers": "Expired", "level": "Level", "rollout": "Rollout",
           "update_branch": "Update branch", "request_url": "Request"}


def _headers(report: FleetReport) -> str:
    return "".join(f'<th data-key="{key}">{html.escape(HEADERS[key])}</th>' for key in report.columns()
                   if key != "error")


def bar_chart(chart_id: str, label: str, counts: dict[str, int], attribute: str) -> str:
    """A horizontal bar chart (inline SVG): a bar per name with its count and share of the total."""
    if not counts:
        return f'<svg id="{chart_id}" width="0" height="0"></svg>'
    bar, gap, label_width, width = 22, 6, 110, 420
    most, total = max(max(counts.values()), 1), max(sum(counts.values()), 1)
    height = len(counts) * (bar + gap)
    parts = [f'<svg id="{chart_id}" role="img" aria-label="{html.escape(label)}" '
             f'width="{label_width + width + 90}" height="{height}">']
    for index, (name, count) in enumerate(counts.items()):
        y = index * (bar + gap)
        length = max(2, round(width * count / most))
        share = round(100 * count / total, 1)
        parts.append(f'<g class="bar" data-{attribute}="{html.escape(name)}" data-count="{count}" '
                     f'data-share="{share:g}">'
                     f'<text x="0" y="{y + 15}">{html.escape(name)}</text>'
                     f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar}" fill="#4a7bd0"></rect>'
                     f'<text x="{label_width + length + 6}" y="{y + 15}">{count} ({share:g}%)</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def version_chart(versions: dict[str, int]) -> str:
    """Repositories per template version: how far each release has been adopted across the fleet."""
    return bar_chart("version-chart", "Repositories and share of the fleet per template version", versions,
                     "version")


def _rollout_section(report: FleetReport) -> str:
    if not report.with_rollout:
        return ""
    return ("<h2>Rollout (from the state file)</h2>"
            + bar_chart("rollout-chart", "Repositories per rollout outcome", report.rollout_counts(), "outcome"))


def _levels_section(report: FleetReport) -> str:
    """Levels reached in this run, when the checks report levels (policies that define them)."""
    levels: dict[str, int] = {}
    for row in report.rows:
        if row.level or (row.report or {}).get("levels"):
            levels[row.level or "none"] = levels.get(row.level or "none", 0) + 1
    if not levels:
        return ""
    return "<h2>Levels reached</h2>" + bar_chart("level-chart", "Repositories per level reached", levels, "level")


HISTORY = """<section id="history">
<h2>Over time</h2>
<p id="history-note" class="meta"></p>
<div class="history-charts">
  <div><h3>Template versions adopted</h3><svg id="history-versions" role="img"
    aria-label="Repositories per template version, per snapshot"></svg><ul id="history-versions-legend"
    class="legend"></ul></div>
  <div id="history-levels-box"><h3>Levels reached</h3><svg id="history-levels" role="img"
    aria-label="Repositories per level reached, per snapshot"></svg><ul id="history-levels-legend"
    class="legend"></ul></div>
</div>
<h3>Most-failed rules</h3>
<table id="history-rules">
  <thead><tr><th>Rule</th><th>Failing now</th><th>Repository-runs failing</th><th>Snapshots failing</th></tr></thead>
  <tbody></tbody>
</table>
<script type="application/json" id="fleet-history">__HISTORY_DATA__</script>
</section>"""


def _history_section(report: FleetReport) -> str:
    if report.history is None:
        return ""
    return fill(HISTORY, {"HISTORY_DATA": embeddable_json(json.dumps(report.history.to_dict(), ensure_ascii=False))})


# Inside <script>, `</script>`, `<!--` and `<script` change how the HTML parser reads the rest
# of the page; U+2028/9 end lines in older JavaScript. JSON may escape all of them.
JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def embeddable_json(text: str) -> str:
    """JSON text safe inside a <script> element: characters that markup could act on are escaped."""
    return "".join(JSON_ESCAPES.get(ch, ch) for ch in text)


def fill(template: str, values: dict[str, str]) -> str:
    """Put each __NAME__ placeholder's value in, in one pass: a value that spells a placeholder stays as is."""
    return re.sub(r"__([A-Z_]+)__", lambda match: values[match.group(1)], template)


def render_dashboard(report: FleetReport) -> str:
    from mlstack.commands.fleet import render_json

    return fill(PAGE, {
        "GENERATED": html.escape(report.generated_at), "POLICY": html.escape(report.policy_source),
        "LATEST": html.escape(report.latest_version or "unknown"), "CARDS": _cards(report),
        "CHART": version_chart(report.versions()), "ROLLOUT": _rollout_section(report),
        "LEVELS": _levels_section(report), "HISTORY": _history_section(report), "HEADERS": _headers(report),
        "DATA": embeddable_json(render_json(report))})
