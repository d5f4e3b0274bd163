// tenantedge admin: a plugin's inbox on a tenant's page. A plugin named in INBOXES serves its messages under
// /api/plugins/{name}/tenants/{id}/messages as contact-form does: a list newest first
// ({messages, total, page, per_page}), one message by id, and DELETE of one. Everything a sender wrote is put on
// the page as text, never as markup. `kit` is the dashboard's { h, api, modal, problem }.

// The plugins whose admin API serves an inbox, with the tab's label.
const INBOXES = { "contact-form": "Inbox" };
const PER_PAGE = 20;
const FIRST_LINE = 80; // characters of a message's first line in the list

// The inbox tabs of a tenant that enables these plugins: [key, label, plugin] in the tenant's tab bar.
export function inboxTabs(enabled) {
  const names = Object.keys(enabled || {}).filter((name) => name in INBOXES).sort();
  return names.map((name) => [`inbox-${name}`, names.length > 1 ? `${INBOXES[name]} (${name})` : INBOXES[name], name]);
}

function firstLine(text) {
  const line = text.split(/\r?\n/).find((part) => part.trim()) || "";
  return line.length > FIRST_LINE ? `${line.slice(0, FIRST_LINE - 1)}…` : line;
}

// The time in the operator's local time, the UTC time in its title.
function received(h, iso) {
  const when = new Date(iso);
  const utc = `${when.toISOString().slice(0, 16).replace("T", " ")} UTC`;
  return h("time", { datetime: when.toISOString(), title: utc }, when.toLocaleString());
}

export async function renderInbox(kit, plugin, tenant, body) {
  const { h, api, modal, problem } = kit;
  const base = `/api/plugins/${encodeURIComponent(plugin)}/tenants/${encodeURIComponent(tenant)}/messages`;
  let page = 1;

  // A 503 is the plugin saying the database is not configured or not answering: said plainly, with its reason.
  function failed(result) {
    const reason = problem(result);
    if (result.status === 503) {
      return h("div", { class: "panel inbox-unavailable", role: "alert" },
        h("h2", {}, "Messages can't be read now"),
        h("p", {}, `The server says: ${reason}.`),
        h("button", { type: "button", class: "small", onclick: () => list() }, "Try again"));
    }
    return h("div", { class: "panel empty", role: "alert" }, reason);
  }

  async function list() {
    body.replaceChildren(h("p", { class: "muted spinner" }, "Loading"));
    const result = await api("GET", `${base}?page=${page}&per_page=${PER_PAGE}`);
    if (!result.ok) return body.replaceChildren(failed(result));
    const { messages, total } = result.data;
    if (!messages.length && page > 1) {
      page = Math.max(1, Math.ceil(total / PER_PAGE)); // the last messages of this page went: show the last one left
      return list();
    }
    const pages = Math.max(1, Math.ceil(total / PER_PAGE));
    const pager = h("div", { class: "row pager" },
      h("button", { type: "button", class: "ghost small", id: "inbox-newer", disabled: page <= 1, onclick: () => { page -= 1; list(); } }, "Newer"),
      h("span", { class: "muted" }, `page ${page} of ${pages}`),
      h("button", { type: "button", class: "ghost small", id: "inbox-older", disabled: page >= pages, onclick: () => { page += 1; list(); } }, "Older"));
    body.replaceChildren(h("div", { class: "panel inbox" },
      h("h2", {}, `${total} message${total === 1 ? "" : "s"}`),
      messages.length
        ? h("table", {},
          h("thead", {}, h("tr", {}, h("th", {}, "From"), h("th", {}, "Message"), h("th", {}, "Received"))),
          h("tbody", {}, messages.map((message) => h("tr", { "data-message": String(message.id) },
            h("td", {}, h("button", { type: "button", class: "name ghost small", onclick: () => open(message.id) }, message.name),
              h("div", { class: "muted" }, message.email)),
            h("td", { class: "first-line" }, firstLine(message.message)),
            h("td", {}, received(h, message.created_at))))))
        : h("div", { class: "empty" }, "No messages yet: what visitors send through the contact form appears here."),
      total > PER_PAGE ? pager : null));
  }

  async function open(id) {
    body.replaceChildren(h("p", { class: "muted spinner" }, "Loading"));
    const result = await api("GET", `${base}/${id}`);
    if (result.status === 404) return list();
    if (!result.ok) return body.replaceChildren(failed(result));
    const message = result.data;
    const error = h("p", { class: "error", role: "alert" });
    body.replaceChildren(h("article", { class: "panel message", "data-message": String(message.id) },
      h("div", { class: "row spread" },
        h("button", { type: "button", class: "ghost small", id: "inbox-back", onclick: () => list() }, "← All messages"),
        h("button", { type: "button", class: "danger small", id: "inbox-delete", onclick: () => remove(message, error) }, "Delete")),
      h("h2", {}, message.name),
      h("p", {}, h("a", { href: `mailto:${message.email}` }, message.email), " · ", received(h, message.created_at)),
      h("pre", { class: "message-text" }, message.message),
      error));
  }

  async function remove(message, error) {
    const choice = await modal(`Delete the message from ${message.name}?`, h("p", {}, "It is gone for good: it cannot be restored."),
      [["Delete", "delete", "danger"], ["Cancel", null, "ghost"]]);
    if (choice !== "delete") return;
    const done = await api("DELETE", `${base}/${message.id}`);
    if (done.ok || done.status === 404) return list();
    error.textContent = problem(done);
  }

  await list();
}
