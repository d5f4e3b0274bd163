// tenantedge admin: a tenant's traffic for the last hour (GET /api/tenants/{id}/stats), drawn as inline SVG
// with DOM APIs only; the data never passes through innerHTML. Nothing is fetched from elsewhere.

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 640;
const HEIGHT = 220;
const PAD = { left: 56, right: 16, top: 14, bottom: 44 };

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function html(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// The smallest of 1, 2 or 5 times a power of ten at or over `value`: the y axis's top.
function axisTop(value) {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 5, 10].map((step) => step * power).find((top) => top >= value);
}

function clock(minute) {
  return minute.slice(11, 16); // "2026-12-02T04:05:00Z" -> "04:05" (UTC)
}

function trimmed(value) {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(2)));
}

// One line chart: `points` are [minute label, value], oldest first; `format` writes a value with its unit.
export function lineChart({ id, title, yLabel, points, format }) {
  const values = points.map(([, value]) => value);
  const peak = Math.max(0, ...values);
  const peakAt = values.indexOf(peak);
  const top = axisTop(peak);
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const x = (index) => PAD.left + (points.length > 1 ? (index * plotWidth) / (points.length - 1) : plotWidth / 2);
  const y = (value) => PAD.top + plotHeight - (value / top) * plotHeight;
  const first = points.length ? clock(points[0][0]) : "";
  const last = points.length ? clock(points[points.length - 1][0]) : "";
  const summary = peak > 0
    ? `${title}, ${first} to ${last} UTC: peak ${format(peak)} at ${clock(points[peakAt][0])}, latest ${format(values[values.length - 1])}`
    : `${title}, ${first} to ${last} UTC: none`;
  const chart = svg("svg", { class: "chart", id, role: "img", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, "aria-label": summary, "data-peak": peak, "data-points": points.length },
    svg("title", {}, summary));
  for (const fraction of [0, 0.5, 1]) {
    const level = y(top * fraction);
    chart.append(
      svg("line", { class: "grid", x1: PAD.left, x2: WIDTH - PAD.right, y1: level, y2: level }),
      svg("text", { class: "tick", x: PAD.left - 6, y: level + 4, "text-anchor": "end" }, format(top * fraction)));
  }
  const middle = points.length ? clock(points[Math.floor((points.length - 1) / 2)][0]) : "";
  for (const [label, index, anchor] of [[first, 0, "start"], [middle, Math.floor((points.length - 1) / 2), "middle"], [last, points.length - 1, "end"]]) {
    chart.append(svg("text", { class: "tick", x: x(index), y: HEIGHT - PAD.bottom + 16, "text-anchor": anchor }, label));
  }
  chart.append(
    svg("text", { class: "axis-label", x: PAD.left + plotWidth / 2, y: HEIGHT - 6, "text-anchor": "middle" }, "minute (UTC)"),
    svg("text", { class: "axis-label", x: 14, y: PAD.top + plotHeight / 2, "text-anchor": "middle", transform: `rotate(-90 14 ${PAD.top + plotHeight / 2})` }, yLabel),
    svg("polyline", { class: "series", points: values.map((value, index) => `${x(index)},${y(value)}`).join(" ") }));
  values.forEach((value, index) => {
    chart.append(svg("circle", { class: index === peakAt && peak > 0 ? "point peak" : "point", cx: x(index), cy: y(value), r: 2.5, "data-value": value },
      svg("title", {}, `${clock(points[index][0])}: ${format(value)}`)));
  });
  return chart;
}

function milliseconds(value) {
  return value === null || value === undefined ? "no render" : `${trimmed(value)} ms`;
}

function percent(value) {
  return `${trimmed(Math.round(value * 1000) / 10)} %`;
}

// The figures and the two charts of a tenant's overview, from its stats.
export function trafficPanel(stats) {
  const { totals, minutes } = stats;
  const figure = (label, value, id) => html("div", { class: "figure" }, html("dt", {}, label), html("dd", { id }, value));
  return html("section", { class: "panel traffic", "aria-labelledby": "traffic-title" },
    html("h2", { id: "traffic-title" }, "Traffic, last hour"),
    html("dl", { class: "figures" },
      figure("Requests", String(totals.requests), "figure-requests"),
      figure("Error rate", percent(totals.error_rate), "figure-error-rate"),
      figure("Cache hit ratio", totals.hit_ratio === null ? "no requests" : percent(totals.hit_ratio), "figure-hit-ratio"),
      figure("Render p50", milliseconds(totals.render_p50_ms), "figure-render-p50"),
      figure("Render p95", milliseconds(totals.render_p95_ms), "figure-render-p95")),
    html("div", { class: "charts" },
      lineChart({ id: "chart-requests", title: "Requests per minute", yLabel: "requests/min", format: trimmed, points: minutes.map((m) => [m.minute, m.requests]) }),
      lineChart({ id: "chart-errors", title: "Error rate (4xx and 5xx) per minute", yLabel: "error rate", format: percent, points: minutes.map((m) => [m.minute, m.error_rate]) })),
    html("p", { class: "muted" }, stats.shared ? "Every worker's requests, added up in Redis." : "The requests of the worker that answered (no Redis configured)."));
}

function ago(seconds) {
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

// The last publish and how far it reached, when the stats carry it (`last_publish`); null when they do not.
export function publishPanel(stats, nowSeconds = Date.now() / 1000) {
  const last = stats.last_publish;
  if (!last) return null;
  const reach = last.propagation_seconds === null || last.propagation_seconds === undefined
    ? `reached ${last.workers}/${last.expected_workers} workers so far`
    : `reached ${last.workers}/${last.expected_workers} workers in ${trimmed(Math.round(last.propagation_seconds * 1000))} ms`;
  return html("p", { class: "panel publish", id: "last-publish" }, `Last publish: v${last.version}, ${ago(nowSeconds - last.published_at)}, ${reach}`);
}

// What the overview says when requests are not counted (the stats API answers 404).
export function trafficOff() {
  return html("div", { class: "panel empty", id: "traffic-off" }, "Traffic figures are off: start with TENANTEDGE_METRICS=1");
}
