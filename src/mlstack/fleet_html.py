"""The fleet report as one self-contained HTML file: sortable table, per-repo detail, version chart.

No external assets (it must open offline and be attachable to an audit). Data is embedded as
JSON and only ever inserted with textContent, so repository content cannot inject markup.
"""

from __future__ import annotations

import html

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
</style>
</head>
<body>
<h1>mlstack fleet report</h1>
<div class="meta">Generated __GENERATED__ · policy __POLICY__ · latest template __LATEST__</div>
<div class="cards">__CARDS__</div>
<h2>Template versions across the fleet</h2>
__CHART__
<h2>Repositories</h2>
<input id="filter" type="search" placeholder="Filter repositories" aria-label="Filter repositories">
<div class="layout">
  <div>
    <table id="fleet-table">
      <thead><tr>
        <th data-key="repo">Repository</th><th data-key="template_version">Template</th>
        <th data-key="behind">Behind</th><th data-key="outcome">Outcome</th>
        <th data-key="errors">Errors</th><th data-key="warnings">Warnings</th><th data-key="drift">Drift</th>
        <th data-key="failing_rules">Failing rules</th><th data-key="active_waivers">Waivers</th>
        <th data-key="expired_waivers">Expired</th>
      </tr></thead>
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
      ["repo", "template_version", "behind", "outcome", "errors", "warnings", "drift", "failing_rules",
       "active_waivers", "expired_waivers"].forEach(key => {
        const td = el("td", String(cellValue(row, key)));
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


def version_chart(versions: dict[str, int]) -> str:
    """A horizontal bar chart (inline SVG) of repositories per template version."""
    if not versions:
        return '<svg id="version-chart" width="0" height="0"></svg>'
    bar, gap, label_width, width = 22, 6, 110, 420
    most = max(versions.values())
    height = len(versions) * (bar + gap)
    parts = [f'<svg id="version-chart" role="img" aria-label="Repositories per template version" '
             f'width="{label_width + width + 40}" height="{height}">']
    for index, (version, count) in enumerate(versions.items()):
        y = index * (bar + gap)
        length = max(2, round(width * count / most))
        parts.append(f'<g class="bar" data-version="{html.escape(version)}" data-count="{count}">'
                     f'<text x="0" y="{y + 15}">{html.escape(version)}</text>'
                     f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar}" fill="#4a7bd0"></rect>'
                     f'<text x="{label_width + length + 6}" y="{y + 15}">{count}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


# Inside <script>, `</script>`, `<!--` and `<script` change how the HTML parser reads the rest
# of the page; U+2028/9 end lines in older JavaScript. JSON may escape all of them.
JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def embeddable_json(text: str) -> str:
    """JSON text safe inside a <script> element: characters that markup could act on are escaped."""
    return "".join(JSON_ESCAPES.get(ch, ch) for ch in text)


def render_dashboard(report: FleetReport) -> str:
    from mlstack.commands.fleet import render_json

    data = embeddable_json(render_json(report))
    return (PAGE.replace("__GENERATED__", html.escape(report.generated_at))
            .replace("__POLICY__", html.escape(report.policy_source))
            .replace("__LATEST__", html.escape(report.latest_version or "unknown"))
            .replace("__CARDS__", _cards(report))
            .replace("__CHART__", version_chart(report.versions()))
            .replace("__DATA__", data))
