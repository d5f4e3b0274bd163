// tenantedge admin: the dashboard and page builder. Plain modern JavaScript, no build step, nothing fetched
// from elsewhere. Every change goes through the admin API with If-Match; events arrive over /ws.

import { publishPanel, trafficOff, trafficPanel } from "./charts.js";
import { inboxTabs, renderInbox } from "./inbox.js";
import { installedPlugins, missingSection, palette, pluginsPanel } from "./plugins.js";

const state = { session: null, catalog: null, socket: null, listeners: new Set() };
const main = document.getElementById("main");
const STARTERS = {
  landing: { label: "Landing page", pages: { "/": [{ type: "Hero" }, { type: "Features" }, { type: "CTA" }] } },
  business: {
    label: "Small business",
    pages: { "/": [{ type: "Hero" }, { type: "Services" }, { type: "Testimonials" }, { type: "Contact" }] },
  },
  blank: { label: "Blank (one hero)", pages: { "/": [{ type: "Hero" }] } },
};

// -- small helpers ------------------------------------------------------------------------------------

function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "value") node.value = value;
    else if (key === "checked") node.checked = Boolean(value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function clone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

function debounce(fn, ms) {
  let timer = null;
  const run = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  run.cancel = () => clearTimeout(timer);
  run.flush = (...args) => {
    clearTimeout(timer);
    return fn(...args);
  };
  return run;
}

function cookie(name) {
  const found = document.cookie.split("; ").find((part) => part.startsWith(name + "="));
  return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
}

function pagePath(segment) {
  return "/" + (segment || "");
}

function pageSegment(path) {
  return path === "/" ? "" : path.slice(1);
}

function notice(message, { error = false, actions = [] } = {}) {
  const box = document.getElementById("notice");
  box.replaceChildren(h("span", { class: "grow" }, message), ...actions, h("button", { class: "ghost small", type: "button", onclick: () => (box.hidden = true) }, "Dismiss"));
  box.className = error ? "notice error-notice" : "notice";
  box.hidden = false;
}

function clearNotice() {
  document.getElementById("notice").hidden = true;
}

function crumbs(...items) {
  document.getElementById("crumbs").replaceChildren(...items.map(([label, href]) => (href ? h("a", { href }, label) : h("span", {}, label))));
}

// `body` is a node, or a function given `close` for a body whose own buttons answer (a chooser).
function modal(title, body, buttons) {
  return new Promise((resolve) => {
    const close = (value) => {
      backdrop.remove();
      resolve(value);
    };
    const dialog = h("div", { class: "modal", role: "dialog", "aria-modal": "true", "aria-label": title },
      h("h2", {}, title), typeof body === "function" ? body(close) : body,
      h("div", { class: "row", style: null }, ...buttons.map(([label, value, cls]) => h("button", { type: "button", class: cls || "", onclick: () => close(value) }, label))));
    const backdrop = h("div", { class: "modal-backdrop", onkeydown: (event) => event.key === "Escape" && close(null) }, dialog);
    document.body.append(backdrop);
    dialog.querySelector("button, input")?.focus();
  });
}

// -- the API ---------------------------------------------------------------------------------------------

async function api(method, path, { body, ifMatch, type } = {}) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = type || "application/json";
  if (ifMatch !== undefined && ifMatch !== null) headers["if-match"] = ifMatch === "*" ? "*" : `"${ifMatch}"`;
  if (!["GET", "HEAD"].includes(method)) headers["x-csrf-token"] = cookie("tenantedge_csrf") || state.session?.csrf || "";
  let response;
  try {
    response = await fetch(path, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    return { status: 0, ok: false, data: { detail: `the server cannot be reached (${error.message})` } };
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (response.status === 401 && path !== "/api/session") {
    state.session = null;
    location.hash = "#/signin";
  }
  const etag = response.headers.get("etag");
  return { status: response.status, ok: response.ok, data, version: etag ? Number(etag.replaceAll('"', "")) : null };
}

function problem(result) {
  const detail = result.data?.detail || `request failed (${result.status})`;
  const issues = result.data?.issues || [];
  return issues.length ? `${detail}: ${issues.map((i) => `${i.path || "(document)"}: ${i.message}`).join("; ")}` : detail;
}

// The section library, and the labels and preset colours the settings show (GET /api/sections, fetched once).
async function catalog() {
  if (!state.catalog) {
    const result = await api("GET", "/api/sections");
    const data = result.data || {};
    state.catalog = {
      specs: Object.fromEntries((data.sections || []).map((spec) => [spec.type, spec])),
      features: data.features || [],
      colours: data.colors || [],
      presets: data.presets || {},
    };
  }
  return state.catalog;
}

// The sections one tenant may use: the built-in ones and those of the plugins it enables, by type.
async function tenantSections(id) {
  const result = await api("GET", `/api/sections?tenant=${encodeURIComponent(id)}`);
  return result.ok ? Object.fromEntries(result.data.sections.map((spec) => [spec.type, spec])) : (await catalog()).specs;
}

// -- live events ----------------------------------------------------------------------------------------

function connectLive() {
  if (state.socket) return;
  const live = document.getElementById("live");
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  state.socket = socket;
  let seq = Number(sessionStorage.getItem("te-seq") || 0);
  socket.addEventListener("open", () => {
    live.textContent = "● live";
    live.classList.remove("off");
  });
  socket.addEventListener("message", (message) => {
    const event = JSON.parse(message.data);
    if (event.seq) {
      seq = event.seq;
      sessionStorage.setItem("te-seq", String(seq));
    }
    for (const listener of state.listeners) listener(event);
  });
  socket.addEventListener("close", () => {
    state.socket = null;
    live.textContent = "○ reconnecting";
    live.classList.add("off");
    if (state.session) setTimeout(connectLive, 1500);
  });
}

// Our own write's event can arrive before its HTTP response: judge it once that response had time to land.
function ifStillNewer(event, current, show) {
  setTimeout(() => event.version > current() && show(), 1000);
}

function onEvent(listener) {
  state.listeners.add(listener);
  return () => state.listeners.delete(listener);
}

// -- routing ----------------------------------------------------------------------------------------------

let leave = () => {};

async function route() {
  leave();
  leave = () => {};
  clearNotice();
  const hash = location.hash || "#/";
  if (!state.session) {
    const who = await api("GET", "/api/session");
    if (who.ok && who.data?.name) state.session = who.data;
  }
  document.getElementById("who").textContent = state.session ? `signed in as ${state.session.name}` : "";
  document.getElementById("signout").hidden = !state.session;
  if (!state.session) return renderSignIn();
  connectLive();
  const parts = hash.slice(2).split("/").map(decodeURIComponent);
  if (parts[0] === "t" && parts[1] && parts[2] === "page") return renderBuilder(parts[1], pagePath(parts.slice(3).join("/")));
  if (parts[0] === "t" && parts[1]) return renderTenant(parts[1], parts[2] || "settings");
  return renderTenants();
}

window.addEventListener("hashchange", route);
document.getElementById("signout").addEventListener("click", async () => {
  await api("DELETE", "/api/session");
  state.session = null;
  state.socket?.close();
  location.hash = "#/signin";
  route();
});

// -- sign in -----------------------------------------------------------------------------------------------

function renderSignIn() {
  crumbs(["Sign in"]);
  const error = h("p", { class: "error", role: "alert" });
  const token = h("input", { id: "token", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "panel signin", onsubmit: async (event) => {
    event.preventDefault();
    const result = await api("POST", "/api/session", { body: { token: token.value } });
    if (!result.ok) {
      error.textContent = problem(result);
      token.classList.add("invalid");
      return;
    }
    state.session = result.data;
    location.hash = "#/";
    route();
  } },
  h("h1", {}, "Sign in"),
  h("p", { class: "muted" }, "Use the admin token tenantedge printed at start, or a token you were given."),
  h("label", { for: "token" }, "Admin token"), token, error,
  h("div", { class: "row" }, h("button", { type: "submit" }, "Sign in")));
  main.replaceChildren(form);
  token.focus();
}

// -- tenants -----------------------------------------------------------------------------------------------

const NO_TENANT = "-"; // what the stats call the requests no tenant answered

async function renderTenants() {
  crumbs(["Tenants"]);
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  let query = params.get("q") || "";
  let offset = Number(params.get("offset") || 0);
  const limit = 25;
  const search = h("input", { type: "search", placeholder: "Search by id, name or domain", "aria-label": "Search tenants", value: query });
  const table = h("div", {}, h("p", { class: "muted spinner" }, "Loading"));
  const pager = h("div", { class: "pager" });
  const order = h("select", { id: "tenant-sort", "aria-label": "Order tenants by" },
    h("option", { value: "name" }, "By name"), h("option", { value: "requests" }, "By traffic, last hour"), h("option", { value: "errors" }, "By errors, last hour"));
  order.addEventListener("change", () => load());
  async function load() {
    if (order.value !== "name") return loadRanking();
    const result = await api("GET", `/api/tenants?q=${encodeURIComponent(query)}&offset=${offset}&limit=${limit}`);
    if (!result.ok) return table.replaceChildren(h("p", { class: "error" }, problem(result)));
    const { total, items } = result.data;
    if (!items.length) {
      table.replaceChildren(h("div", { class: "empty" }, query ? `No tenant matches “${query}”.` : "No tenants yet: create the first one."));
    } else {
      table.replaceChildren(h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, "Tenant"), h("th", {}, "Domains"), h("th", {}, "Version"))),
        h("tbody", {}, items.map((item) => h("tr", { "data-tenant": item.id },
          h("td", {}, h("a", { href: `#/t/${item.id}` }, item.name), h("div", { class: "muted" }, item.id)),
          h("td", {}, item.domains.join(", ")),
          h("td", {}, h("span", { class: "badge" }, `v${item.version}`), item.published === false ? h("span", { class: "badge draft" }, "not published") : null))))));
    }
    pager.replaceChildren(
      h("span", { class: "muted" }, total ? `${offset + 1}–${Math.min(offset + limit, total)} of ${total}` : ""),
      h("button", { class: "ghost small", type: "button", disabled: offset === 0, onclick: () => { offset = Math.max(0, offset - limit); load(); } }, "Previous"),
      h("button", { class: "ghost small", type: "button", disabled: offset + limit >= total, onclick: () => { offset += limit; load(); } }, "Next"));
  }
  // The busiest or most erring tenants of the last hour (GET /api/stats), those the search matches.
  async function loadRanking() {
    pager.replaceChildren();
    const result = await api("GET", `/api/stats?sort=${order.value}&limit=500`);
    if (result.status === 404) return table.replaceChildren(trafficOff());
    if (!result.ok) return table.replaceChildren(h("p", { class: "error" }, problem(result)));
    const items = result.data.items.filter((item) => item.tenant.includes(query.trim().toLowerCase()));
    if (!items.length) return table.replaceChildren(h("div", { class: "empty" }, "No tenant had requests in the last hour."));
    const ratio = (value) => (value === null ? "–" : `${Math.round(value * 1000) / 10} %`);
    table.replaceChildren(h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Tenant"), h("th", {}, "Requests"), h("th", {}, "Errors (4xx + 5xx)"), h("th", {}, "Error rate"), h("th", {}, "Cache hit ratio"))),
      h("tbody", {}, items.map((item) => h("tr", { "data-tenant": item.tenant },
        h("td", {}, item.tenant === NO_TENANT ? h("span", { class: "muted" }, "(no tenant)") : h("a", { href: `#/t/${item.tenant}/overview` }, item.tenant)),
        h("td", {}, String(item.requests)),
        h("td", {}, String(item.client_errors + item.server_errors)),
        h("td", {}, ratio(item.error_rate)),
        h("td", {}, ratio(item.hit_ratio)))))),
    h("p", { class: "muted" }, "Tenants without requests in the last hour are not listed; “(no tenant)” counts the requests no tenant answered (the admin, /_edge/ paths, unknown hosts)."));
  }
  search.addEventListener("input", debounce(() => {
    query = search.value;
    offset = 0;
    load();
  }, 200));
  main.replaceChildren(
    h("div", { class: "row spread" }, h("h1", {}, "Tenants"), h("button", { type: "button", onclick: createTenant }, "New tenant")),
    h("div", { class: "panel" }, h("div", { class: "row list-tools" }, h("div", { class: "grow" }, search), order), table, pager));
  leave = onEvent((event) => event.type.startsWith("tenant.") && load());
  load();
}

async function createTenant() {
  const id = h("input", { id: "new-id", pattern: "[a-z0-9][a-z0-9\\-]{0,62}", placeholder: "acme-shop" });
  const name = h("input", { id: "new-name", placeholder: "Acme Shop" });
  const domain = h("input", { id: "new-domain", placeholder: "acme.example" });
  const starter = h("select", { id: "new-starter" }, Object.entries(STARTERS).map(([key, value]) => h("option", { value: key }, value.label)));
  const soon = h("input", { type: "checkbox", id: "new-coming-soon", "aria-describedby": "new-coming-soon-help" });
  const error = h("p", { class: "error", role: "alert" });
  const body = h("div", {},
    h("label", { for: "new-id" }, "Id", h("p", { class: "help" }, "Lowercase letters, digits and “-”; it names the tenant's folders and keys.")), id,
    h("label", { for: "new-name" }, "Name"), name,
    h("label", { for: "new-domain" }, "Domain"), domain,
    h("label", { for: "new-starter" }, "Starter layout"), starter,
    h("label", { class: "check" }, soon, h("span", {}, "Show a “coming soon” page until it is published",
      h("span", { class: "help", id: "new-coming-soon-help" }, "With its name and theme; otherwise its domain shows no site until then."))), error);
  for (;;) {
    const choice = await modal("New tenant", body, [["Create", "create"], ["Cancel", null, "ghost"]]);
    if (!choice) return;
    // Not served until its first publish: the starter's placeholder copy never reaches its domains.
    const doc = { id: id.value.trim(), name: name.value.trim(), domains: [domain.value.trim()], pages: clone(STARTERS[starter.value].pages), published: false };
    if (soon.checked) doc.coming_soon = true;
    const result = await api("POST", "/api/tenants", { body: doc });
    if (result.ok) {
      location.hash = `#/t/${doc.id}`;
      return;
    }
    error.textContent = problem(result);
  }
}

// -- one tenant ------------------------------------------------------------------------------------------------

async function renderTenant(id, tab) {
  crumbs(["Tenants", "#/"], [id]);
  const result = await api("GET", `/api/tenants/${id}`);
  if (!result.ok) return main.replaceChildren(h("div", { class: "panel empty" }, problem(result)));
  // An inbox tab for each plugin with one that the tenant enables.
  const inboxes = inboxTabs(result.data.plugins);
  const tabs = [["settings", "Settings"], ["pages", "Pages"], ["posts", "Posts"], ["assets", "Assets"], ["history", "History"], ["overview", "Overview"], ...inboxes];
  state.tenant = id;
  const body = h("div");
  main.replaceChildren(
    h("div", { class: "row spread" }, h("h1", {}, result.data.name || id), h("span", { class: "badge" }, `version ${result.version}`)),
    h("div", { class: "tabs", role: "tablist" }, tabs.map(([key, label]) => h("button", { type: "button", role: "tab", "aria-selected": String(key === tab), onclick: () => (location.hash = `#/t/${id}/${key}`) }, label))),
    body);
  if (tab === "pages") return renderPages(id, result, body);
  if (tab === "history") return renderHistory(id, result, body);
  if (tab === "posts") return renderPosts(id, body);
  if (tab === "assets") return renderAssets(id, body);
  if (tab === "overview") return renderOverview(id, body);
  const inbox = inboxes.find(([key]) => key === tab);
  if (inbox) return renderInbox({ h, api, modal, problem }, inbox[2], id, body);
  return renderSettings(id, result, body);
}

const OVERVIEW_REFRESH_MS = 15000;

// The last hour's traffic, refreshed while shown; a 404 from the stats API means requests are not counted.
async function renderOverview(id, body) {
  let timer = null;
  let shown = true;
  async function load() {
    const result = await api("GET", `/api/tenants/${id}/stats`);
    if (!shown) return;
    if (result.status === 404) return body.replaceChildren(trafficOff());
    if (!result.ok) return body.replaceChildren(h("div", { class: "panel empty" }, problem(result)));
    body.replaceChildren(...[publishPanel(result.data), trafficPanel(result.data)].filter(Boolean));
    timer = setTimeout(load, OVERVIEW_REFRESH_MS);
  }
  leave = () => {
    shown = false;
    clearTimeout(timer);
  };
  body.replaceChildren(h("p", { class: "muted spinner" }, "Loading"));
  await load();
}

function renderSettings(id, loaded, body) {
  let base = clone(loaded.data);
  let version = loaded.version;
  const doc = clone(base);
  doc.theme = typeof doc.theme === "string" ? { preset: doc.theme } : doc.theme || {};
  doc.theme.colors = doc.theme.colors || {};
  doc.features = doc.features || {};
  doc.components = doc.components || [];
  const errors = h("div", { class: "error", id: "settings-errors", role: "alert" });
  const status = h("span", { class: "status", role: "status" });
  const field = (label, input, help) => h("div", {}, h("label", { for: input.id }, label, help ? h("p", { class: "help" }, help) : null), input);
  const name = h("input", { id: "f-name", value: doc.name || "", oninput: () => { doc.name = name.value; check(); } });
  const description = h("textarea", { id: "f-description", oninput: () => { doc.description = description.value; check(); } }, doc.description || "");
  const lines = (list) => (list || []).join("\n");
  const parseLines = (text) => text.split("\n").map((line) => line.trim()).filter(Boolean);
  const domains = h("textarea", { id: "f-domains", oninput: () => { doc.domains = parseLines(domains.value); check(); } }, lines(doc.domains));
  const aliases = h("textarea", { id: "f-aliases", oninput: () => { doc.aliases = parseLines(aliases.value); check(); } }, lines(doc.aliases));
  const soon = doc.published === false ? h("label", { class: "check" },
    h("input", { type: "checkbox", id: "f-coming-soon", checked: Boolean(doc.coming_soon), "aria-describedby": "f-coming-soon-help", onchange: (event) => {
      if (event.target.checked) doc.coming_soon = true;
      else delete doc.coming_soon;
      check();
    } }),
    h("span", {}, "Show a “coming soon” page until it is published", h("span", { class: "help", id: "f-coming-soon-help" }, "Not published yet. With its name, description and theme; otherwise its domains show no site."))) : null;
  const preset = h("select", { id: "f-preset", onchange: () => { doc.theme.preset = preset.value; showPreset(); check(); } },
    ["light", "dark"].map((value) => h("option", { value, selected: (doc.theme.preset || "light") === value }, value)));
  // Colours left on the preset show the preset's own colour, and follow the preset when it changes.
  const colors = h("div", { class: "colors" });
  const presetColours = [];
  const showPreset = () => presetColours.forEach((show) => show());
  const fonts = h("input", { id: "f-fonts", value: (doc.theme.fonts || []).join(", "), oninput: () => { doc.theme.fonts = fonts.value.split(",").map((f) => f.trim()).filter(Boolean); check(); } });
  const css = h("textarea", { id: "f-css", class: "code", oninput: () => { doc.theme.custom_css = css.value; check(); } }, doc.theme.custom_css || "");
  const themeAsset = (key, title, help) => h("div", {}, h("label", { for: `f-${key}` }, title, h("p", { class: "help" }, help)),
    assetPicker(`f-${key}`, doc.theme[key], (value) => {
      if (value) doc.theme[key] = value;
      else delete doc.theme[key];
      check();
    }));
  const featureBoxes = h("div", { class: "checks" });
  const componentBoxes = h("div", { class: "checks" });
  const pluginsBox = h("div", { class: "plugins-box" });
  let plugins = { showIssues: (issues) => issues };
  installedPlugins(api).then((installed) => {
    plugins = pluginsPanel({ h, propField, propSlot }, doc, installed, check);
    pluginsBox.replaceChildren(plugins.panel);
  });
  catalog().then(({ specs, features, colours, presets }) => {
    colors.replaceChildren(...colours.map((colour) => colourField(colour, doc, presets, presetColours, check)));
    showPreset();
    featureBoxes.replaceChildren(...features.map((feature) => h("label", { class: "check" },
      h("input", { type: "checkbox", id: `f-feature-${feature.name}`, checked: Boolean(doc.features[feature.name]), "aria-describedby": `f-feature-${feature.name}-help`,
        onchange: (event) => { doc.features[feature.name] = event.target.checked; check(); } }),
      h("span", {}, feature.title, h("span", { class: "help", id: `f-feature-${feature.name}-help` }, feature.help)))));
    componentBoxes.replaceChildren(...Object.values(specs).filter((spec) => spec.component).map((spec) => h("label", { class: "check" },
      h("input", { type: "checkbox", id: `f-component-${spec.type}`, checked: doc.components.includes(spec.type), "aria-describedby": `f-component-${spec.type}-help`,
        onchange: (event) => { doc.components = event.target.checked ? [...doc.components, spec.type] : doc.components.filter((c) => c !== spec.type); check(); } }),
      h("span", {}, spec.title, h("span", { class: "help", id: `f-component-${spec.type}-help` }, spec.description)))));
  });
  // A feature switched off while sections use it: say so in the operator's words, and offer the one-step way out.
  const showIssues = (found) => {
    const all = plugins.showIssues(found); // those about plugins are shown next to their fields
    // The component a switched-off feature leaves behind goes with its sections: one issue, one button.
    const off = all.map((issue) => /^features\.(\w+)$/.exec(issue.path || "")?.[1]).filter(Boolean);
    const issues = all.filter((issue) => !(issue.path.startsWith("components") && off.some((name) => issue.message.includes(`feature '${name}'`))));
    errors.replaceChildren(...issues.map((issue) => {
    const switched = /^features\.(\w+)$/.exec(issue.path || "");
    if (!switched) return h("p", {}, `${issue.path || "document"}: ${issue.message}`);
    const feature = state.catalog?.features.find((candidate) => candidate.name === switched[1]);
    return h("div", { class: "row" }, h("p", { class: "grow" }, `${feature?.title || switched[1]}: ${issue.message}`),
      h("button", { type: "button", class: "danger small", id: `remove-sections-${switched[1]}`, onclick: () => save(false, true) }, "Switch off and remove those sections"));
    }));
  };
  const check = debounce(async () => {
    const result = await api("POST", `/api/tenants/${id}/check`, { body: doc });
    const issues = result.ok ? result.data.issues : [{ path: "", message: problem(result) }];
    showIssues(issues);
    for (const input of [domains, aliases]) input.classList.toggle("invalid", issues.some((issue) => issue.path.startsWith(input.id.slice(2))));
    status.textContent = issues.length ? "" : "✓ valid, not saved";
  }, 300);
  async function save(overwrite = false, removeSections = false) {
    check.cancel(); // the save validates too; a later check must not overwrite its outcome
    const query = removeSections ? "?remove_sections=1" : "";
    const result = await api("PUT", `/api/tenants/${id}${query}`, { body: doc, ifMatch: version });
    if (result.ok) {
      base = clone(result.data);
      version = result.version;
      doc.pages = clone(result.data.pages);
      doc.components = [...(result.data.components || [])];
      showIssues([]);
      status.textContent = `saved as version ${version}`;
      return;
    }
    if (result.status === 409 && !overwrite) return conflict();
    if (result.data?.issues?.length) return showIssues(result.data.issues);
    errors.replaceChildren(h("p", {}, problem(result)));
  }
  async function conflict() {
    const current = await api("GET", `/api/tenants/${id}`);
    if (!current.ok) return errors.replaceChildren(h("p", {}, problem(current)));
    status.textContent = "not saved: someone else saved this tenant";
    const [theirs, yours] = await Promise.all([describeChanges(base, current.data), describeChanges(base, doc)]);
    const choice = await modal("Someone else saved this tenant",
      h("div", {}, h("p", {}, `Version ${current.version} was saved while you edited version ${version}. Their changes:`), theirs,
        h("p", {}, "Yours, not saved yet:"), yours,
        h("p", { class: "muted" }, "Reload to see theirs (your unsaved edits are dropped), or overwrite them with yours.")),
      [["Reload theirs", "reload"], ["Overwrite with mine", "overwrite", "danger"], ["Cancel", null, "ghost"]]);
    if (choice === "reload") return route();
    if (choice === "overwrite") {
      version = current.version;
      base = clone(current.data);
      return save(true);
    }
  }
  async function remove() {
    const typed = h("input", { id: "confirm-id", "aria-label": "Tenant id" });
    const effect = base.published === false ? "It was never published: nothing public changes, and its domains are free for another tenant." : "Its sites stop answering at once.";
    const choice = await modal(`Delete ${id}?`, h("div", {}, h("p", {}, `${effect} Its history is kept. Type the tenant's id to confirm.`), typed), [["Delete", "delete", "danger"], ["Cancel", null, "ghost"]]);
    if (choice !== "delete" || typed.value !== id) return;
    const result = await api("DELETE", `/api/tenants/${id}`, { ifMatch: version });
    if (result.ok) location.hash = "#/";
    else notice(problem(result), { error: true });
  }
  leave = onEvent((event) => {
    if (event.tenant === id && event.type !== "draft.saved") {
      ifStillNewer(event, () => version, () => notice(`Another admin saved version ${event.version} of this tenant.`, { actions: [h("button", { type: "button", class: "small", onclick: () => route() }, "Reload")] }));
    }
  });
  body.replaceChildren(h("div", { class: "grid2" },
    h("section", { class: "panel" }, h("h2", {}, "Site"), field("Name", name), field("Description", description),
      field("Domains", domains, "One per line; the first is canonical. *.example.com covers every subdomain."),
      field("Aliases", aliases, "One per line; they redirect to the first domain."), soon),
    h("section", { class: "panel" }, h("h2", {}, "Theme"), field("Preset", preset),
      themeAsset("logo", "Logo", "Shown in the navigation when its section names none."),
      themeAsset("favicon", "Favicon", "The icon browsers show in tabs; also served at /favicon.ico."),
      h("label", {}, "Colours"), colors,
      field("Fonts", fonts, "Comma-separated font families."), field("Custom CSS", css)),
    h("section", { class: "panel" }, h("h2", {}, "Features"), featureBoxes, h("h2", {}, "Components"), componentBoxes), pluginsBox),
  h("div", { class: "panel row spread" }, h("div", { class: "grow" }, errors, status),
    h("button", { type: "button", class: "danger", onclick: remove }, "Delete tenant"),
    h("button", { type: "button", id: "save-tenant", onclick: () => save() }, "Save")));
}

function colourField(colour, doc, presets, presetColours, changed) {
  const id = `f-color-${colour.name}`;
  const own = () => doc.theme.colors[colour.name];
  const note = h("span", { class: "muted" });
  const input = h("input", { type: "color", id, "aria-describedby": `${id}-note`, oninput: () => {
    doc.theme.colors[colour.name] = input.value;
    show();
    changed();
  } });
  const clear = h("button", { type: "button", class: "ghost small", title: `Use the preset's ${colour.title.toLowerCase()}`, "aria-label": `Use the preset's ${colour.title.toLowerCase()}`, onclick: () => {
    delete doc.theme.colors[colour.name];
    show();
    changed();
  } }, "×");
  function show() {
    const preset = presets[doc.theme.preset || "light"] || {};
    input.value = own() || preset[colour.name] || "#888888";
    note.textContent = own() ? "" : "(preset)";
    note.id = `${id}-note`;
    clear.hidden = !own();
  }
  presetColours.push(show);
  return h("label", { for: id, title: colour.help }, input, h("span", {}, colour.title), note, clear);
}

// -- what changed, in words -------------------------------------------------------------------------------------

// The server words every change list (history and conflicts alike): grouped by site, theme and page, with the
// defaults the forms fill in (features {}, a theme's preset) not counted as changes.
function changeList(summary) {
  if (!summary.length) return h("p", { class: "muted change-list" }, "No change that shows on the site.");
  return h("div", { class: "change-list" }, summary.map((group) => h("section", {},
    h("h3", {}, group.group), h("ul", {}, group.changes.map((line) => h("li", {}, line))))));
}

async function describeChanges(from, to) {
  const result = await api("POST", "/api/changes", { body: { from, to } });
  return result.ok ? changeList(result.data.summary) : h("p", { class: "error" }, problem(result));
}

// The JSON Pointer operations, for whoever wants them, behind a disclosure button.
function rawDiff(changes) {
  const lines = changes.map((c) => `${c.op.padEnd(7)} ${c.path || "/"}${"value" in c ? `  →  ${JSON.stringify(c.value).slice(0, 120)}` : ""}`);
  const raw = h("pre", { class: "changes raw-diff", id: "raw-diff", hidden: true }, lines.length ? lines.join("\n") : "(no change)");
  const toggle = h("button", { type: "button", class: "ghost small", "aria-expanded": "false", "aria-controls": "raw-diff", onclick: () => {
    raw.hidden = !raw.hidden;
    toggle.setAttribute("aria-expanded", String(!raw.hidden));
    toggle.textContent = raw.hidden ? "Show raw diff" : "Hide raw diff";
  } }, "Show raw diff");
  return h("div", { class: "raw" }, toggle, raw);
}

async function renderPages(id, loaded, body) {
  const pages = loaded.data.pages || { "/": [] };
  const drafts = await api("GET", `/api/tenants/${id}/drafts`);
  const drafted = new Set(drafts.ok ? drafts.data.drafts : []);
  const draftOnly = [...drafted].filter((key) => !(key in pages));
  const path = h("input", { id: "new-page", placeholder: "/about" });
  const error = h("p", { class: "error", role: "alert" });
  async function add() {
    const value = path.value.trim().startsWith("/") ? path.value.trim() : "/" + path.value.trim();
    // A new page is a draft: nothing is served at its path until the builder publishes it.
    const result = await api("PUT", `/api/tenants/${id}/drafts/${pageSegment(value)}`, { body: [{ type: "Hero", props: { title: value.slice(1) || "Home" } }] });
    if (result.ok) location.hash = `#/t/${id}/page/${pageSegment(value)}`;
    else error.textContent = problem(result);
  }
  async function remove(pagePathValue) {
    const choice = await modal(`Delete page ${pagePathValue}?`, h("p", {}, "It stops being served at once; the previous version stays in the history."), [["Delete", "delete", "danger"], ["Cancel", null, "ghost"]]);
    if (choice !== "delete") return;
    const result = await api("DELETE", `/api/tenants/${id}/pages/${pageSegment(pagePathValue)}`, { ifMatch: loaded.version });
    if (result.ok) route();
    else notice(problem(result), { error: true });
  }
  async function discard(draftPath) {
    const choice = await modal(`Discard the draft of ${draftPath}?`, h("p", {}, "It was never published; nothing public changes."), [["Discard", "discard", "danger"], ["Cancel", null, "ghost"]]);
    if (choice !== "discard") return;
    const result = await api("DELETE", `/api/tenants/${id}/drafts/${pageSegment(draftPath)}`);
    if (result.ok) route();
    else notice(problem(result), { error: true });
  }
  body.replaceChildren(h("div", { class: "panel" },
    loaded.data.published === false ? h("p", { class: "muted", id: "unpublished-note" }, `Not published yet: its domains show ${loaded.data.coming_soon ? "a “coming soon” page" : "no site"} until a page is published.`) : null,
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, "Path"), h("th", {}, "Sections"), h("th", {}, ""))),
      h("tbody", {}, Object.entries(pages).sort().map(([key, value]) => h("tr", {},
        h("td", {}, h("a", { href: `#/t/${id}/page/${pageSegment(key)}` }, key), drafted.has(key) ? h("span", { class: "muted" }, " (draft)") : null),
        h("td", {}, String((Array.isArray(value) ? value : value.sections || []).length)),
        h("td", {}, key === "/" ? h("span", { class: "muted" }, "home") : h("button", { type: "button", class: "ghost small", onclick: () => remove(key) }, "Delete")))),
      draftOnly.sort().map((key) => h("tr", { class: "draft-only" },
        h("td", {}, h("a", { href: `#/t/${id}/page/${pageSegment(key)}` }, key), h("span", { class: "muted" }, " (draft, not published)")),
        h("td", {}, ""),
        h("td", {}, h("button", { type: "button", class: "ghost small", onclick: () => discard(key) }, "Discard")))))),
    h("h2", {}, "Add a page"), h("div", { class: "row" }, h("div", { class: "grow" }, path), h("button", { type: "button", onclick: add }, "Add page")), error));
}

async function renderHistory(id, loaded, body) {
  const result = await api("GET", `/api/tenants/${id}/history?limit=50`);
  if (!result.ok) return body.replaceChildren(h("p", { class: "error" }, problem(result)));
  const records = result.data.records || [];
  if (!records.length) return body.replaceChildren(h("div", { class: "panel empty" }, "No versions published through the admin yet."));
  async function rollback(version) {
    const choice = await modal(`Roll back to version ${version}?`, h("p", {}, `Version ${version}'s content is published again as a new version; nothing is lost.`), [["Roll back", "go"], ["Cancel", null, "ghost"]]);
    if (choice !== "go") return;
    const done = await api("POST", `/api/tenants/${id}/rollback`, { body: { version }, ifMatch: loaded.version });
    if (done.ok) route();
    else notice(problem(done), { error: true });
  }
  body.replaceChildren(h("div", { class: "panel" }, h("table", {},
    h("thead", {}, h("tr", {}, h("th", {}, "Version"), h("th", {}, "Saved"), h("th", {}, "By"), h("th", {}, "Change"), h("th", {}, ""))),
    h("tbody", {}, records.map((record) => h("tr", {},
      h("td", {}, `v${record.version}`), h("td", {}, new Date(record.saved_at).toLocaleString()), h("td", {}, record.by), h("td", {}, record.action),
      h("td", { class: "row" },
        previous(record.version) ? h("button", { type: "button", class: "ghost small", onclick: () => changes(previous(record.version), record.version) }, "Changes") : null,
        record.version === loaded.version ? h("span", { class: "badge" }, "live") : h("button", { type: "button", class: "ghost small", onclick: () => rollback(record.version) }, "Roll back"))))))));
  function previous(version) {
    return result.data.versions.find((candidate) => candidate < version);
  }
  async function changes(from, to) {
    const diff = await api("GET", `/api/tenants/${id}/diff?from=${from}&to=${to}`);
    const shown = diff.ok ? h("div", {}, changeList(diff.data.summary), rawDiff(diff.data.changes)) : h("p", { class: "error" }, problem(diff));
    await modal(`Changes from version ${from} to ${to}`, shown, [["Close", null]]);
  }
}

// -- posts --------------------------------------------------------------------------------------------------------

async function renderPosts(id, body) {
  const result = await api("GET", `/api/tenants/${id}/posts?limit=100`);
  if (!result.ok) return body.replaceChildren(h("div", { class: "panel empty" }, problem(result)));
  const items = result.data.items;
  async function edit(post) {
    const fields = {
      slug: h("input", { id: "post-slug", value: post?.slug || "", disabled: Boolean(post) }),
      title: h("input", { id: "post-title", value: post?.title || "" }),
      excerpt: h("input", { id: "post-excerpt", value: post?.excerpt || "" }),
      author: h("input", { id: "post-author", value: post?.author || "" }),
      tags: h("input", { id: "post-tags", value: (post?.tags || []).join(", ") }),
      body_format: h("select", { id: "post-format" }, ["markdown", "html"].map((value) => h("option", { value, selected: (post?.body_format || "markdown") === value }, value))),
      body: h("textarea", { id: "post-body", class: "code" }, post?.body || ""),
      status: h("select", { id: "post-status" }, ["draft", "published"].map((value) => h("option", { value, selected: (post?.status || "draft") === value }, value))),
    };
    const error = h("div", { class: "error", role: "alert" });
    const form = h("div", {}, ...Object.entries(fields).map(([key, input]) => h("div", {}, h("label", { for: input.id }, key.replace("_", " ")), input)), error);
    for (;;) {
      const choice = await modal(post ? `Edit ${post.slug}` : "New post", form, [["Save", "save"], ["Cancel", null, "ghost"]]);
      if (!choice) return;
      const value = {
        slug: fields.slug.value.trim(), title: fields.title.value, excerpt: fields.excerpt.value, author: fields.author.value,
        tags: fields.tags.value.split(",").map((tag) => tag.trim()).filter(Boolean), body_format: fields.body_format.value,
        body: fields.body.value, status: fields.status.value,
      };
      if (post?.published_at) value.published_at = post.published_at;
      const saved = post
        ? await api("PUT", `/api/tenants/${id}/posts/${post.slug}`, { body: value, ifMatch: post.version })
        : await api("POST", `/api/tenants/${id}/posts`, { body: value });
      if (saved.ok) return route();
      error.replaceChildren(...(saved.data?.issues || [{ path: "", message: problem(saved) }]).map((issue) => h("p", {}, `${issue.path || "post"}: ${issue.message}`)));
    }
  }
  async function remove(post) {
    const choice = await modal(`Delete ${post.slug}?`, h("p", {}, "The post disappears from the blog at once."), [["Delete", "delete", "danger"], ["Cancel", null, "ghost"]]);
    if (choice !== "delete") return;
    const done = await api("DELETE", `/api/tenants/${id}/posts/${post.slug}`, { ifMatch: post.version });
    if (done.ok) route();
    else notice(problem(done), { error: true });
  }
  body.replaceChildren(h("div", { class: "panel" },
    h("div", { class: "row spread" }, h("h2", {}, `${result.data.total} post${result.data.total === 1 ? "" : "s"}`), h("button", { type: "button", id: "new-post", onclick: () => edit(null) }, "New post")),
    items.length ? h("table", {},
      h("thead", {}, h("tr", {}, h("th", {}, "Title"), h("th", {}, "Status"), h("th", {}, "Updated"), h("th", {}, ""))),
      h("tbody", {}, items.map((post) => h("tr", {},
        h("td", {}, h("button", { type: "button", class: "name ghost small", onclick: () => edit(post) }, post.title), h("div", { class: "muted" }, `/blog/${post.slug}`)),
        h("td", {}, h("span", { class: "badge" }, post.status)),
        h("td", {}, new Date(post.updated_at).toLocaleString()),
        h("td", {}, h("button", { type: "button", class: "ghost small", onclick: () => remove(post) }, "Delete"))))))
      : h("div", { class: "empty" }, "No posts yet: write the first one.")));
}

// -- assets --------------------------------------------------------------------------------------------------------

// The admin host's copy of an asset (the tenant's domains serve it at /_edge/media/{id}, the admin host is none of
// them), or null for any other value: a path on the tenant's domains, or a URL elsewhere that the dashboard does
// not fetch (half a typed URL is no image, and the operator's browser has no business calling other hosts).
function assetImage(tenant, value) {
  if (typeof value !== "string") return null;
  if (value.startsWith("asset:")) return `/preview/${encodeURIComponent(tenant)}/_edge/media/${value.slice(6)}`;
  return value.startsWith("/_edge/media/") ? `/preview/${encodeURIComponent(tenant)}${value}` : null;
}

function bytes(size) {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

// fetch reports no upload progress; XMLHttpRequest does.
function uploadAsset(tenant, file, progress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/tenants/${encodeURIComponent(tenant)}/assets`);
    xhr.setRequestHeader("x-csrf-token", cookie("tenantedge_csrf") || state.session?.csrf || "");
    xhr.upload.addEventListener("progress", (event) => event.lengthComputable && progress(event.loaded / event.total));
    xhr.addEventListener("load", () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = { detail: xhr.responseText };
      }
      resolve({ status: xhr.status, ok: xhr.status >= 200 && xhr.status < 300, data });
    });
    xhr.addEventListener("error", () => resolve({ status: 0, ok: false, data: { detail: "the server cannot be reached" } }));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

// Each file as a row of `list`: its name, a progress bar, then what became of it, in words that are also announced.
async function uploadFiles(tenant, files, list, announce) {
  const done = await Promise.all([...files].map(async (file) => {
    const bar = h("progress", { max: "1", value: "0", "aria-label": `Uploading ${file.name}` });
    const outcome = h("span", { class: "muted" }, "uploading…");
    list.append(h("li", { class: "upload", "data-file": file.name }, h("strong", {}, file.name), h("span", { class: "muted" }, bytes(file.size)), bar, outcome));
    const result = await uploadAsset(tenant, file, (part) => (bar.value = part));
    bar.value = 1;
    if (result.ok) {
      outcome.textContent = result.status === 201 ? "uploaded" : "already in the library";
      outcome.className = "ok-text";
    } else {
      outcome.textContent = `not uploaded: ${problem(result)}`;
      outcome.className = "error";
    }
    return { file, result };
  }));
  announce(done.map(({ file, result }) => (result.ok ? `${file.name} uploaded.` : `${file.name} not uploaded: ${problem(result)}.`)).join(" "));
  return done;
}

async function renderAssets(id, body) {
  const announce = h("p", { class: "status", role: "status", id: "assets-status" });
  const say = (text) => (announce.textContent = text);
  const uploads = h("ul", { class: "uploads", id: "uploads", "aria-label": "Uploads" });
  const grid = h("ul", { class: "asset-grid", id: "asset-grid", "aria-label": "Assets" });
  const quota = h("meter", { id: "quota", min: "0", max: "1", value: "0", "aria-describedby": "quota-text" });
  const quotaText = h("span", { id: "quota-text", class: "muted" });
  const input = h("input", { type: "file", id: "asset-file", class: "sr-only", multiple: true, accept: "image/*,.svg,.ico,.woff,.woff2", onchange: () => {
    send(input.files);
    input.value = "";
  } });
  const drop = h("div", { class: "drop", id: "drop-zone" },
    h("p", {}, "Drop images, icons or fonts here, or"), input, h("label", { for: "asset-file", class: "button" }, "Choose files…"),
    h("p", { class: "help" }, "PNG, JPEG, GIF, WebP, AVIF, ICO, SVG, WOFF2 or WOFF; the type is told by the file's bytes."));
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files.length) send(event.dataTransfer.files);
  });
  async function send(files) {
    if (!files.length) return;
    say(`Uploading ${files.length} file${files.length === 1 ? "" : "s"}…`);
    await uploadFiles(id, files, uploads, say);
    load();
  }
  async function remove(asset, error) {
    const choice = await modal(`Delete ${asset.name}?`, h("p", {}, "It disappears from the library and its URL stops answering. Pages that use it must stop first."), [["Delete", "delete", "danger"], ["Cancel", null, "ghost"]]);
    if (choice !== "delete") return;
    const result = await api("DELETE", `/api/tenants/${id}/assets/${asset.id}`);
    if (result.ok) {
      say(`${asset.name} deleted.`);
      return load();
    }
    // The server's 409 names the places in use now (the card may be older): say those, without the long id.
    const where = /in use \(([^)]*)\)/.exec(result.data?.detail || "")?.[1];
    error.textContent = result.status === 409 && where ? `Not deleted: in use (${where}); stop using it there first.` : `Not deleted: ${problem(result)}`;
    say(`${asset.name} not deleted. ${error.textContent}`);
  }
  async function copy(asset) {
    try {
      await navigator.clipboard.writeText(asset.reference);
      say(`Copied ${asset.reference}`);
    } catch {
      // No clipboard (an insecure origin, or permission refused): show it to copy by hand.
      const shown = h("input", { readonly: true, value: asset.reference, "aria-label": "Reference" });
      await modal(`Reference of ${asset.name}`, h("div", {}, h("p", {}, "Copy it into a document:"), shown), [["Close", null]]);
    }
  }
  function card(asset) {
    const src = asset.content_type.startsWith("image/") ? assetImage(id, asset.reference) : null;
    const error = h("p", { class: "error", role: "alert" });
    const kind = asset.content_type.split("/")[1].replace(/^x-/, "").replace("+xml", "").toUpperCase();
    return h("li", { class: "asset-card", "data-asset": asset.id },
      h("div", { class: "thumb" }, src ? h("img", { src, alt: "", loading: "lazy" }) : h("span", { class: "kind" }, kind)),
      h("strong", { class: "asset-name", title: asset.name }, asset.name),
      h("span", { class: "muted" }, [kind, bytes(asset.size), asset.width ? `${asset.width}×${asset.height}` : null].filter(Boolean).join(" · ")),
      h("span", { class: "muted used-in" }, asset.used_in.length ? `Used in ${asset.used_in.join(", ")}` : "Not used"),
      h("div", { class: "row" },
        h("button", { type: "button", class: "ghost small", "aria-label": `Copy the reference of ${asset.name}`, onclick: () => copy(asset) }, "Copy reference"),
        h("button", { type: "button", class: "ghost small", "aria-label": `Delete ${asset.name}`, onclick: () => remove(asset, error) }, "Delete")),
      error);
  }
  async function load() {
    const result = await api("GET", `/api/tenants/${id}/assets`);
    if (!result.ok) return grid.replaceChildren(h("li", { class: "error" }, problem(result)));
    const { items, used_bytes: used, quota_bytes: limit } = result.data;
    quota.max = String(limit || 1);
    quota.value = String(used);
    quota.high = String(limit * 0.9);
    quotaText.textContent = `${bytes(used)} of ${bytes(limit)} used`;
    grid.replaceChildren(...(items.length ? items.map(card) : [h("li", { class: "empty" }, "No assets yet: drop the first one above.")]));
  }
  const reload = debounce(load, 150);
  leave = onEvent((event) => event.tenant === id && (event.type.startsWith("asset.") || event.type === "tenant.updated" || event.type === "page.published") && reload());
  body.replaceChildren(h("div", { class: "panel" },
    h("div", { class: "row spread" }, h("h2", {}, "Asset library"), h("div", { class: "row" }, h("label", { for: "quota" }, "Storage"), quota, quotaText)),
    drop, uploads, announce, grid));
  load();
}

// An image field: a thumbnail of its value, the library to choose from, an upload in place, or a plain URL.
// `set` gets each new value; the field updates itself, so a form around it is never rebuilt.
function assetPicker(inputId, current, set) {
  const tenant = state.tenant;
  const thumb = h("img", { class: "picker-thumb", alt: "" });
  const none = h("span", { class: "picker-thumb kind", "aria-hidden": "true" });
  const input = h("input", { id: inputId, type: "text", inputmode: "url", value: current ?? "", placeholder: "https://…, /… or an asset", oninput: () => {
    show();
    set(input.value);
  } });
  const uploads = h("ul", { class: "uploads" });
  const announce = h("span", { class: "picker-status muted", role: "status" });
  const file = h("input", { type: "file", class: "sr-only", id: `${inputId}-file`, tabindex: "-1", "aria-hidden": "true", accept: "image/*,.svg,.ico", onchange: async () => {
    const [done] = await uploadFiles(tenant, file.files, uploads, (text) => (announce.textContent = text));
    file.value = "";
    if (done?.result.ok) use(done.result.data.reference, upload);
  } });
  const choose = h("button", { type: "button", class: "ghost small", id: `${inputId}-choose`, onclick: pick }, "Choose from library");
  const upload = h("button", { type: "button", class: "ghost small", id: `${inputId}-upload`, onclick: () => file.click() }, "Upload…");
  function show() {
    const src = assetImage(tenant, input.value);
    thumb.hidden = !src;
    none.hidden = Boolean(src);
    none.textContent = input.value ? "URL" : "—";
    if (src) thumb.src = src;
    else thumb.removeAttribute("src");
  }
  function use(value, focus) {
    input.value = value;
    show();
    set(value);
    focus.focus();
  }
  async function pick() {
    const result = await api("GET", `/api/tenants/${tenant}/assets`);
    const images = result.ok ? result.data.items.filter((asset) => asset.content_type.startsWith("image/")) : [];
    const chosen = await modal("Choose an image", (close) => (images.length
      ? h("ul", { class: "asset-grid chooser", "aria-label": "Images in the library" }, images.map((asset) => h("li", {},
        h("button", { type: "button", class: "choice", "data-asset": asset.id, "aria-pressed": String(input.value === asset.reference), onclick: () => close(asset.reference) },
          h("img", { src: assetImage(tenant, asset.reference), alt: "" }), h("span", {}, asset.name),
          h("span", { class: "muted" }, asset.width ? `${asset.width}×${asset.height}` : bytes(asset.size))))))
      : h("p", { class: "empty" }, result.ok ? "No images in the library yet: upload one." : problem(result))), [["Cancel", null, "ghost"]]);
    if (chosen) use(chosen, choose);
    else choose.focus();
  }
  show();
  return h("div", { class: "picker" },
    h("div", { class: "row" }, thumb, none, h("div", { class: "grow" }, input)),
    h("div", { class: "row" }, choose, upload, file, announce), uploads);
}

// -- the page builder --------------------------------------------------------------------------------------------

const DEVICES = { desktop: 1280, tablet: 820, mobile: 390 };
const FIELD_BURST_MS = 1200; // keystrokes closer together than this are one undo step

// A prop's starting value, built from its schema: what the form shows and what a new section or list item holds.
function defaultOf(prop) {
  if (prop.default !== undefined) return clone(prop.default);
  if (prop.type === "list") return [];
  if (prop.type === "object") return defaultProps(prop.props || {});
  if (prop.type === "boolean") return false;
  if (prop.type === "enum") return prop.choices[0];
  return prop.type === "integer" || prop.type === "number" ? (prop.min ?? 0) : "";
}

function defaultProps(props) {
  return Object.fromEntries(Object.entries(props).filter(([, prop]) => prop.default !== undefined).map(([name, prop]) => [name, clone(prop.default)]));
}

async function renderBuilder(id, path) {
  crumbs(["Tenants", "#/"], [id, `#/t/${id}/pages`], [path]);
  state.tenant = id;
  const [tenant, specs, installed, drafts] = await Promise.all([api("GET", `/api/tenants/${id}`), tenantSections(id), installedPlugins(api), api("GET", `/api/tenants/${id}/drafts`)]);
  const hasDraft = drafts.ok && drafts.data.drafts.includes(path);
  const draft = hasDraft ? await api("GET", `/api/tenants/${id}/drafts/${pageSegment(path)}`) : { ok: false };
  if (!tenant.ok) return main.replaceChildren(h("div", { class: "panel empty" }, problem(tenant)));
  let version = tenant.version;
  let base = tenant.data; // the tenant as this builder last saw it published: what a conflict compares with
  const published = (tenant.data.pages || {})[path];
  const source = draft.ok ? draft.data.page : published || [];
  // Everything of the page but its sections (title, description, experiments) goes back as it came.
  const wrapper = Array.isArray(source) ? null : Object.fromEntries(Object.entries(source).filter(([key]) => key !== "sections"));
  let page = clone(Array.isArray(source) ? source : source.sections || []);
  let selected = page.length ? 0 : -1;
  let errors = new Map(); // section (the object, so a moved section keeps its own) -> [{prop, message}] from the last refused draft
  const undo = [];
  const redo = [];
  let before = clone(page); // the page as the last undo step left it
  let burst = null; // the field being typed in, while its keystrokes still join one undo step
  let burstTimer = null;
  const fieldErrors = new Map(); // prop name -> its error line in the open form, updated in place after a save
  const features = tenant.data.features || {};
  const components = tenant.data.components || [];
  const usable = Object.values(specs).filter((spec) => (!spec.feature || features[spec.feature]) && (!spec.component || components.includes(spec.type)));
  const list = h("ol", { class: "sections", id: "sections", "aria-label": "Sections of the page" });
  const form = h("div", { id: "props" });
  const formIssues = h("div");
  const status = h("span", { class: "status", id: "draft-status", role: "status", "aria-live": "polite" }, draft.ok ? "draft loaded" : "published version");
  const frame = h("iframe", { class: "preview-frame", title: "Preview of the draft", id: "preview" });
  const pane = h("div", { class: "preview-pane", id: "preview-pane" }, frame);
  let device = "desktop";
  const undoButton = h("button", { type: "button", class: "ghost small", onclick: () => history(undo, redo) }, "Undo");
  const redoButton = h("button", { type: "button", class: "ghost small", onclick: () => history(redo, undo) }, "Redo");
  const publishButton = h("button", { type: "button", id: "publish", onclick: publish }, "Publish");

  function value() {
    return wrapper ? { ...wrapper, sections: page } : page;
  }
  function step() {
    undo.push(before);
    if (undo.length > 100) undo.shift();
    redo.length = 0;
  }
  function endBurst() {
    clearTimeout(burstTimer);
    burst = null;
  }
  function change(mutate) {
    endBurst();
    step();
    mutate();
    before = clone(page);
    draw();
    saveDraft();
  }
  // A field's edit: the form stays as it is (it already shows the edit); one burst of typing is one undo step.
  function edited(key) {
    if (burst !== key) step();
    burst = key;
    clearTimeout(burstTimer);
    burstTimer = setTimeout(endBurst, FIELD_BURST_MS);
    before = clone(page);
    drawList();
    saveDraft();
  }
  function history(from, to) {
    if (!from.length) return;
    endBurst();
    to.push(clone(page));
    page = from.pop();
    before = clone(page);
    selected = Math.min(Math.max(selected, 0), page.length - 1);
    draw();
    saveDraft();
  }
  function say(text, className = "status") {
    status.textContent = text;
    status.className = className;
  }
  // One save at a time; edits made while it is in flight are sent by the next one, so no keystroke is lost.
  let saving = null;
  let again = false;
  async function save() {
    if (saving) {
      again = true;
      return saving;
    }
    again = false;
    say("saving draft…");
    saving = api("PUT", `/api/tenants/${id}/drafts/${pageSegment(path)}`, { body: clone(value()) });
    const result = await saving;
    saving = null;
    if (again) return save();
    errors = new Map();
    if (result.ok) {
      say("draft saved", "status ok-text");
      refreshPreview();
    } else {
      // Place what the server found next to the section and field it belongs to.
      for (const issue of result.data?.issues || []) {
        const found = /\[(\d+)\](?:\.props\.([A-Za-z_]+)(.*))?/.exec(issue.path.replace(/^pages\[[^\]]*\](\.sections)?/, ""));
        const where = found?.[3] ? `${found[3].replace(/^\./, "")}: ` : "";
        const section = found && page[Number(found[1])];
        if (section) errors.set(section, [...(errors.get(section) || []), { prop: found[2], message: where + issue.message }]);
      }
      say(errors.size ? "not saved: fix the marked sections" : `not saved: ${problem(result)}`, "status error");
    }
    drawList();
    showErrors();
  }
  const saveDraft = debounce(save, 500);
  saveDraft.flush = async () => {
    saveDraft.cancel();
    await save();
    while (saving) await saving;
  };
  // Our own save and its draft.saved event both ask for a reload: one load answers both.
  function loadPreview() {
    frame.src = `/preview/${id}/${pageSegment(path)}?at=${Date.now()}`;
  }
  const refreshPreview = debounce(loadPreview, 200);
  // The preview renders at the device's real CSS width and is scaled down to fit the pane.
  function fitPreview() {
    const width = DEVICES[device];
    const room = pane.clientWidth || width;
    const scale = Math.min(1, room / (width + 2)); // the frame's 1 px border on each side is scaled too
    const height = Math.round(Math.max(480, window.innerHeight * 0.7) / scale);
    frame.style.width = `${width}px`;
    frame.style.height = `${height}px`;
    frame.style.transform = `scale(${scale})`;
    frame.style.left = `${Math.max(0, (room - (width + 2) * scale) / 2)}px`;
    pane.style.height = `${Math.ceil(height * scale)}px`;
  }
  new ResizeObserver(fitPreview).observe(pane);
  async function publish() {
    await saveDraft.flush();
    const result = await api("POST", `/api/tenants/${id}/publish/${pageSegment(path)}`, { ifMatch: version });
    if (result.ok) {
      version = result.version;
      base = result.data;
      say(`published as version ${version}`, "status ok-text");
      return;
    }
    if (result.status === 409) {
      say("not published: another admin published first", "status error");
      return conflict();
    }
    say(`not published: ${problem(result)}`, "status error");
    notice(problem(result), { error: true });
  }
  async function conflict() {
    const current = await api("GET", `/api/tenants/${id}`);
    if (!current.ok) return notice(problem(current), { error: true });
    const choice = await modal("Someone else published this tenant",
      h("div", {}, h("p", {}, `Version ${current.version} was published while you edited version ${version}. Their changes:`),
        await describeChanges(base, current.data),
        h("p", { class: "muted" }, `Your draft of ${path} is kept. Reload to build on theirs, or publish yours: page ${path} becomes your draft, their other changes stay.`)),
      [["Reload", "reload"], ["Publish mine", "publish", "danger"], ["Cancel", null, "ghost"]]);
    if (choice === "reload") return route();
    if (choice === "publish") {
      version = current.version;
      base = current.data;
      return publish();
    }
  }
  function move(from, to) {
    if (to < 0 || to >= page.length || from === to) return;
    change(() => {
      const [item] = page.splice(from, 1);
      page.splice(to, 0, item);
      selected = to;
    });
  }
  function add(type, at = page.length) {
    const spec = specs[type];
    change(() => {
      page.splice(at, 0, { type, props: defaultProps(spec?.props || {}) });
      selected = at;
    });
  }
  // What a drop carries: a section of the list being moved ("3") or a new one from the palette ("new:Hero").
  function dropped(event, at) {
    event.preventDefault();
    const data = event.dataTransfer.getData("text/plain");
    if (data.startsWith("new:")) return add(data.slice(4), at);
    const from = Number(data);
    if (Number.isInteger(from)) move(from, from < at ? at - 1 : at);
  }
  function drawList() {
    undoButton.disabled = !undo.length;
    redoButton.disabled = !redo.length;
    list.replaceChildren(...page.map((section, index) => {
      const spec = specs[section.type] || { title: section.type, variants: { default: "" } };
      const item = h("li", { class: `section-item${index === selected ? " selected" : ""}${errors.has(section) ? " has-error" : ""}`, draggable: "true", "data-index": String(index), "data-type": section.type },
        h("span", { class: "handle", "aria-hidden": "true" }, "⠿"),
        h("button", { type: "button", class: "name", title: spec.title, onclick: () => { selected = index; endBurst(); draw(); } }, spec.title, section.variant && section.variant !== "default" ? ` · ${section.variant}` : ""),
        h("button", { type: "button", class: "ghost small", "aria-label": `Move ${spec.title} up`, disabled: index === 0, onclick: () => move(index, index - 1) }, "↑"),
        h("button", { type: "button", class: "ghost small", "aria-label": `Move ${spec.title} down`, disabled: index === page.length - 1, onclick: () => move(index, index + 1) }, "↓"),
        h("button", { type: "button", class: "ghost small", "aria-label": `Duplicate ${spec.title}`, onclick: () => change(() => { page.splice(index + 1, 0, clone(section)); selected = index + 1; }) }, "Copy"),
        h("button", { type: "button", class: "ghost small", "aria-label": `Remove ${spec.title}`, onclick: () => change(() => { page.splice(index, 1); selected = Math.min(selected, page.length - 1); }) }, "✕"));
      item.addEventListener("dragstart", (event) => {
        event.dataTransfer.setData("text/plain", String(index));
        event.dataTransfer.effectAllowed = "move";
        item.classList.add("dragging");
      });
      item.addEventListener("dragend", () => item.classList.remove("dragging"));
      item.addEventListener("dragover", (event) => {
        event.preventDefault();
        event.stopPropagation();
        item.classList.add("drop-before");
      });
      item.addEventListener("dragleave", () => item.classList.remove("drop-before"));
      item.addEventListener("drop", (event) => {
        event.stopPropagation();
        dropped(event, index + (event.offsetY > item.offsetHeight / 2 ? 1 : 0));
      });
      return item;
    }));
    if (!page.length) list.replaceChildren(h("li", { class: "empty" }, "No sections yet: add one from the palette."));
  }
  function draw() {
    drawList();
    drawForm();
  }
  function showErrors() {
    const found = errors.get(page[selected]) || [];
    formIssues.replaceChildren(...found.filter((issue) => !issue.prop).map((issue) => h("p", { class: "error", role: "alert" }, issue.message)));
    for (const [name, line] of fieldErrors) line.textContent = found.filter((issue) => issue.prop === name).map((issue) => issue.message).join("; ");
  }
  function drawForm() {
    // Keep the caret where it was when the form is rebuilt (undo, redo, a variant change).
    const active = form.contains(document.activeElement) ? document.activeElement : null;
    const caret = active && "selectionStart" in active ? [active.id, active.selectionStart, active.selectionEnd] : [active?.id];
    fieldErrors.clear();
    const section = page[selected];
    if (!section) return form.replaceChildren(h("p", { class: "muted" }, "Select a section to edit its settings."));
    const spec = specs[section.type];
    if (!spec) return form.replaceChildren(h("p", { class: "error" }, missingSection(section.type, tenant.data.plugins || {}, installed)));
    section.props = section.props || {};
    const variant = h("select", { id: "variant", onchange: () => change(() => { section.variant = variant.value === "default" ? undefined : variant.value; }) },
      Object.entries(spec.variants).map(([key, text]) => h("option", { value: key, selected: (section.variant || "default") === key }, `${key} — ${text}`)));
    form.replaceChildren(h("h2", {}, spec.title), h("p", { class: "muted" }, spec.description), formIssues,
      h("label", { for: "variant" }, "Variant"), variant,
      ...Object.entries(spec.props).map(([name, prop]) => {
        const line = h("p", { class: "error", role: "alert" });
        fieldErrors.set(name, line);
        return propField(`p-${name}`, prop.label || name, prop, propSlot(section.props, name, prop), edited, line);
      }));
    showErrors();
    const again = caret[0] && document.getElementById(caret[0]);
    if (again && form.contains(again)) {
      again.focus();
      if (caret.length === 3 && "setSelectionRange" in again) {
        try {
          again.setSelectionRange(caret[1], caret[2]);
        } catch {
          // number inputs have no caret to restore
        }
      }
    }
  }
  draw();
  loadPreview();
  main.replaceChildren(
    h("div", { class: "row spread" }, h("h1", {}, `${tenant.data.name || id} — page ${path}`),
      h("div", { class: "row" }, undoButton, redoButton, status, publishButton)),
    h("div", { class: "builder" },
      h("section", { class: "panel" }, h("h2", {}, "Sections"), list, h("h2", {}, "Add a section"),
        palette({ h }, usable, tenant.data.plugins || {}, installed, (spec) => {
          const button = h("button", { type: "button", draggable: "true", "data-type": spec.type, title: spec.description, onclick: () => add(spec.type) }, `+ ${spec.title}`);
          button.addEventListener("dragstart", (event) => {
            event.dataTransfer.setData("text/plain", `new:${spec.type}`);
            event.dataTransfer.effectAllowed = "copy";
          });
          return button;
        })),
      h("section", { class: "panel" }, form),
      h("section", { class: "panel" }, h("div", { class: "row spread" }, h("h2", {}, "Preview (draft)"),
        h("div", { class: "row", role: "group", "aria-label": "Preview width" }, Object.keys(DEVICES).map((name) => h("button", { type: "button", class: "ghost small", "data-device": name, "aria-pressed": String(name === device), onclick: (event) => {
          device = name;
          for (const other of event.target.parentNode.children) other.setAttribute("aria-pressed", String(other === event.target));
          fitPreview();
        } }, name)))), pane)));
  fitPreview();
  // Dropping below the last section (or onto an empty page) appends.
  list.addEventListener("dragover", (event) => event.preventDefault());
  list.addEventListener("drop", (event) => dropped(event, page.length));
  leave = onEvent((event) => {
    if (event.tenant !== id) return;
    if ((event.type === "page.published" && event.path === path) || event.type === "tenant.updated") {
      ifStillNewer(event, () => version, () => notice(`Another admin published version ${event.version} of this tenant while you were editing.`, { actions: [h("button", { type: "button", class: "small", id: "reload-notice", onclick: () => route() }, "Reload")] }));
    }
    if (event.type === "draft.saved" && event.path === path) refreshPreview();
  });
}

// Where one value of the form lives: read and write it without rebuilding the form around it.
function propSlot(target, key, prop) {
  return {
    key,
    get: () => target[key] ?? (prop.type === "list" || prop.type === "object" ? defaultOf(prop) : prop.default),
    set: (value) => {
      if (value === undefined || (value === "" && typeof key === "string")) delete target[key];
      else target[key] = value;
    },
  };
}

// One form field generated from a prop schema (see tenantedge/props.py); lists and objects nest.
function propField(id, title, prop, slot, edited, error) {
  const label = h("label", { for: id }, title, prop.help ? h("p", { class: "help" }, prop.help) : null);
  error = error || h("p", { class: "error", role: "alert" });
  const current = slot.get();
  const pattern = prop.pattern ? wholeMatch(prop.pattern) : null;
  const validate = (value) => {
    let message = "";
    if (prop.required && (value === "" || value === undefined)) message = "Required.";
    else if (typeof value === "string" && prop.maxLength && value.length > prop.maxLength) message = `At most ${prop.maxLength} characters.`;
    else if (typeof value === "string" && value && pattern && !pattern.test(value)) message = "Not in the form this field expects.";
    else if (typeof value === "number" && ((prop.min !== undefined && value < prop.min) || (prop.max !== undefined && value > prop.max))) message = `Between ${prop.min ?? "…"} and ${prop.max ?? "…"}.`;
    else if (prop.type === "url" && value && !/^(https?:\/\/|\/|#|mailto:|tel:)/.test(value)) message = "Expected a link starting with https://, / or #.";
    else if (prop.type === "image" && value && !/^(https?:\/\/|\/|asset:)/.test(value)) message = "Expected an asset from the library, or a link starting with https:// or /.";
    else if (prop.type === "color" && value && !/^#[0-9a-fA-F]{6}$/.test(value)) message = "Expected a colour like #336699.";
    error.textContent = message;
    input?.setCustomValidity?.(message);
  };
  // Every keystroke lands in the page at once; only the save waits, so nothing typed is ever dropped.
  const set = (value) => {
    validate(value);
    slot.set(value);
    edited(id);
  };
  let input;
  switch (prop.type) {
    case "text":
    case "richtext":
      input = h("textarea", { id, oninput: () => set(input.value) }, current ?? "");
      break;
    case "integer":
    case "number":
      input = h("input", { id, type: "number", value: current ?? "", min: prop.min, max: prop.max, step: prop.type === "integer" ? 1 : "any", oninput: () => set(input.value === "" ? undefined : Number(input.value)) });
      break;
    case "boolean":
      input = h("input", { id, type: "checkbox", checked: current, onchange: () => set(input.checked) });
      break;
    case "enum":
      input = h("select", { id, onchange: () => set(input.value) }, prop.choices.map((choice) => h("option", { value: choice, selected: current === choice }, choice)));
      break;
    case "color":
      input = h("input", { id, type: "color", value: current || "#000000", oninput: () => set(input.value) });
      break;
    case "image":
      return h("div", {}, label, assetPicker(id, current, set), error);
    case "list":
      return listField(id, prop, slot, edited, label, error);
    case "object": {
      // Stored only once edited, so opening the form never changes the page.
      const object = current && typeof current === "object" && !Array.isArray(current) ? current : {};
      const claim = (key) => {
        slot.set(object);
        edited(key);
      };
      return h("fieldset", { id, class: "object-field" }, h("legend", {}, title), error,
        ...Object.entries(prop.props || {}).map(([key, child]) => propField(`${id}-${key}`, child.label || key, child, propSlot(object, key, child), claim)));
    }
    default:
      input = h("input", { id, type: prop.type === "url" ? "url" : "text", value: current ?? "", pattern: pattern && browserPattern(prop.pattern), oninput: () => set(input.value) });
  }
  return h("div", {}, label, input, error);
}

// A prop's `pattern` is a Python regular expression matched against the whole value; most read the same in JavaScript.
function wholeMatch(pattern) {
  try {
    return new RegExp(`^(?:${pattern})$`, "u");
  } catch {
    return null; // the server still checks it
  }
}

// The input's own pattern attribute, where the browser can compile it (it uses the stricter `v` flag), so the
// field is :invalid as it is typed; otherwise the field relies on the check above and the server's.
function browserPattern(pattern) {
  try {
    new RegExp(`^(?:${pattern})$`, "v");
    return pattern;
  } catch {
    return null;
  }
}

function listField(id, prop, slot, edited, label, error) {
  const itemSpec = prop.items || { type: "string" };
  const itemLabel = itemSpec.label || "Item";
  const box = h("div", { id });
  const found = slot.get();
  // The list is stored only once edited (so opening the form never changes the page), then edited in place.
  const values = Array.isArray(found) ? found : [];
  const claim = (key) => {
    // An emptied list with no default is the same as no list: leave it out rather than store [].
    slot.set(values.length || prop.default !== undefined ? values : undefined);
    edited(key);
  };
  function draw() {
    box.replaceChildren(...values.map((item, index) => {
      const itemSlot = { key: index, get: () => values[index], set: (value) => { values[index] = value ?? ""; } };
      const heading = h("div", { class: "row spread" }, h("strong", {}, `${itemLabel} ${index + 1}`),
        h("button", { type: "button", class: "ghost small", "aria-label": `Remove ${itemLabel.toLowerCase()} ${index + 1}`, onclick: () => { values.splice(index, 1); claim(`${id}-remove`); draw(); } }, "Remove"));
      const field = itemSpec.type === "object" && item && typeof item === "object"
        ? h("div", {}, ...Object.entries(itemSpec.props || {}).map(([key, child]) => propField(`${id}-${index}-${key}`, child.label || key, child, propSlot(item, key, child), claim)))
        : propField(`${id}-${index}`, `${itemLabel} ${index + 1}`, itemSpec, itemSlot, claim);
      return h("div", { class: "list-item" }, heading, field);
    }),
    h("button", { type: "button", class: "ghost small", id: `${id}-add`, disabled: prop.maxItems && values.length >= prop.maxItems, onclick: () => { values.push(defaultOf(itemSpec)); claim(`${id}-add`); draw(); } }, `Add ${itemLabel.toLowerCase()}`));
  }
  draw();
  return h("div", {}, label, error, box);
}

route();
