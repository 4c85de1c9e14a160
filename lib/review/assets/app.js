// The review page's script: plain browser JavaScript, no framework, no outside resources. It renders the JSON views
// of lib/review (view.ts, leftovers.ts) and sends decisions to /api/decide; after each decision it reloads the view.
// Text from the library (names, paths) only ever enters the page as textContent, never as HTML.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("t") || "";
const PAGE = location.pathname;
const main = document.getElementById("main");
const actions = document.getElementById("actions");
const message = document.getElementById("message");

/** The current selection: faces by key (set faces: "<set>\u0000<faceRef>", leftovers: the store face id). */
const selectedFaces = new Map();
const selectedSets = new Set();
let view = null;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child);
  return node;
}

const withToken = (url) => `${url}${url.includes("?") ? "&" : "?"}t=${encodeURIComponent(TOKEN)}`;
const imgUrl = (id) => withToken(`/img/${id}`);
const fmt = (v, digits) => (v === null || v === undefined ? "?" : Number(v).toFixed(digits));
const base = (p) => String(p).split(/[\\/]/).pop();

async function api(url, body) {
  const res = await fetch(url, {
    method: body === undefined ? "GET" : "POST",
    headers: { "x-facesets-token": TOKEN, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({ error: `${res.status} ${res.statusText}` }));
  if (!res.ok) throw new Error(data.error || `${res.status} ${res.statusText}`);
  return data;
}

function say(text, isError) {
  message.textContent = text;
  message.className = isError ? "error" : "";
}

const can = (verb) => Boolean(view && view.verbs && view.verbs.includes(verb));

async function act(decision) {
  say(`${decision.verb}…`);
  try {
    const outcome = await api("/api/decide", decision);
    selectedFaces.clear();
    selectedSets.clear();
    await load();
    say(outcome.changes && outcome.changes.length ? outcome.changes.join("\n") : `${decision.verb}: done`);
  } catch (err) {
    say(`${decision.verb}: ${err.message}`, true);
  }
}

function showPhoto(photoId, caption) {
  if (!photoId) return;
  const dialog = document.getElementById("photo");
  document.getElementById("photo-img").src = imgUrl(photoId);
  document.getElementById("photo-caption").textContent = caption;
  dialog.showModal();
}

function metrics(f) {
  const dist = f.cosDist === undefined ? f.nearestCosDist : f.cosDist;
  const parts = [`face_short ${fmt(f.faceShortPx, 0)} px`, `blur ${fmt(f.blur, 1)}`, `det_score ${fmt(f.detScore, 3)}`];
  if (f.cosDist !== undefined) parts.push(`distance ${fmt(dist, 3)}${f.distanceOf === "manifest" ? " (as written)" : ""}`);
  else parts.push(`nearest ${f.nearestSet || "none"} ${fmt(f.nearestCosDist, 3)}`);
  if (f.reasons && f.reasons.length) parts.push(f.reasons.join(", "));
  return `${base(f.source)}\n${parts.join(" · ")}`;
}

function tile(key, f, caption) {
  const box = el("input", {
    type: "checkbox",
    "aria-label": `select ${base(f.source)}`,
    checked: selectedFaces.has(key),
    onchange: (e) => {
      if (e.target.checked) selectedFaces.set(key, f);
      else selectedFaces.delete(key);
      figure.classList.toggle("selected", e.target.checked);
      renderActions();
    },
  });
  const img = f.thumb
    ? el("img", { src: imgUrl(f.thumb), alt: base(f.source), title: metrics(f), loading: "lazy", width: 104, height: 104,
      onclick: () => showPhoto(f.photo, metrics(f)) })
    : el("img", { alt: `${base(f.source)} (no thumbnail)`, title: metrics(f) });
  const figure = el("figure", { class: `tile${selectedFaces.has(key) ? " selected" : ""}`, dataset: { face: f.faceRef || f.faceId } },
    box, img, el("figcaption", {}, caption));
  return figure;
}

// ---------------------------------------------------------------------------------------------------------- Sets

function renderSets() {
  const sections = view.sets.map((s) => {
    const nameInput = el("input", { type: "text", placeholder: "person's name", value: s.person || "", "aria-label": `name of ${s.name}` });
    const head = el("div", { class: "set-head" },
      el("input", { type: "checkbox", "aria-label": `select set ${s.name}`, checked: selectedSets.has(s.name),
        onchange: (e) => {
          if (e.target.checked) selectedSets.add(s.name);
          else selectedSets.delete(s.name);
          renderSets();
          renderActions();
        } }),
      el("h2", {}, s.name),
      el("span", { class: s.person ? "person" : "person unnamed" }, s.person || "unnamed"),
      el("span", { class: "counts" }, `${s.faces} faces · ${s.photos} photos · ${s.matched} in the store${s.origin ? ` · ${s.origin}` : ""}`),
      el("form", { class: "name-form", onsubmit: (e) => {
        e.preventDefault();
        if (nameInput.value.trim()) act({ verb: "name", set: s.name, person: nameInput.value.trim() });
      } }, nameInput, el("button", { type: "submit", disabled: !can("name") }, "Name")),
      el("button", { type: "button", disabled: !can("dismiss"), onclick: () => act({ verb: "dismiss", set: s.name }) }, "Dismiss"),
    );
    const tiles = el("div", { class: "tiles" },
      s.tiles.map((t) => tile(`${s.name}\u0000${t.faceRef}`, { ...t, set: s.name }, `${fmt(t.cosDist, 3)} ${base(t.source)}`)));
    return el("section", { class: `set${selectedSets.has(s.name) ? " selected" : ""}`, dataset: { set: s.name } }, head, tiles);
  });
  const inactive = view.inactive.length
    ? el("section", { class: "inactive" }, el("h2", {}, "Merged and dismissed"),
      el("ul", {}, view.inactive.map((s) => el("li", {}, `${s.set}${s.person ? ` (${s.person})` : ""}: ${s.state}${s.mergedInto ? ` into ${s.mergedInto}` : ""} `,
        s.state === "dismissed" ? el("button", { type: "button", disabled: !can("restore"), onclick: () => act({ verb: "restore", set: s.set }) }, "Restore") : null))))
    : null;
  main.replaceChildren(
    el("p", { class: "counts" }, `${view.sets.length} sets, ${view.sets.reduce((n, s) => n + s.faces, 0)} faces in ${view.library}. ` +
      "Faces are ordered farthest from their set's centroid first; hover for measures, click for the photo."),
    notes([...view.notes, ...view.warnings]),
    ...sections,
    inactive || "",
  );
}

function notes(lines) {
  return lines.length ? el("ul", { class: "notes" }, lines.map((l) => el("li", {}, l))) : "";
}

// ------------------------------------------------------------------------------------------------------ Leftovers

/** `faceset_007 (NAME)` when the owner named the set, as curate's tables show it. */
const setLabel = (name) => (view.people && view.people[name] ? `${name} (${view.people[name]})` : name);

function renderLeftovers() {
  const clusterSections = view.clusters.map((c) => {
    const keys = c.faces.map((f) => f.faceId);
    const all = keys.every((k) => selectedFaces.has(k));
    return el("section", { class: "cluster", dataset: { cluster: c.key } },
      el("div", { class: "set-head" },
        el("input", { type: "checkbox", "aria-label": `select all faces of cluster ${c.index}`, checked: all && keys.length > 0,
          onchange: (e) => {
            for (const f of c.faces) e.target.checked ? selectedFaces.set(f.faceId, f) : selectedFaces.delete(f.faceId);
            renderLeftovers();
            renderActions();
          } }),
        el("h2", {}, `cluster ${c.index}`),
        el("span", { class: "counts" }, `${c.faces.length} faces · ${c.photos} photos`),
        el("span", { class: "why" }, c.why),
        el("span", { class: "near" }, c.nearestSet ? `nearest ${setLabel(c.nearestSet)} at ${fmt(c.nearestCosDist, 3)}` : "no set to compare")),
      el("div", { class: "tiles" }, c.faces.map((f) => tile(f.faceId, f, base(f.source)))));
  });
  const rest = el("section", { class: "cluster", dataset: { cluster: "rest" } },
    el("div", { class: "set-head" }, el("h2", {}, "The rest"),
      el("span", { class: "counts" }, `${view.rest.length} faces (singletons, gated, outliers, export-gated), nearest set first`)),
    el("div", { class: "tiles" }, view.rest.map((f) =>
      tile(f.faceId, f, `${f.nearestSet ? `${f.nearestSet.replace("faceset_", "#")} ${fmt(f.nearestCosDist, 2)}` : f.fate} ${base(f.source)}`))));
  main.replaceChildren(
    el("p", { class: "counts" }, `Faces of the latest discovery runs that are in no set: ${view.runs.map((r) => `${r.kind} ${base(r.source)} (${r.runId})`).join(", ") || "none"}.`),
    notes(view.notes),
    ...clusterSections,
    rest,
  );
}

// ----------------------------------------------------------------------------------------------------------- Runs

function renderRuns() {
  const rows = view.runs.map((r) => el("tr", { dataset: { run: r.runId } },
    el("td", {}, r.kind), el("td", {}, r.runId), el("td", {}, r.startedAt), el("td", {}, r.finishedAt || "unfinished"),
    el("td", {}, r.source || ""), el("td", {}, r.counts.map(([k, v]) => `${k} ${v}`).join(", "))));
  main.replaceChildren(
    notes(view.problems),
    el("table", {}, el("thead", {}, el("tr", {}, ["kind", "run", "started", "finished", "source", "counts"].map((h) => el("th", {}, h)))),
      el("tbody", {}, rows)),
  );
}

// -------------------------------------------------------------------------------------------------------- Actions

function setOptions(names) {
  return names.map((n) => el("option", { value: n }, n));
}

function renderActions() {
  const parts = [];
  if (PAGE === "/" && view) {
    const faces = [...selectedFaces.values()];
    const setsOfFaces = [...new Set(faces.map((f) => f.set))];
    const one = setsOfFaces.length === 1 ? setsOfFaces[0] : null;
    const refs = faces.map((f) => f.faceRef);
    parts.push(el("span", { class: "count" }, `${faces.length} faces, ${selectedSets.size} sets selected`));
    const into = el("select", { "aria-label": "merge into" }, setOptions([...selectedSets]));
    parts.push(el("button", { type: "button", id: "merge", disabled: !can("merge") || selectedSets.size < 2,
      onclick: () => act({ verb: "merge", sets: [...selectedSets].filter((s) => s !== into.value), into: into.value }) }, "Merge sets into"), into);
    const to = el("select", { "aria-label": "move to" }, setOptions(view.sets.map((s) => s.name)));
    parts.push(el("button", { type: "button", id: "move", disabled: !can("move") || faces.length === 0,
      onclick: () => act({ verb: "move", faces: refs, to: to.value }) }, "Move faces to"), to);
    const oneSetHint = one ? undefined : "select faces of one set";
    parts.push(el("button", { type: "button", id: "reject", title: oneSetHint, disabled: !can("reject") || !one,
      onclick: () => act({ verb: "reject", set: one, faces: refs }) }, "Reject faces"));
    parts.push(el("button", { type: "button", id: "split", title: oneSetHint, disabled: !can("split") || !one,
      onclick: () => act({ verb: "split", set: one, faces: refs }) }, "Split into new set"));
  } else if (PAGE === "/leftovers" && view) {
    const ids = [...selectedFaces.keys()];
    parts.push(el("span", { class: "count" }, `${ids.length} faces selected`));
    parts.push(el("button", { type: "button", id: "create", disabled: !can("create") || ids.length === 0,
      onclick: () => act({ verb: "create", faces: ids }) }, "Make a new set"));
  }
  actions.replaceChildren(...parts);
  document.getElementById("undo").disabled = !can("undo");
}

// ----------------------------------------------------------------------------------------------------------- Load

const PAGES = {
  "/": { api: "/api/sets", render: renderSets, nav: "nav-sets" },
  "/leftovers": { api: "/api/leftovers", render: renderLeftovers, nav: "nav-leftovers" },
  "/runs": { api: "/api/runs", render: renderRuns, nav: "nav-runs" },
};

async function load() {
  const page = PAGES[PAGE] || PAGES["/"];
  document.getElementById(page.nav).classList.add("current");
  view = await api(page.api);
  page.render();
  renderActions();
  document.body.dataset.loaded = String(Date.now());
}

document.getElementById("undo").addEventListener("click", () => act({ verb: "undo" }));
document.getElementById("photo-close").addEventListener("click", () => document.getElementById("photo").close());
load().catch((err) => {
  main.replaceChildren(el("p", {}, `Could not load this page: ${err.message}`));
  say(err.message, true);
});
