/* yalu interactive map: a small offline viewer (no library, no network).
 * Data: the JSON in <script id="yalu-map-data">; rasters are zlib-compressed uint16 codes,
 * row-differenced, decoded with the browser's DecompressionStream. Equirectangular view with
 * the x axis shrunk by cos(latitude) of the map centre. */
(function () {
  "use strict";
  const errs = [];
  function noteError(msg) {
    errs.push(String(msg));
    document.documentElement.setAttribute("data-yalu-errors", errs.join("\n"));
  }
  window.addEventListener("error", (e) => noteError(e.message || e));
  window.addEventListener("unhandledrejection", (e) => noteError(e.reason));

  const D = JSON.parse(document.getElementById("yalu-map-data").textContent);
  const G = D.grid;
  const $ = (id) => document.getElementById(id);
  const canvas = $("yalu-canvas");
  const ctx = canvas.getContext("2d");
  const tip = $("yalu-tip");
  const info = $("yalu-info");
  const RAD = Math.PI / 180;
  const west = G.west - G.dlon / 2, east = G.west + (G.cols - 0.5) * G.dlon;
  const north = G.north + G.dlat / 2, south = G.north - (G.rows - 0.5) * G.dlat;
  const kx = Math.cos(((north + south) / 2) * RAD);
  const state = { variant: D.primary, key: "service_level", opacity: 0.75, cx: 0, cy: 0, s: 1 };
  const show = { provinces: true, provnames: true, border: true, area: true, settlements: true,
    setnames: true, sites: true, jammers: true, zones: true };
  const codes = {};   // layer id -> Promise<Uint16Array>
  const images = {};  // layer id -> canvas
  let pinned = null;

  // ---------------------------------------------------------------- data
  function layerOf(variant, key) {
    return D.layers.find((l) => l.key === key && (l.variant === variant || l.variant === ""));
  }
  function keysOf(variant) {
    const out = [];
    for (const l of D.layers) if ((l.variant === variant || l.variant === "") && !out.includes(l.key)) out.push(l.key);
    return out;
  }
  async function decode(l) {
    if (!codes[l.id]) {
      codes[l.id] = (async () => {
        const bin = Uint8Array.from(atob(l.data), (c) => c.charCodeAt(0));
        const stream = new Blob([bin]).stream().pipeThrough(new DecompressionStream("deflate"));
        const u = new Uint16Array(await new Response(stream).arrayBuffer());
        for (let r = 0; r < G.rows; r++) {
          const o = r * G.cols;
          for (let c = 1; c < G.cols; c++) u[o + c] = (u[o + c] + u[o + c - 1]) & 0xffff;
        }
        return u;
      })();
    }
    return codes[l.id];
  }
  function valueAt(l, u, i) {
    const c = i >= 0 ? u[i] : 0;
    return c > 0 ? l.offset + (c - 1) * l.quantum : null;
  }
  function hexRgba(h) {
    const a = h.length >= 9 ? parseInt(h.slice(7, 9), 16) : 255;
    return [parseInt(h.slice(1, 3), 16), parseInt(h.slice(3, 5), 16), parseInt(h.slice(5, 7), 16), a];
  }
  function catColour(l, v) {
    if (l.style.kind === "indexed") return hexRgba(D.tab20[v % D.tab20.length]);
    for (const c of l.style.categories) if (c[0] === v) return hexRgba(c[2]);
    return [0, 0, 0, 0];
  }
  async function image(l) {
    if (images[l.id]) return images[l.id];
    const u = await decode(l);
    const cv = document.createElement("canvas");
    cv.width = G.cols; cv.height = G.rows;
    const c2 = cv.getContext("2d");
    const im = c2.createImageData(G.cols, G.rows);
    const px = im.data;
    const lut = l.style.kind === "continuous" ? D.luts[l.style.cmap].map(hexRgba) : null;
    const cache = {};
    for (let i = 0; i < u.length; i++) {
      const v = valueAt(l, u, i);
      if (v === null) continue;
      let rgba;
      if (lut) {
        const t = Math.min(1, Math.max(0, (v - l.vmin) / (l.vmax - l.vmin)));
        rgba = lut[Math.round(t * (lut.length - 1))];
      } else {
        const k = Math.round(v);
        rgba = cache[k] || (cache[k] = catColour(l, k));
      }
      px.set(rgba, 4 * i);
    }
    c2.putImageData(im, 0, 0);
    images[l.id] = cv;
    return cv;
  }
  function nodeOf(lat, lon) {
    const r = Math.round((G.north - lat) / G.dlat), c = Math.round((lon - G.west) / G.dlon);
    if (!Number.isFinite(r) || !Number.isFinite(c) || r < 0 || r >= G.rows || c < 0 || c >= G.cols) return -1;
    return r * G.cols + c;
  }
  function fmt(l, v) {
    if (v === null || v === undefined) return "–";
    if (l.style.kind === "categorical") {
      const c = l.style.categories.find((x) => x[0] === Math.round(v));
      return c ? c[1] : String(v);
    }
    if (l.style.kind === "indexed") return l.labels && l.labels[Math.round(v)] !== undefined ? l.labels[Math.round(v)] : String(v);
    const q = l.quantum >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(l.quantum)));
    return v.toFixed(q) + (l.style.units && l.style.units !== "probability" ? " " + l.style.units : "");
  }

  /** Values of every layer of a variant (default: the shown one) at a point, and the nearest
   * site, jammer, settlement or zone within 5 km. */
  async function query(lat, lon, variant) {
    variant = variant || state.variant;
    const i = nodeOf(lat, lon);
    const out = { lat: lat, lon: lon, variant: variant, values: {}, labels: {} };
    for (const l of D.layers) {
      if (l.variant !== variant && l.variant !== "") continue;
      const u = await decode(l);
      const v = i < 0 ? null : valueAt(l, u, i);
      out.values[l.key] = v;
      out.labels[l.key] = fmt(l, v);
    }
    let best = null, bd = 5.0;
    for (const p of D.points) {
      const d = Math.hypot((p.lat - lat) * 111.2, (p.lon - lon) * 111.2 * kx);
      if (d < bd) { bd = d; best = p; }
    }
    out.feature = best ? featureInfo(best, variant) : null;
    return out;
  }
  window.yaluQuery = query;

  function featureInfo(p, variant) {
    return Object.assign({ kind: p.kind, id: p.id, name: p.name, lat: p.lat, lon: p.lon },
      p.props, (p.pv || {})[variant] || {});
  }

  // ---------------------------------------------------------------- view
  function size() {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    canvas.width = Math.max(1, Math.round(w * dpr));
    canvas.height = Math.max(1, Math.round(h * dpr));
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return [w, h];
  }
  function fit() {
    const w = canvas.clientWidth, h = canvas.clientHeight;
    state.cx = ((west + east) / 2) * kx;
    state.cy = -(north + south) / 2;
    state.s = 0.95 * Math.min(w / ((east - west) * kx), h / (north - south));
  }
  function toScreen(lon, lat) {
    return [canvas.clientWidth / 2 + (lon * kx - state.cx) * state.s,
      canvas.clientHeight / 2 + (-lat - state.cy) * state.s];
  }
  function toLonLat(x, y) {
    return [((x - canvas.clientWidth / 2) / state.s + state.cx) / kx,
      -((y - canvas.clientHeight / 2) / state.s + state.cy)];
  }
  function path(ring) {
    ctx.beginPath();
    for (let k = 0; k < ring.length; k++) {
      const p = toScreen(ring[k][0], ring[k][1]);
      if (k === 0) ctx.moveTo(p[0], p[1]); else ctx.lineTo(p[0], p[1]);
    }
  }
  const COUNTRY_FILL = ["#f4efe4", "#e9f0e4", "#efe6ee", "#e4ecf2", "#f2eadf"];
  const countryIndex = {};
  for (const p of D.provinces) if (!(p.country in countryIndex)) countryIndex[p.country] = Object.keys(countryIndex).length;

  let drawing = 0;
  async function draw() {
    const token = ++drawing;
    const l = layerOf(state.variant, state.key);
    const img = l ? await image(l) : null;
    if (token !== drawing) return;
    const [w, h] = size();
    ctx.fillStyle = "#dfe8ef";
    ctx.fillRect(0, 0, w, h);
    if (show.provinces) {
      for (const p of D.provinces) {
        ctx.fillStyle = COUNTRY_FILL[countryIndex[p.country] % COUNTRY_FILL.length];
        for (const r of p.rings) { path(r); ctx.fill(); }
      }
    }
    if (img) {
      const a = toScreen(west, north), b = toScreen(east, south);
      ctx.imageSmoothingEnabled = false;
      ctx.globalAlpha = state.opacity;
      ctx.drawImage(img, a[0], a[1], b[0] - a[0], b[1] - a[1]);
      ctx.globalAlpha = 1;
    }
    if (show.provinces) {
      ctx.strokeStyle = "#8a8a8a"; ctx.lineWidth = 0.7;
      for (const p of D.provinces) for (const r of p.rings) { path(r); ctx.stroke(); }
    }
    for (const ln of D.lines) {
      if ((ln.kind === "border" && !show.border) || (ln.kind === "area" && !show.area)) continue;
      ctx.strokeStyle = ln.kind === "border" ? "#222" : "#555";
      ctx.lineWidth = ln.kind === "border" ? 1.8 : 1;
      ctx.setLineDash(ln.kind === "area" ? [5, 4] : []);
      for (const r of ln.coords) { path(r); ctx.stroke(); }
      ctx.setLineDash([]);
    }
    const boxes = [];
    function label(text, x, y, font, colour, force) {
      ctx.font = font;
      const tw = ctx.measureText(text).width, bx = [x - 1, y - 11, x + tw + 1, y + 3];
      if (!force) for (const o of boxes) if (bx[0] < o[2] && bx[2] > o[0] && bx[1] < o[3] && bx[3] > o[1]) return;
      if (bx[2] < 0 || bx[0] > w || bx[3] < 0 || bx[1] > h) return;
      boxes.push(bx);
      ctx.lineWidth = 3; ctx.strokeStyle = "rgba(255,255,255,0.85)"; ctx.strokeText(text, x, y);
      ctx.fillStyle = colour; ctx.fillText(text, x, y);
    }
    const pts = D.points;
    for (const p of pts) {
      if (!show.zones || p.kind !== "zone") continue;
      const q = toScreen(p.lon, p.lat);
      const rpx = Math.max(5, (p.props.radius_m || 0) / 111200 * state.s);
      ctx.strokeStyle = "#00a000"; ctx.lineWidth = 1.5;
      ctx.beginPath(); ctx.arc(q[0], q[1], rpx, 0, 2 * Math.PI); ctx.stroke();
    }
    if (show.settlements) {
      ctx.fillStyle = "#111";
      for (const p of pts) {
        if (p.kind !== "settlement") continue;
        const q = toScreen(p.lon, p.lat);
        const r = 1.2 + Math.max(0, Math.log10(Math.max(p.props.population || 0, 1)) - 3) * 0.9;
        ctx.beginPath(); ctx.arc(q[0], q[1], r, 0, 2 * Math.PI); ctx.fill();
      }
    }
    for (const p of pts) {
      const q = toScreen(p.lon, p.lat);
      if (p.kind === "site" && show.sites) {
        ctx.fillStyle = "#e31a1c"; ctx.strokeStyle = "#000"; ctx.lineWidth = 0.8;
        ctx.beginPath(); ctx.moveTo(q[0], q[1] - 7); ctx.lineTo(q[0] + 6, q[1] + 4); ctx.lineTo(q[0] - 6, q[1] + 4);
        ctx.closePath(); ctx.fill(); ctx.stroke();
      } else if (p.kind === "jammer" && show.jammers) {
        ctx.strokeStyle = "#000"; ctx.lineWidth = 4.5; ctx.beginPath();
        ctx.moveTo(q[0] - 5, q[1] - 5); ctx.lineTo(q[0] + 5, q[1] + 5); ctx.moveTo(q[0] + 5, q[1] - 5); ctx.lineTo(q[0] - 5, q[1] + 5);
        ctx.stroke(); ctx.strokeStyle = "#ff7f00"; ctx.lineWidth = 2.5; ctx.stroke();
      }
    }
    if (show.provnames && show.provinces) {
      for (const p of D.provinces) {
        const q = toScreen(p.label[0], p.label[1]);
        if (p.name) label(p.name, q[0], q[1], "italic 12px sans-serif", "#666", false);
      }
    }
    if (show.setnames && show.settlements) {
      for (const p of D.setOrder) {
        const s = pts[p];
        const q = toScreen(s.lon, s.lat);
        label(s.name, q[0] + 4, q[1] - 3, "11px sans-serif", "#111", false);
        if (boxes.length > 220) break;
      }
    }
    scaleBar(w, h);
  }
  function scaleBar(w, h) {
    const kmPerPx = 111.32 / state.s;
    const target = 120 * kmPerPx;
    const e = Math.pow(10, Math.floor(Math.log10(target)));
    let km = e;
    for (const m of [1, 2, 5]) if (m * e <= target) km = m * e;
    const px = km / kmPerPx;
    ctx.fillStyle = "rgba(255,255,255,0.8)"; ctx.fillRect(8, h - 30, px + 16, 24);
    ctx.strokeStyle = "#000"; ctx.lineWidth = 3; ctx.beginPath(); ctx.moveTo(16, h - 12); ctx.lineTo(16 + px, h - 12); ctx.stroke();
    ctx.fillStyle = "#000"; ctx.font = "11px sans-serif"; ctx.fillText(km + " km", 16, h - 17);
  }

  // ---------------------------------------------------------------- interaction
  function esc(s) {
    return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  }
  const NAMES = { population: "population", service_level: "service level", best_server: "best server",
    country: "country", province: "province" };
  function table(obj) {
    let s = "<table>";
    for (const [k, v] of Object.entries(obj)) {
      if (v === null || v === undefined || k === "lat" || k === "lon" || k === "name") continue;
      const txt = typeof v === "object" ? JSON.stringify(v) : (typeof v === "number" && k === "population" ? (v ? v.toLocaleString("en") : "unknown") : v);
      const l = layerOf(state.variant, k);
      const unit = l && typeof v === "number" && l.style.units && l.style.units !== "probability" ? " " + l.style.units : "";
      s += "<tr><th>" + esc(NAMES[k] || (l ? l.style.title : k)) + "</th><td>" + esc(txt) + unit + "</td></tr>";
    }
    return s + "</table>";
  }
  function nearestPoint(x, y) {
    let best = null, bd = 10;
    for (const p of D.points) {
      if ((p.kind === "settlement" && !show.settlements) || (p.kind === "site" && !show.sites) ||
          (p.kind === "jammer" && !show.jammers) || (p.kind === "zone" && !show.zones)) continue;
      const q = toScreen(p.lon, p.lat);
      const d = Math.hypot(q[0] - x, q[1] - y);
      if (d < bd) { bd = d; best = p; }
    }
    return best;
  }
  async function describe(x, y) {
    const p = nearestPoint(x, y);
    if (p) {
      const f = featureInfo(p, state.variant);
      return "<b>" + esc(p.name || p.id) + "</b> <i>(" + esc(p.kind) + (p.kind === "settlement" ? ", " + esc(state.variant) : "") + ")</i>" +
        table(Object.fromEntries(Object.entries(f).filter(([k]) => !["kind", "id"].includes(k) || p.kind !== "settlement")));
    }
    const [lon, lat] = toLonLat(x, y);
    const q = await query(lat, lon);
    const rows = {};
    rows["lat, lon"] = lat.toFixed(4) + ", " + lon.toFixed(4);
    for (const l of D.layers) if (l.variant === state.variant || l.variant === "") rows[l.style.title] = q.labels[l.key];
    return "<b>" + esc(state.variant) + "</b>" + table(rows);
  }
  canvas.addEventListener("mousemove", async (ev) => {
    if (drag) return;
    const r = canvas.getBoundingClientRect();
    const x = ev.clientX - r.left, y = ev.clientY - r.top;
    const html = await describe(x, y);
    tip.innerHTML = html;
    tip.style.display = "block";
    tip.style.left = Math.min(x + 14, canvas.clientWidth - 260) + "px";
    tip.style.top = (y + 14) + "px";
  });
  canvas.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  canvas.addEventListener("click", async (ev) => {
    if (moved) return;
    const r = canvas.getBoundingClientRect();
    pinned = [ev.clientX - r.left, ev.clientY - r.top];
    info.innerHTML = await describe(pinned[0], pinned[1]);
  });
  let drag = null, moved = false;
  // pointer events: mouse, pen and touch drag alike
  canvas.addEventListener("pointerdown", (ev) => { drag = [ev.clientX, ev.clientY, state.cx, state.cy]; moved = false; });
  window.addEventListener("pointerup", () => { drag = null; });
  window.addEventListener("pointermove", (ev) => {
    if (!drag) return;
    const dx = ev.clientX - drag[0], dy = ev.clientY - drag[1];
    if (Math.abs(dx) + Math.abs(dy) > 3) moved = true;
    state.cx = drag[2] - dx / state.s; state.cy = drag[3] - dy / state.s;
    draw();
  });
  function zoom(f, x, y) {
    x = x === undefined ? canvas.clientWidth / 2 : x; y = y === undefined ? canvas.clientHeight / 2 : y;
    const [lon, lat] = toLonLat(x, y);
    state.s *= f;
    const [lon2, lat2] = toLonLat(x, y);
    state.cx += (lon - lon2) * kx; state.cy -= (lat - lat2);
    draw();
  }
  canvas.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = canvas.getBoundingClientRect();
    zoom(ev.deltaY < 0 ? 1.25 : 0.8, ev.clientX - r.left, ev.clientY - r.top);
  }, { passive: false });
  canvas.addEventListener("dblclick", (ev) => {
    const r = canvas.getBoundingClientRect();
    zoom(2, ev.clientX - r.left, ev.clientY - r.top);
  });
  $("yalu-zoom-in").onclick = () => zoom(1.5);
  $("yalu-zoom-out").onclick = () => zoom(1 / 1.5);
  $("yalu-zoom-fit").onclick = () => { fit(); draw(); };

  // ---------------------------------------------------------------- controls and legend
  function controls() {
    const vs = $("yalu-variants");
    vs.innerHTML = "";
    for (const v of D.variants) {
      const id = "yalu-v-" + D.variants.indexOf(v);
      vs.insertAdjacentHTML("beforeend", '<label><input type="radio" name="yalu-variant" id="' + id + '"' +
        (v === state.variant ? " checked" : "") + "> " + esc(v) + "</label>");
      $(id).onchange = () => { state.variant = v; if (!layerOf(v, state.key)) state.key = "service_level"; controls(); draw(); };
    }
    const ks = $("yalu-layers");
    ks.innerHTML = "";
    const keys = keysOf(state.variant).concat(["none"]);
    for (const k of keys) {
      const l = layerOf(state.variant, k);
      const id = "yalu-k-" + k;
      ks.insertAdjacentHTML("beforeend", '<label><input type="radio" name="yalu-layer" id="' + id + '"' +
        (k === state.key ? " checked" : "") + "> " + esc(l ? l.style.title : "no layer") + "</label>");
      $(id).onchange = () => { state.key = k; legend(); draw(); };
    }
    legend();
  }
  function legend() {
    const el = $("yalu-legend");
    const l = layerOf(state.variant, state.key);
    if (!l) { el.innerHTML = ""; return; }
    const st = l.style;
    let s = "<b>" + esc(st.title) + "</b>" + (st.units ? " [" + esc(st.units) + "]" : "");
    if (st.kind === "categorical") {
      s += "<div>";
      for (const c of st.categories) {
        const a = hexRgba(c[2])[3] === 0;
        s += '<div><span class="sw" style="background:' + (a ? "transparent" : c[2].slice(0, 7)) + '"></span>' + esc(c[1]) + (a ? " (transparent)" : "") + "</div>";
      }
      s += "</div>";
    } else if (st.kind === "indexed") {
      s += "<div>" + (l.labels ? l.labels.length : 0) + " servers; colours repeat every 20: hover the map to name the server.</div>";
    } else {
      s += '<canvas id="yalu-bar" width="240" height="38"></canvas>';
      if (st.thresholds.length) {
        s += '<div class="thr">thresholds: ' + st.thresholds.map((t) => esc(t[1]) + " " + t[0] + (st.units === "probability" ? "" : " " + esc(st.units))).join("; ") + "</div>";
      }
    }
    if (st.note) s += '<div class="note">' + esc(st.note) + "</div>";
    el.innerHTML = s;
    const bar = $("yalu-bar");
    if (bar) {
      const c = bar.getContext("2d"), lut = D.luts[st.cmap];
      for (let x = 0; x < 220; x++) { c.fillStyle = lut[Math.round(x / 219 * (lut.length - 1))]; c.fillRect(10 + x, 2, 1, 14); }
      c.fillStyle = "#000"; c.font = "10px sans-serif";
      c.fillText(String(l.vmin), 2, 30); c.textAlign = "right"; c.fillText(String(l.vmax), 238, 30);
      c.textAlign = "center";
      for (const t of st.thresholds) {
        if (t[0] < l.vmin || t[0] > l.vmax) continue;
        const x = 10 + (t[0] - l.vmin) / (l.vmax - l.vmin) * 219;
        c.fillRect(x - 0.5, 0, 1.5, 18);
      }
    }
  }
  for (const k of Object.keys(show)) {
    const cb = $("yalu-show-" + k);
    if (cb) { cb.checked = show[k]; cb.onchange = () => { show[k] = cb.checked; draw(); }; }
  }
  $("yalu-opacity").oninput = (ev) => { state.opacity = Number(ev.target.value) / 100; draw(); };

  // settlement label order: most populous first
  D.setOrder = D.points.map((p, i) => [p, i]).filter((x) => x[0].kind === "settlement")
    .sort((a, b) => (b[0].props.population || 0) - (a[0].props.population || 0)).map((x) => x[1]);

  // ---------------------------------------------------------------- start
  window.yaluShow = async (variant, key) => { state.variant = variant; state.key = key; controls(); await draw(); };
  window.yaluScreen = (lat, lon) => toScreen(lon, lat);
  async function start() {
    fit();
    controls();
    await draw();
    window.addEventListener("resize", () => draw());
    const h = new URLSearchParams(location.hash.slice(1));
    if (h.get("variant") || h.get("layer")) await window.yaluShow(h.get("variant") || state.variant, h.get("layer") || state.key);
    if (h.has("focus")) $("yalu-map").scrollIntoView();
    if (h.get("query")) {
      const res = [];
      for (const q of h.get("query").split(";")) {
        const [la, lo] = q.split(",").map(Number);
        res.push(await query(la, lo, h.get("variant") || undefined));
      }
      $("yalu-query-result").textContent = JSON.stringify(res);
    }
    if (h.get("click")) {
      const [la, lo] = h.get("click").split(",").map(Number);
      const [x, y] = toScreen(lo, la);
      const r = canvas.getBoundingClientRect();
      canvas.dispatchEvent(new MouseEvent("click", { clientX: r.left + x, clientY: r.top + y, bubbles: true }));
      await new Promise((res) => setTimeout(res, 50));
      for (let k = 0; k < 50 && !info.innerHTML; k++) await new Promise((res) => setTimeout(res, 20));
    }
    document.documentElement.setAttribute("data-yalu-ready", "1");
  }
  window.yaluReady = start().catch((e) => noteError(e && e.stack ? e.stack : e));
})();
