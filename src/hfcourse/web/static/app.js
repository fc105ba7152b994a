// hfcourse: small, dependency-free page behaviour. No inline scripts (strict CSP): data comes from
// <script type="application/json"> tags and data-* attributes.
"use strict";

async function api(path, body) {
  const opts = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  const res = await fetch(path, opts);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

function setupCopy() {
  document.querySelectorAll("[data-copy]").forEach((btn) => {
    btn.addEventListener("click", async () => {
      const code = btn.closest(".cell").querySelector("pre code").innerText;
      try { await navigator.clipboard.writeText(code); btn.textContent = "已复制"; }
      catch (e) { btn.textContent = "复制失败"; }
      btn.dataset.copied = "true";
      setTimeout(() => { btn.textContent = "复制"; }, 2000);
    });
  });
}

function setupToc() {
  const links = new Map();
  document.querySelectorAll(".toc a[data-anchor]").forEach((a) => links.set(a.dataset.anchor, a));
  if (!links.size || !("IntersectionObserver" in window)) return;
  const observer = new IntersectionObserver((entries) => {
    entries.forEach((e) => {
      if (!e.isIntersecting) return;
      links.forEach((a) => a.classList.remove("active"));
      const a = links.get(e.target.id);  // ids like "2.3.1" contain dots: look them up, never build selectors
      if (a) a.classList.add("active");
    });
  }, { rootMargin: "0px 0px -70% 0px" });
  links.forEach((_, id) => { const h = document.getElementById(id); if (h) observer.observe(h); });
}

function setupProgress() {
  const btn = document.getElementById("complete");
  if (!btn) return;
  btn.addEventListener("click", async () => {
    const next = btn.dataset.completed !== "true";
    const data = await api(`/api/progress/${encodeURIComponent(btn.dataset.section)}`, { completed: next });
    btn.dataset.completed = String(data.completed);
    btn.textContent = data.completed ? "✓ 已完成" : "标记为已完成";
  });
}

function setupNotes() {
  const select = document.getElementById("note-point");
  if (!select) return;
  const text = document.getElementById("note-text"), mark = document.getElementById("note-bookmark");
  const status = document.getElementById("note-status");
  const load = async () => {
    const n = await api(`/api/notes/${encodeURIComponent(select.value)}`);
    text.value = n.text; mark.checked = n.bookmarked; status.textContent = "";
  };
  select.addEventListener("change", load);
  document.getElementById("note-save").addEventListener("click", async () => {
    try {
      await api(`/api/notes/${encodeURIComponent(select.value)}`, { text: text.value, bookmarked: mark.checked });
      status.textContent = "已保存";
    } catch (e) { status.textContent = "保存失败：" + e.message; }
  });
  load();
}

// -- interactive components: controls generated from the pydantic JSON schema ---------------------------
function fieldSpec(name, prop, defs) {
  let p = prop;
  if (p.anyOf) p = p.anyOf.find((x) => x.type !== "null") || p.anyOf[0];
  if (p.$ref) p = defs[p.$ref.split("/").pop()] || p;
  return { name, label: prop.description || prop.title || name, type: p.type, enumValues: p.enum || (p.const !== undefined ? [p.const] : null),
           min: p.minimum, max: p.maximum, maxLength: p.maxLength, nullable: !!prop.anyOf };
}

function buildControls(box, data, onChange) {
  const schema = data.schema || {}, defs = schema.$defs || {};
  const controls = document.createElement("div");
  controls.className = "controls";
  Object.entries(schema.properties || {}).forEach(([name, prop]) => {
    const f = fieldSpec(name, prop, defs), value = data.params[name];
    const label = document.createElement("label");
    label.textContent = f.label;
    let input;
    if (f.enumValues) {
      input = document.createElement("select");
      f.enumValues.forEach((v) => { const o = document.createElement("option"); o.value = v; o.textContent = v; input.appendChild(o); });
      input.value = value;
    } else if (f.type === "boolean") {
      input = document.createElement("input"); input.type = "checkbox"; input.checked = !!value;
    } else if (f.type === "integer" || f.type === "number") {
      input = document.createElement("input"); input.type = "number";
      if (f.min !== undefined) input.min = f.min; if (f.max !== undefined) input.max = f.max;
      input.step = f.type === "integer" ? "1" : "any";
      input.value = value === null || value === undefined ? "" : value;
      if (f.nullable) input.placeholder = "默认";
    } else {
      input = document.createElement("input"); input.type = "text"; input.value = value ?? "";
      if (f.maxLength) input.maxLength = f.maxLength;
    }
    input.name = name;
    input.addEventListener("change", onChange);
    label.appendChild(input);
    controls.appendChild(label);
  });
  box.appendChild(controls);
  return controls;
}

function readControls(controls) {
  const params = {};
  controls.querySelectorAll("input, select").forEach((el) => {
    if (el.type === "checkbox") params[el.name] = el.checked;
    else if (el.type === "number") params[el.name] = el.value === "" ? null : Number(el.value);
    else params[el.name] = el.value;
  });
  return params;
}

function drawFigure(plot, figure) {
  if (!window.Plotly) { plot.textContent = "plotly.js 未加载"; return; }
  const layout = Object.assign({ autosize: true }, figure.layout || {});
  window.Plotly.react(plot, figure.data || [], layout, { responsive: true, displaylogo: false }).then(() => {
    if (figure.frames && figure.frames.length) window.Plotly.addFrames(plot, figure.frames);
  });
  plot.dataset.revision = String((Number(plot.dataset.revision) || 0) + 1);
}

function setupComponents() {
  document.querySelectorAll("script.component-data").forEach((tag) => {
    const data = JSON.parse(tag.textContent);
    const box = document.getElementById(tag.dataset.for);
    if (!box) return;
    box.innerHTML = "";
    const title = document.createElement("p"); title.className = "admonition-title"; title.textContent = data.title || data.name;
    box.appendChild(title);
    const plot = document.createElement("div"); plot.className = "plot";
    const error = document.createElement("p"); error.className = "error";
    const numbers = document.createElement("pre"); numbers.className = "numbers";
    let timer = null;
    const controls = buildControls(box, data, () => {
      clearTimeout(timer);
      timer = setTimeout(async () => {
        try {
          const result = await api(`/api/components/${encodeURIComponent(data.name)}`, readControls(controls));
          error.textContent = ""; drawFigure(plot, result.figure); numbers.textContent = JSON.stringify(result.numbers, null, 1);
        } catch (e) { error.textContent = e.message; }
      }, 150);
    });
    box.append(error, plot, numbers);
    if (data.error) error.textContent = data.error;
    if (data.figure) { drawFigure(plot, data.figure); numbers.textContent = JSON.stringify(data.numbers, null, 1); }
    if (data.figure && data.figure.frames && data.figure.frames.length) {
      const bar = document.createElement("div"); bar.className = "controls";
      const mk = (label, fn) => { const b = document.createElement("button"); b.type = "button"; b.textContent = label; b.addEventListener("click", fn); bar.appendChild(b); };
      let i = 0; const names = data.figure.frames.map((f) => f.name);
      mk("播放", () => window.Plotly.animate(plot, null, { frame: { duration: 600 }, transition: { duration: 200 } }));
      mk("暂停", () => window.Plotly.animate(plot, [], { mode: "immediate" }));
      mk("单步", () => { i = (i + 1) % names.length; window.Plotly.animate(plot, [names[i]], { mode: "immediate" }); });
      box.insertBefore(bar, plot);
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupCopy(); setupToc(); setupProgress(); setupNotes(); setupComponents();
});
