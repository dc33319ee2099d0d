// Template studio wizard: sample lines with clickable values, live tree, rules checked as typed, dry run.
(function () {
  "use strict";
  const form = document.getElementById("wizard");
  if (!form) return;
  const step = form.dataset.step;
  const draftId = Number(form.dataset.draft);
  const draftDoc = JSON.parse(document.getElementById("draft-document").textContent);
  const csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function post(url, body) {
    return fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
                       credentials: "same-origin", body: JSON.stringify(body)}).then((r) => r.json());
  }
  function debounce(fn, ms) {
    let timer;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }
  function input(row, name) { return row.querySelector(`[name$="-${name}"]`); }
  function rows() { return Array.from(form.querySelectorAll(".formset-rows fieldset.row")); }
  function live(row) { const del = input(row, "DELETE"); return !(del && del.checked); }

  // -- formset rows ---------------------------------------------------------------------------------------
  const add = document.getElementById("add-row");
  if (add) {
    add.addEventListener("click", () => {
      const box = form.querySelector(".formset-rows");
      const total = form.querySelector(`[name="${box.dataset.prefix}-TOTAL_FORMS"]`);
      const html = document.getElementById("empty-row").innerHTML.replace(/__prefix__/g, total.value);
      box.insertAdjacentHTML("beforeend", html);
      total.value = Number(total.value) + 1;
      wire(box.lastElementChild);
    });
  }

  // -- sources: samples, click a value to make it a field, time format ----------------------------------
  function leafPath(path) { return path.split(".").pop().replace(/[^A-Za-z0-9_]/g, "_"); }
  function renderValue(value, path, row) {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      const list = el("ul", {class: "json-object"});
      Object.entries(value).forEach(([key, item]) => {
        const li = el("li");
        li.append(el("span", {class: "json-key"}, key + ": "), renderValue(item, path ? `${path}.${key}` : key, row));
        list.append(li);
      });
      return list;
    }
    const span = el("button", {type: "button", class: "json-value linklike", "data-path": path, title: `make ${path} a field`},
                    JSON.stringify(value));
    span.addEventListener("click", () => pick(row, path));
    return span;
  }
  function pick(row, path) {
    if (row.querySelector(".pick-time").checked) {
      input(row, "time_path").value = path;
      row.querySelector(".pick-time").checked = false;
      loadSamples(row);
      return;
    }
    const aliasBox = row.querySelector(".next-alias");
    const alias = aliasBox.value.trim() || leafPath(path);
    const area = input(row, "field_paths");
    area.value = (area.value.trim() ? area.value.trim() + "\n" : "") + `${alias} = ${path}`;
    aliasBox.value = "";
  }
  function loadSamples(row) {
    const box = row.querySelector(".samples");
    const query = new URLSearchParams({location: input(row, "location").value, time_path: input(row, "time_path").value,
                                       time_format: input(row, "time_format").value, tz: input(row, "tz").value});
    box.textContent = "Reading samples…";
    fetch(`${form.dataset.samples}?${query}`, {credentials: "same-origin"}).then((r) => r.json()).then((data) => {
      box.textContent = "";
      if (data.location && !data.lines) { box.append(el("p", {class: "form-error"}, [].concat(data.location).join(" "))); return; }
      if (data.suggested_format) {
        const use = el("button", {type: "button", class: "btn btn-small use-format"}, `Use ${data.suggested_format}`);
        use.addEventListener("click", () => { input(row, "time_format").value = data.suggested_format; loadSamples(row); });
        const p = el("p", {class: "suggested"}, `Suggested time format: ${data.suggested_format} `);
        p.append(use);
        box.append(p);
      }
      if (data.time_error) box.append(el("p", {class: "form-error"}, data.time_error));
      if (data.times.length) {
        const failing = data.times.filter((t) => t.error).length;
        box.append(el("p", {class: failing ? "form-error time-summary" : "time-summary"},
                      failing ? `${failing} of ${data.times.length} samples fail to parse` : `All ${data.times.length} sample times parse`));
        const table = el("table", {class: "table times"});
        data.times.filter((t, i) => t.error || i < 8).forEach((t) => {  // every failing row, a few good ones
          const tr = el("tr", {class: t.error ? "time-failing" : "time-ok"});
          tr.append(el("td", {class: "mono"}, JSON.stringify(t.raw)), el("td", {class: "mono"}, t.iso || t.error));
          table.append(tr);
        });
        box.append(table);
      }
      data.records.slice(0, 5).forEach((record, i) => {
        const sample = el("div", {class: "sample"});
        sample.append(record ? renderValue(record, "", row) : el("pre", {class: "code"}, data.lines[i]));
        box.append(sample);
      });
    });
  }

  // -- rules checked as typed -------------------------------------------------------------------------------
  function pageDocument() {
    const doc = JSON.parse(JSON.stringify(draftDoc));
    if (step === "tree") {
      doc.nodes = rows().filter(live).filter((row) => input(row, "name").value).map((row) => {
        const node = {name: input(row, "name").value, source: input(row, "source").value,
                      parent: input(row, "parent").value || null};
        if (input(row, "join_on").value) node.join = {on: input(row, "join_on").value, lower: input(row, "lower").value || "0s",
                                                      upper: input(row, "upper").value || "+1h"};
        return node;
      });
    } else if (step === "fields") {
      doc.fields = rows().filter(live).map((row) => ({name: input(row, "name").value, expr: input(row, "expr").value,
                                                      type: input(row, "type").value})).filter((f) => f.name && f.expr);
    }
    return doc;
  }
  function check(row) {
    const out = row.querySelector(".check-result");
    const exprInput = input(row, step === "fields" ? "expr" : "when");
    const text = exprInput.value;
    if (!text.trim()) { out.textContent = ""; return; }
    const kind = step === "fields" ? "field" : step === "conclusions" ? "conclusion" : "when";
    const doc = pageDocument();
    if (step === "fields") {  // a field reads only the fields computed before it
      const before = rows().filter(live).slice(0, rows().filter(live).indexOf(row)).map((r) => input(r, "name").value);
      doc.fields = doc.fields.filter((f) => before.includes(f.name));
    }
    post(form.dataset.check, {expr: text, kind: kind, draft: draftId, node: input(row, "name").value, document: doc}).then((data) => {
      out.textContent = "";
      if (data.errors && data.errors.length) {
        data.errors.forEach((e) => {
          const p = el("p", {class: "form-error check-error"}, e.message);
          if (e.column) p.dataset.column = e.column;
          out.append(p);
        });
        return;
      }
      if (!data.values) { out.append(el("p", {class: "form-error"}, JSON.stringify(data))); return; }
      out.append(el("p", {class: "check-ok"}, "✓ compiles" + (data.note ? ` — ${data.note}` : "")));
      const list = el("ul", {class: "check-values"});
      data.values.slice(0, 8).forEach((v) => list.append(el("li", {class: "mono"}, `${v.session} → ${JSON.stringify(v.value)}`)));
      out.append(list);
    });
  }
  const redrawTree = debounce(() => {
    const named = rows().filter(live).filter((row) => input(row, "name").value);
    post(form.dataset.tree, {nodes: pageDocument().nodes.map((n, i) => Object.assign(n, {
      label: input(named[i], "label").value || n.name, many: input(named[i], "many").checked}))})
      .then((data) => { if (data.html !== undefined) document.getElementById("live-tree").innerHTML = data.html; });
  }, 300);

  function wire(row) {
    if (step === "sources") {
      const tools = row.querySelector(".samples-tools");
      const label = el("label", {}, " Next click sets the time field ");
      label.prepend(el("input", {type: "checkbox", class: "pick-time"}));
      tools.append(label);
      row.querySelector(".load-samples").addEventListener("click", () => loadSamples(row));
      input(row, "location").setAttribute("list", "studio-directories");
    }
    if (step === "tree" || step === "fields" || step === "conclusions") {
      const later = debounce(() => check(row), 350);
      row.addEventListener("input", (event) => {
        if (event.target.name && /-(expr|when)$/.test(event.target.name)) later();
        if (step === "tree") redrawTree();
      });
      row.addEventListener("change", () => { if (step === "tree") redrawTree(); });
    }
  }
  rows().forEach(wire);

  if (step === "review") {
    fetch(form.dataset.dryRun, {credentials: "same-origin"}).then((r) => r.text()).then((html) => {
      document.getElementById("dry-run").innerHTML = html;
    });
  }
})();
