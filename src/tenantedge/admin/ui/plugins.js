// tenantedge admin: plugins in the dashboard. The builder's palette groups the sections of the plugins a tenant
// enables under each plugin's title; the tenant settings get a "Plugins" panel whose forms are generated from each
// plugin's settings schema (GET /api/plugins) with the same widgets as section props, passed in as `kit`
// ({ h, propField, propSlot }) so both forms stay one implementation.

const NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

// A JSON path as the server formats it (tenantedge/jsonpath.py): `plugins.analytics-snippet.site_id`.
function jsonPath(...parts) {
  return parts.reduce((out, part) => (NAME.test(part) ? (out ? `${out}.${part}` : part) : `${out}[${JSON.stringify(part)}]`), "");
}

// Where a section is, in words: `pages["/about"][2].type` is "/about, section 3".
function placeOf(path) {
  const found = /^pages\[("(?:[^"\\]|\\.)*")\](?:\.sections)?\[(\d+)\]/.exec(path);
  return found ? `${JSON.parse(found[1])}, section ${Number(found[2]) + 1}` : path;
}

// The installed plugins by name, each with its settings schema, its sections and why it is broken, if it is;
// null when the server did not say.
export async function installedPlugins(api) {
  const result = await api("GET", "/api/plugins");
  return result.ok ? Object.fromEntries(result.data.plugins.map((plugin) => [plugin.name, plugin])) : null;
}

// The palette: built-in sections first, then one group per plugin the tenant enables. A broken plugin's sections
// are listed, marked and disabled: its sections render as placeholders, so they are not offered.
export function palette(kit, usable, enabled, found, button) {
  const { h } = kit;
  const installed = found || {};
  const builtIn = usable.filter((spec) => !spec.plugin);
  const groups = Object.keys(enabled).sort().map((name) => {
    const plugin = installed[name];
    const title = plugin?.title || name;
    if (!plugin || plugin.broken) {
      const reason = plugin ? plugin.broken : "it is not installed";
      return h("div", { class: "palette-group broken", "data-plugin": name },
        h("h3", {}, title, " ", h("span", { class: "badge broken" }, "unavailable")),
        h("p", { class: "help" }, `Its sections cannot be added: ${reason}.`),
        h("div", { class: "palette" }, (plugin?.sections || []).map((type) => h("button", { type: "button", disabled: true, "data-type": type }, `+ ${type.split("/")[1]}`))));
    }
    const own = usable.filter((spec) => spec.plugin === name);
    return h("div", { class: "palette-group", "data-plugin": name },
      h("h3", {}, title),
      own.length ? h("div", { class: "palette" }, own.map(button)) : h("p", { class: "help" }, "It adds no sections."));
  });
  return h("div", { id: "palette" }, h("div", { class: "palette" }, builtIn.map(button)), ...groups);
}

// What the builder shows for a section whose type it cannot edit: a plugin's that is broken or switched off.
export function missingSection(type, enabled, installed) {
  const [name, rest] = type.split("/");
  if (!rest || !installed) return `Unknown section type ${type}.`;
  const plugin = installed[name];
  if (!plugin) return `${type} comes from plugin ${name}, which is not installed: the site shows nothing in its place.`;
  if (plugin.broken) return `${type} comes from ${plugin.title}, which is broken (${plugin.broken}): the site shows nothing in its place.`;
  if (!(name in enabled)) return `${type} comes from ${plugin.title}, which this tenant does not enable: enable it in the settings.`;
  return `Unknown section type ${type}.`;
}

// A required choice has no empty option in its select: start with the first, as the select shows it.
function startingSettings(schema) {
  const settings = {};
  for (const [key, prop] of Object.entries(schema)) {
    if (prop.default !== undefined) settings[key] = JSON.parse(JSON.stringify(prop.default));
    else if (prop.type === "enum" && prop.required) settings[key] = prop.choices[0];
  }
  return settings;
}

// The settings' "Plugins" panel: an enable box per installed plugin, and its generated form once enabled.
// `changed` runs after every edit (the settings check it); `showIssues` places the server's issues next to the
// fields and plugins they are about, and returns the others for the caller to show.
export function pluginsPanel(kit, doc, found, changed) {
  const { h, propField, propSlot } = kit;
  const installed = found || {};
  const put = new Map(); // JSON path -> the error line next to its field or plugin
  const kept = {}; // the settings of a plugin switched off in this form, back if it is switched on again
  const panel = h("section", { class: "panel", id: "plugins" }, h("h2", {}, "Plugins"));
  const names = Object.keys(installed).sort();
  if (!found) panel.append(h("p", { class: "error" }, "The installed plugins could not be loaded: reload the page to try again."));
  else if (!names.length) panel.append(h("p", { class: "muted" }, "No plugins are installed."));
  for (const name of names) panel.append(pluginFieldset(installed[name]));

  function enabled() {
    return doc.plugins || {};
  }
  function pluginFieldset(plugin) {
    const id = `f-plugin-${plugin.name}`;
    const form = h("div", { class: "plugin-settings", id: `${id}-settings` });
    const error = h("p", { class: "error", role: "alert", id: `${id}-error` });
    put.set(jsonPath("plugins", plugin.name), error);
    const on = plugin.name in enabled();
    const box = h("input", { type: "checkbox", id, checked: on, disabled: Boolean(plugin.broken) && !on, "aria-describedby": `${id}-help`, onchange: () => {
      if (box.checked) {
        doc.plugins = { ...enabled(), [plugin.name]: kept[plugin.name] || startingSettings(plugin.settings) };
      } else {
        kept[plugin.name] = enabled()[plugin.name];
        const { [plugin.name]: _, ...others } = enabled();
        if (Object.keys(others).length) doc.plugins = others;
        else delete doc.plugins;
      }
      drawForm();
      changed();
    } });
    const help = plugin.broken ? `Broken: ${plugin.broken}. Its sections show nothing until it is fixed.` : plugin.description;
    function drawForm() {
      const settings = enabled()[plugin.name];
      for (const key of Object.keys(plugin.settings)) put.delete(jsonPath("plugins", plugin.name, key));
      if (!settings || plugin.broken) return form.replaceChildren();
      form.replaceChildren(...Object.entries(plugin.settings).map(([key, prop]) => {
        const line = h("p", { class: "error", role: "alert" });
        put.set(jsonPath("plugins", plugin.name, key), line);
        return propField(`${id}-${key}`, prop.label || key, prop, propSlot(settings, key, prop), () => changed(), line);
      }));
    }
    drawForm();
    return h("fieldset", { class: "plugin", "data-plugin": plugin.name },
      h("legend", {}, plugin.title, " ", h("span", { class: "muted" }, `${plugin.name} ${plugin.version}`)),
      h("label", { class: "check" }, box, h("span", {}, "Enabled", h("span", { class: "help", id: `${id}-help` }, help))),
      error, form);
  }

  // A plugin switched off while pages use its sections: the server names each section by its path.
  function usedSections(issues) {
    const used = new Map(); // plugin -> [where]
    const rest = [];
    for (const issue of issues) {
      const found = /^section '([^'/]+)\/[^']*' comes from plugin/.exec(issue.message);
      if (found && found[1] in installed) used.set(found[1], [...(used.get(found[1]) || []), placeOf(issue.path)]);
      else rest.push(issue);
    }
    return [used, rest];
  }

  function showIssues(issues) {
    for (const line of put.values()) line.textContent = "";
    const [used, others] = usedSections(issues);
    for (const [name, where] of used) {
      put.get(jsonPath("plugins", name)).textContent = `Pages use its sections (${where.join("; ")}): remove them in the page builder before switching ${installed[name].title} off.`;
    }
    const rest = [];
    for (const issue of others) {
      const line = put.get(issue.path);
      if (line) line.textContent = [line.textContent, issue.message].filter(Boolean).join("; ");
      else rest.push(issue);
    }
    return rest;
  }

  return { panel, showIssues };
}
