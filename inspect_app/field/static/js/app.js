// The field app's screens. Every screen reads IndexedDB and writes to it as the inspector
// types; the network is only the sync engine's business (sync.js).
import { ApiError, NetworkError, call } from "./api.js";
import * as db from "./db.js";
import { LoggedOut, onChange, outboxRecords, pending, settle, syncNow } from "./sync.js";
import { beijingDay, beijingIso, distanceKm, esc, sha256, showTime, uuid } from "./util.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const statusLine = document.getElementById("status");

const RESULTS = [
  ["pass", "合格"],
  ["fail", "不合格"],
  ["na", "不适用"],
];
const SEVERITY = { general: "一般", key: "重点" };
const STATUS = { open: "待整改", rectifying: "整改中", pending_review: "待复查", closed: "已销号", voided: "已作废" };
const OPEN = new Set(["open", "rectifying", "pending_review"]);
const STATE = { draft: "草稿", queued: "待上传", uploading: "上传中", done: "已上传", error: "需处理" };
const OUTCOMES = { fixed: "整改到位", relapsed: "问题反弹" };
const STEP_LABELS = { remind: "临期提醒", escalate: "逾期上报", supervise: "挂牌督办" };
// Kinds of outbox rows and their stores.
const STORE_OF = { inspection: "inspections", report: "reports", revisit: "revisits" };
const DUE_SOON_DAYS = 3;
const SYNC_EVERY_MS = 20000;

let position = null; // the phone's last known position {lat, lon}

const say = (text) => (statusLine.textContent = text || "");

function stateLabel(record) {
  const label = STATE[record.state] || record.state;
  const text = record.state === "uploading" ? `${label} ${record.progress || 0}%` : label;
  return `<span class="state state-${esc(record.state)}">${esc(text)}</span>`;
}

function locate() {
  if (!navigator.geolocation) return Promise.resolve(null);
  return new Promise((resolve) => {
    navigator.geolocation.getCurrentPosition(
      (p) => {
        position = { lat: p.coords.latitude, lon: p.coords.longitude };
        resolve(position);
      },
      () => resolve(position),
      { timeout: 5000, maximumAge: 60000 },
    );
  });
}

function show(title, html) {
  document.title = `${title} · 现场检查`;
  main.innerHTML = html;
}

async function drawNav() {
  const token = await db.meta("token");
  if (!token) {
    nav.innerHTML = "";
    return;
  }
  const count = await pending();
  const errors = (await outboxRecords()).filter((r) => r.state === "error").length;
  // The reminders' link once there are any; its badge counts those not yet seen.
  const reminders = await db.all("reminders");
  const seen = (await db.meta("reminders_seen")) || "";
  const unread = reminders.filter((r) => (r.created_at || "") > seen).length;
  const badge = unread ? ` <span class="badge">${unread}</span><span class="sr">条未读</span>` : "";
  nav.innerHTML =
    `<a href="#/">检查</a>` +
    (reminders.length ? `<a href="#/reminders" id="nav-reminders">提醒${badge}</a>` : "") +
    `<a href="#/outbox" id="nav-outbox">上传队列：待传 ${count}${errors ? `，需处理 ${errors}` : ""}</a>` +
    `<button type="button" id="logout">退出</button>`;
  document.getElementById("logout").onclick = logout;
}

async function logout() {
  if ((await pending()) > 0) {
    say("还有记录未上传，已保留在手机上；重新登录后继续上传。");
  }
  // The phone forgets the login at once, whatever the signal; the server forgets it when
  // the request gets through (offline or on a dying link, the token expires by itself).
  const token = await db.meta("token");
  if (token) {
    call("DELETE", "/auth/token", { extra: { Authorization: `Bearer ${token}` } }).catch(() => {});
  }
  await db.del("meta", "token");
  location.hash = "#/login";
  route();
}

// ---------------------------------------------------------------------------- login

function loginScreen() {
  show(
    "登录",
    `<h1>检查员登录</h1>
    <form id="login">
      <label for="username">用户名</label>
      <input type="text" id="username" name="username" autocomplete="username" required>
      <label for="password">密码</label>
      <input type="password" id="password" name="password" autocomplete="current-password" required>
      <p id="login-error" class="error-text" role="alert"></p>
      <button type="submit" class="wide">登录</button>
    </form>
    <p class="meta">登录一次后，没有信号也能检查；有网络时自动上传。</p>`,
  );
  document.getElementById("login").onsubmit = async (event) => {
    event.preventDefault();
    const error = document.getElementById("login-error");
    error.textContent = "";
    const form = event.target;
    try {
      const answer = await call("POST", "/auth/token", {
        body: { username: form.username.value.trim(), password: form.password.value },
      });
      const before = await db.meta("user");
      if (before && before.id !== answer.body.user.id) {
        // A phone handed on: the last user's unsent work goes under their name only.
        const unsent = (await outboxRecords()).filter((r) => r.state !== "done");
        if (unsent.length) {
          error.textContent = `这部手机上还有 ${before.display_name || before.username} 的 ${unsent.length} 条记录未上传：请先由其登录上传。`;
          await call("DELETE", "/auth/token", { extra: { Authorization: `Bearer ${answer.body.token}` } }).catch(() => {});
          return;
        }
        await db.clear();
      }
      await db.setMeta("token", answer.body.token);
      await db.setMeta("user", answer.body.user);
      say("正在下载检查表和站点…");
      await syncNow();
      say("");
      location.hash = "#/";
    } catch (e) {
      error.textContent = e instanceof NetworkError ? "连不上服务器：首次登录需要网络。" : e.message;
    }
  };
}

// ---------------------------------------------------------------------------- start: tasks, then campaigns

const dayNumber = (day) => Math.round(Date.parse(`${day}T00:00:00Z`) / 86400000);

/** Where an assignment stands, from what the server said and what this phone holds. */
function taskState(a, { inspections, revisits, campaigns }) {
  if (a.kind === "revisit") {
    if (a.outcome || a.done_at) return { done: true, html: `<span class="state state-done">已完成：${esc(OUTCOMES[a.outcome] || "")}</span>` };
    const record = revisits.find((r) => r.assignment_id === a.id);
    if (record && record.state === "done") return { done: true, html: `<span class="state state-done">已完成：${esc(OUTCOMES[record.outcome])}</span>` };
    if (record) return { done: false, html: `${stateLabel(record)} 复查结果：${esc(OUTCOMES[record.outcome])}` };
    return { done: false, html: "" };
  }
  if (a.inspected) return { done: true, html: `<span class="state state-done">已完成</span>` };
  // A final inspection of the site under the campaign that began within the stage
  // (Beijing days, as the server counts).
  const stage = (campaigns[a.campaign]?.stages || []).find((st) => st.name === a.stage);
  const mine = inspections.filter((r) => r.campaign === a.campaign && r.site_id === a.site_id);
  const within = (r) => stage && r.started_at && r.started_at.slice(0, 10) >= stage.starts_on && r.started_at.slice(0, 10) <= stage.ends_on;
  if (mine.some((r) => r.state === "done" && within(r))) return { done: true, html: `<span class="state state-done">已完成</span>` };
  const sending = mine.find((r) => r.state !== "draft" && r.state !== "done");
  if (sending) return { done: false, html: `${stateLabel(sending)} 已检查` };
  if (mine.some((r) => r.state === "draft")) return { done: false, html: `<span class="state state-draft">草稿：继续检查</span>` };
  return { done: false, html: "" };
}

function dueHtml(a, done) {
  const left = dayNumber(a.due_on) - dayNumber(beijingDay(0));
  if (done || left > DUE_SOON_DAYS) return `<span class="meta">截止 ${esc(a.due_on)}</span>`;
  if (left < 0) return `<span class="overdue">截止 ${esc(a.due_on)}（已逾期 ${-left} 天）</span>`;
  return `<span class="due-soon">截止 ${esc(a.due_on)}（${left ? `还剩 ${left} 天` : "今天到期"}）</span>`;
}

function taskHtml(a, state, campaigns, findings) {
  const campaign = campaigns[a.campaign];
  const revisit = a.kind === "revisit";
  const finding = revisit ? findings[a.finding_id] : null;
  const rechecks = revisit ? `<span class="meta">复查问题：${esc(finding ? finding.description : `问题 ${a.finding_id}`)}</span>` : "";
  return (
    `<li class="task${state.done ? " task-done" : ""}"><button type="button" class="pick" data-task="${a.id}">` +
    `<strong>${revisit ? `<span class="tag tag-revisit">回头看</span> ` : ""}${esc(a.site_name)}</strong>` +
    // A revisit's stage is 回头看 itself, which its tag says.
    `<span class="meta">${esc(campaign?.name || a.campaign)}${revisit ? "" : ` · ${esc(a.stage)}`}</span>` +
    rechecks +
    `<span>${dueHtml(a, state.done)}${state.html ? `　${state.html}` : ""}</span>` +
    `</button></li>`
  );
}

function campaignsHtml(campaigns) {
  return `<ul class="list" id="campaign-list">${campaigns
    .map(
      (c) =>
        `<li><a class="button pick" href="#/c/${encodeURIComponent(c.code)}"><strong>${esc(c.name)}</strong>` +
        `<span class="meta">${esc(c.document_no || "")}　检查表第 ${esc(c.checklist_version)} 版</span></a></li>`,
    )
    .join("")}</ul>
    ${campaigns.length ? "" : "<p>还没有下载检查表：请在有网络时打开。</p>"}`;
}

async function startScreen() {
  const user = await db.meta("user");
  const held = await db.all("campaigns");
  const campaigns = held.filter((c) => c.checklist_version);
  const byCode = Object.fromEntries(held.map((c) => [c.code, c]));
  const refreshed = await db.meta("refreshed_at");
  const who = `<p class="meta">${esc(user?.display_name || "")}，负责：${esc((user?.districts || []).join("、"))}</p>`;
  const when = `<p class="meta">数据更新于 ${esc(showTime(refreshed) || "—")}（北京时间）</p>`;
  const assignments = await db.all("assignments");
  if (!assignments.length) {
    // Nobody has sent this user anywhere: the campaigns are the start.
    show("选择专项行动", `<h1>选择专项行动</h1>${who}${campaignsHtml(campaigns)}${when}`);
    return;
  }
  const context = {
    inspections: await db.all("inspections"),
    revisits: await db.all("revisits"),
    campaigns: byCode,
  };
  const findings = Object.fromEntries((await db.all("findings")).map((f) => [f.id, f]));
  const rows = assignments.map((a) => ({ a, state: taskState(a, context) }));
  rows.sort((x, y) => x.state.done - y.state.done || x.a.due_on.localeCompare(y.a.due_on) || x.a.id - y.a.id);
  const open = rows.filter((r) => !r.state.done).length;
  show(
    "我的检查任务",
    `<h1>我的检查任务</h1>${who}
    <p class="meta">未完成 ${open} 项，已完成 ${rows.length - open} 项；按截止日期排序。</p>
    <ul class="list" id="tasks">${rows.map(({ a, state }) => taskHtml(a, state, byCode, findings)).join("")}</ul>
    <h2>其他检查：选择专项行动</h2>
    ${campaignsHtml(campaigns)}${when}`,
  );
  document.getElementById("tasks").onclick = (event) => {
    const button = event.target.closest("button[data-task]");
    if (button) openTask(Number(button.dataset.task));
  };
}

async function openTask(id) {
  const a = await db.get("assignments", id);
  if (!a) return;
  if (a.kind === "revisit") {
    location.hash = `#/a/${id}`;
    return;
  }
  await inspectSite(a.campaign, a.site_id);
}

/** Start (or go on with) the inspection of a server's site for a campaign. */
async function inspectSite(code, siteId) {
  if (!(await checklistOf(code))) return say("还没有下载这个专项行动的检查表：请在有网络时同步。");
  if (!(await db.get("sites", `s${siteId}`))) return say("还没有下载这个站点：请在有网络时同步。");
  await startInspection(code, `s${siteId}`);
}

// ---------------------------------------------------------------------------- sites

async function checklistOf(code) {
  return db.get("checklists", code);
}

const applies = (item, siteType) => !item.site_types?.length || item.site_types.includes(siteType);

async function sitesScreen(code, query = "") {
  const campaign = await db.get("campaigns", code);
  const checklist = await checklistOf(code);
  if (!campaign || !checklist) return show("未找到", "<h1>没有这个专项行动的检查表</h1>");
  const types = new Set(checklist.items.flatMap((i) => i.site_types || []));
  const findings = await db.all("findings");
  const openBySite = {};
  for (const f of findings) if (OPEN.has(f.status)) openBySite[f.site_id] = (openBySite[f.site_id] || 0) + 1;
  show(
    "选择站点",
    `<h1>选择站点</h1>
    <p class="meta">${esc(campaign.name)}</p>
    <label for="site-search">按名称搜索站点</label>
    <input type="search" id="site-search" value="${esc(query)}" autocomplete="off">
    <a class="button secondary wide" href="#/c/${encodeURIComponent(code)}/new">登记新站点（现场发现）</a>
    <p id="where" class="meta"></p>
    <ul class="list" id="site-list"></ul>`,
  );
  const list = document.getElementById("site-list");
  const draw = async () => {
    const words = document.getElementById("site-search").value.trim();
    let sites = (await db.all("sites")).filter((s) => !types.size || types.has(s.site_type));
    if (words) sites = sites.filter((s) => s.name.includes(words) || (s.address || "").includes(words));
    const here = position;
    for (const s of sites) s.km = here && s.lat != null && s.lon != null ? distanceKm(here, s) : null;
    sites.sort((a, b) => (a.km ?? 1e9) - (b.km ?? 1e9) || a.name.localeCompare(b.name, "zh-CN"));
    document.getElementById("where").textContent = here ? "按距离排序，最近的在前" : "未取得位置：按名称排序";
    list.innerHTML = sites
      .slice(0, 60)
      .map((s) => {
        const open = s.id ? openBySite[s.id] || 0 : 0;
        const km = s.km == null ? "" : `　约 ${s.km < 10 ? s.km.toFixed(1) : Math.round(s.km)} 公里`;
        const local = s.local ? "　（手机上登记，待上传）" : "";
        return (
          `<li><button type="button" class="pick" data-site="${esc(s.key)}"><strong>${esc(s.name)}</strong>` +
          `<span class="meta">${esc(s.site_type)} · ${esc(s.district)}${km}${local}</span></button>` +
          (open ? `<a href="#/site/${encodeURIComponent(s.key)}">整改复查：${open} 个问题未销号</a>` : "") +
          `</li>`
        );
      })
      .join("");
    if (!sites.length) list.innerHTML = "<li>没有找到站点，可以登记新站点。</li>";
  };
  document.getElementById("site-search").oninput = draw;
  list.onclick = (event) => {
    const button = event.target.closest("button[data-site]");
    if (button) startInspection(code, button.dataset.site);
  };
  await draw();
  if (!position) locate().then((p) => p && draw());
}

async function startInspection(code, siteKey) {
  const drafts = (await db.all("inspections")).filter(
    (r) => r.campaign === code && r.site_key === siteKey && r.state === "draft",
  );
  if (drafts.length) {
    location.hash = `#/i/${drafts[0].uuid}`;
    return;
  }
  const checklist = await checklistOf(code);
  const site = await db.get("sites", siteKey);
  const record = {
    uuid: uuid(),
    campaign: code,
    checklist_version: checklist.version,
    site_key: siteKey,
    site_id: site.id || null,
    site_name: site.name,
    started_at: beijingIso(),
    finished_at: null,
    location: position,
    answers: {},
    findings: {},
    state: "draft",
    created_at: new Date().toISOString(),
  };
  await db.put("inspections", record);
  location.hash = `#/i/${record.uuid}`;
}

async function newSiteScreen(code) {
  const user = await db.meta("user");
  const checklist = await checklistOf(code);
  const covered = new Set(checklist.items.flatMap((i) => i.site_types || []));
  const types = ((await db.meta("site_types")) || [...covered]).filter((t) => !covered.size || covered.has(t));
  show(
    "登记新站点",
    `<h1>登记新站点</h1>
    <form id="new-site">
      <label for="site-name">站点名称</label>
      <input type="text" id="site-name" name="name" required maxlength="200">
      <label for="site-type">类型</label>
      <select id="site-type" name="site_type">${types.map((t) => `<option>${esc(t)}</option>`).join("")}</select>
      <label for="site-district">所在区域</label>
      <select id="site-district" name="district">${(user?.districts || [])
        .map((d) => `<option>${esc(d)}</option>`)
        .join("")}</select>
      <label for="site-address">地址或位置说明</label>
      <input type="text" id="site-address" name="address" maxlength="300">
      <p id="site-where" class="meta">正在取得位置…</p>
      <p id="site-error" class="error-text" role="alert"></p>
      <button type="submit" class="wide">登记并开始检查</button>
    </form>`,
  );
  locate().then((p) => {
    const where = document.getElementById("site-where");
    if (where) where.textContent = p ? `位置：${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}` : "未取得位置（可以不填）";
  });
  document.getElementById("new-site").onsubmit = async (event) => {
    event.preventDefault();
    const form = event.target;
    const name = form.name.value.trim();
    if (!name) {
      document.getElementById("site-error").textContent = "请填写站点名称";
      return;
    }
    const client = uuid();
    const site = {
      key: `local:${client}`,
      client_uuid: client,
      id: null,
      local: true,
      state: "queued",
      name,
      site_type: form.site_type.value,
      district: form.district.value,
      address: form.address.value.trim(),
      lat: position?.lat ?? null,
      lon: position?.lon ?? null,
    };
    await db.put("sites", site);
    await startInspection(code, site.key);
  };
}

// ---------------------------------------------------------------------------- inspection

function findingHtml(code, f) {
  const id = (name) => `${code}-${name}`;
  return `<div class="finding">
    <h3>问题记录</h3>
    <label for="${id("description")}">问题描述</label>
    <textarea id="${id("description")}" data-field="description" maxlength="4000">${esc(f.description)}</textarea>
    <label for="${id("severity")}">问题等级</label>
    <select id="${id("severity")}" data-field="severity">${Object.entries(SEVERITY)
      .map(([v, t]) => `<option value="${v}"${f.severity === v ? " selected" : ""}>${t}</option>`)
      .join("")}</select>
    <div class="check"><input type="checkbox" id="${id("major")}" data-field="major_hazard"${f.major_hazard ? " checked" : ""}><label for="${id("major")}">重大事故隐患</label></div>
    <label for="${id("requirement")}">整改要求</label>
    <textarea id="${id("requirement")}" data-field="requirement" maxlength="2000">${esc(f.requirement)}</textarea>
    <label for="${id("deadline")}">整改时限</label>
    <input type="date" id="${id("deadline")}" data-field="deadline" value="${esc(f.deadline)}">
    <div class="check"><input type="checkbox" id="${id("spot")}" data-field="fixed_on_spot"${f.fixed_on_spot ? " checked" : ""}><label for="${id("spot")}">立行立改（现场已整改，需拍整改后照片）</label></div>
    <label for="${id("photos")}">拍照或选择照片</label>
    <input type="file" id="${id("photos")}" data-photos="${esc(code)}" accept="image/*" capture="environment" multiple>
    <div class="thumbs" data-thumbs="${esc(code)}"></div>
  </div>`;
}

function itemHtml(item, answer, finding) {
  const result = answer?.result || "";
  const name = `r-${item.code}`;
  return `<div class="item${result === "fail" ? " fail" : ""}" data-item="${esc(item.code)}">
    <fieldset>
      <legend>${esc(item.code)}　${esc(item.text)}</legend>
      <p class="meta">${esc(item.section || "")}${item.lead_department ? `　牵头：${esc(item.lead_department)}` : ""}</p>
      <div class="choices">${RESULTS.map(
        ([value, text]) =>
          `<input type="radio" id="${name}-${value}" name="${name}" value="${value}"${result === value ? " checked" : ""}>` +
          `<label class="${value}" for="${name}-${value}">${text}</label>`,
      ).join("")}</div>
    </fieldset>
    ${result === "fail" ? findingHtml(item.code, finding) : ""}
  </div>`;
}

async function drawThumbs(container, shas) {
  const urls = [];
  for (const sha of shas) {
    const photo = await db.get("photos", sha);
    if (photo) urls.push(URL.createObjectURL(photo.blob));
  }
  container.innerHTML = urls.map((u, i) => `<img src="${u}" alt="照片 ${i + 1}">`).join("");
  // Photos the server holds are no longer kept on the phone: counted, not shown.
  if (shas.length) {
    const sent = shas.length - urls.length;
    container.insertAdjacentHTML("beforeend", `<span class="meta">照片 ${shas.length} 张${sent ? `（${sent} 张已上传）` : ""}</span>`);
  }
}

/** Keep each chosen photo's bytes under its SHA-256 (hashed here, in the page). */
async function keepPhotos(files) {
  const shas = [];
  for (const file of files) {
    const bytes = await file.arrayBuffer();
    const sha = await sha256(bytes);
    await db.put("photos", { sha256: sha, blob: new Blob([bytes], { type: file.type || "image/jpeg" }), type: file.type || "image/jpeg", name: file.name });
    shas.push(sha);
  }
  return shas;
}

async function inspectionScreen(id) {
  const record = await db.get("inspections", id);
  if (!record) return show("未找到", "<h1>没有这条检查记录</h1>");
  const checklist = await checklistOf(record.campaign);
  const campaign = await db.get("campaigns", record.campaign);
  const site = (await db.get("sites", record.site_key)) || { name: record.site_name, site_type: "" };
  const items = checklist.items.filter((i) => applies(i, site.site_type));
  const editable = record.state === "draft";
  const days = campaign?.deadline_days || { general: 7, key: 30 };
  show(
    "现场检查",
    `<h1>${esc(site.name)}</h1>
    <p class="meta">${esc(campaign?.name || record.campaign)}　${esc(site.site_type)} · ${esc(site.district || "")}<br>
    开始于 ${esc(showTime(record.started_at))}（北京时间）　${stateLabel(record)}</p>
    ${record.message ? `<p class="error-text">服务器：${esc(record.message)}</p>` : ""}
    <p id="progress" class="meta"></p>
    <h2>检查项（${items.length} 项）</h2>
    <form id="inspection">${items
      .map((i) => itemHtml(i, record.answers[i.code], record.findings[i.code]))
      .join("")}</form>
    <p id="finish-error" class="error-text" role="alert"></p>
    ${editable ? `<button type="button" id="finish" class="wide">完成检查，加入上传队列</button>` : `<a class="button secondary wide" href="#/outbox">查看上传队列</a>`}`,
  );
  const form = document.getElementById("inspection");
  if (!editable) form.querySelectorAll("input, select, textarea").forEach((el) => (el.disabled = true));
  let saving = 0;
  const progress = () => {
    const done = items.filter((i) => record.answers[i.code]?.result).length;
    const saved = saving ? "正在保存…" : "已保存在手机上";
    document.getElementById("progress").textContent = `已检查 ${done} / ${items.length} 项 · ${saved}`;
  };
  const drawItem = async (code) => {
    const item = items.find((i) => i.code === code);
    const box = form.querySelector(`[data-item="${CSS.escape(code)}"]`);
    box.outerHTML = itemHtml(item, record.answers[code], record.findings[code]);
    const thumbs = form.querySelector(`[data-thumbs="${CSS.escape(code)}"]`);
    if (thumbs) await drawThumbs(thumbs, record.findings[code].photos);
  };
  for (const item of items) {
    const thumbs = form.querySelector(`[data-thumbs="${CSS.escape(item.code)}"]`);
    if (thumbs) await drawThumbs(thumbs, record.findings[item.code].photos);
  }
  progress();
  // Each change is written at once; the line says when it is safely on the phone.
  const persist = async () => {
    saving++;
    progress();
    try {
      await db.put("inspections", record);
    } finally {
      saving--;
      progress();
    }
  };

  form.addEventListener("change", async (event) => {
    const el = event.target;
    const box = el.closest("[data-item]");
    if (!box || !editable) return;
    const code = box.dataset.item;
    if (el.type === "radio") {
      record.answers[code] = { ...(record.answers[code] || {}), result: el.value };
      if (el.value === "fail" && !record.findings[code]) {
        const item = items.find((i) => i.code === code);
        const severity = item.default_severity || "general";
        record.findings[code] = {
          id: uuid(),
          description: "",
          severity,
          major_hazard: false,
          requirement: "",
          deadline: beijingDay(days[severity]),
          deadline_set_by_hand: false,
          fixed_on_spot: false,
          photos: [],
        };
      }
      await persist();
      progress();
      await drawItem(code);
      const radio = document.getElementById(`r-${code}-${el.value}`);
      if (radio) radio.focus();
      return;
    }
    if (el.dataset.photos) {
      const shas = await keepPhotos(el.files);
      const f = record.findings[code];
      f.photos = [...new Set([...f.photos, ...shas])];
      await persist();
      el.value = "";
      await drawThumbs(form.querySelector(`[data-thumbs="${CSS.escape(code)}"]`), f.photos);
      return;
    }
    await fieldChanged(el, code);
  });
  form.addEventListener("input", async (event) => {
    const el = event.target;
    const box = el.closest("[data-item]");
    if (box && editable && el.dataset.field && el.type !== "checkbox") await fieldChanged(el, box.dataset.item);
  });
  const fieldChanged = async (el, code) => {
    const f = record.findings[code];
    if (!f || !el.dataset.field) return;
    const field = el.dataset.field;
    f[field] = el.type === "checkbox" ? el.checked : el.value;
    if (field === "deadline") f.deadline_set_by_hand = true;
    if (field === "severity" && !f.deadline_set_by_hand) {
      f.deadline = beijingDay(days[f.severity]);
      document.getElementById(`${code}-deadline`).value = f.deadline;
    }
    await persist();
  };
  const finish = document.getElementById("finish");
  if (finish) {
    finish.onclick = async () => {
      const problems = [];
      for (const item of items) {
        if (record.answers[item.code]?.result !== "fail") continue;
        const f = record.findings[item.code];
        if (!f.description.trim()) problems.push(`${item.code} 不合格：请填写问题描述`);
        if (f.fixed_on_spot && !f.photos.length) problems.push(`${item.code} 立行立改：请拍整改后照片`);
      }
      if (!items.some((i) => record.answers[i.code]?.result)) problems.push("还没有检查任何一项");
      document.getElementById("finish-error").textContent = problems.join("；");
      if (problems.length) return;
      record.finished_at = beijingIso();
      record.state = "queued";
      record.queued_at = new Date().toISOString();
      record.message = "";
      record.attempts = 0;
      record.next_try = 0;
      await persist();
      location.hash = "#/outbox";
      startSync();
    };
  }
}

// ---------------------------------------------------------------------------- outbox

async function outboxScreen() {
  const inspections = await db.all("inspections");
  const reports = await db.all("reports");
  const revisits = await db.all("revisits");
  const sites = Object.fromEntries((await db.all("sites")).map((s) => [s.key, s]));
  const findings = Object.fromEntries((await db.all("findings")).map((f) => [f.id, f]));
  const rows = [
    ...inspections.map((r) => ({ kind: "inspection", r, title: `检查：${sites[r.site_key]?.name || r.site_name}`, when: r.queued_at || r.created_at })),
    ...reports.map((r) => ({ kind: "report", r, title: `整改上报：${findings[r.finding_id]?.description?.slice(0, 24) || `问题 ${r.finding_id}`}`, when: r.queued_at || r.created_at })),
    ...revisits.map((r) => ({ kind: "revisit", r, title: `回头看结果：${r.site_name || ""}（${OUTCOMES[r.outcome] || r.outcome}）`, when: r.queued_at || r.created_at })),
  ].sort((a, b) => (b.when || "").localeCompare(a.when || ""));
  show(
    "上传队列",
    `<h1>上传队列</h1>
    <p class="meta">有网络时自动逐条上传；一条出错不影响其他记录。</p>
    <button type="button" id="sync-now" class="wide">立即同步</button>
    <ul class="list" id="outbox">${rows
      .map(({ kind, r, title }) => {
        const open = { inspection: `#/i/${r.uuid}`, report: `#/f/${r.finding_id}`, revisit: `#/a/${r.assignment_id}` }[kind];
        const actions = [];
        if (r.state === "draft") actions.push(`<a class="button secondary" href="${open}">继续填写</a>`);
        if (r.state === "error") {
          actions.push(`<button type="button" class="secondary" data-edit="${kind}:${r.uuid}">修改</button>`);
          actions.push(`<button type="button" data-retry="${kind}:${r.uuid}">重新上传</button>`);
        }
        return `<li data-record="${esc(r.uuid)}"><strong>${esc(title)}</strong><br>${stateLabel(r)}
          <span class="meta">${esc(showTime(r.sent_at || r.queued_at || r.created_at))}</span>
          ${r.message ? `<p class="${r.state === "error" ? "error-text" : "meta"}" data-message>${esc(r.message)}</p>` : ""}
          <div class="row">${actions.join("")}</div></li>`;
      })
      .join("")}</ul>
    ${rows.length ? "" : "<p>队列是空的。</p>"}`,
  );
  document.getElementById("sync-now").onclick = () => startSync(true);
  document.getElementById("outbox").onclick = async (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const [kind, id] = (button.dataset.edit || button.dataset.retry || ":").split(":");
    const store = STORE_OF[kind];
    const record = store && (await db.get(store, id));
    if (!record) return;
    if (button.dataset.edit) {
      // Back to a draft, the server's message kept on screen until it is sent again.
      await db.put(store, { ...record, state: "draft" });
      location.hash = { inspection: `#/i/${id}`, report: `#/f/${record.finding_id}`, revisit: `#/a/${record.assignment_id}` }[kind];
    } else {
      await db.put(store, { ...record, state: "queued", next_try: 0, attempts: 0 });
      startSync(true);
    }
  };
}

// ---------------------------------------------------------------------------- follow-up

async function followUpScreen(siteKey) {
  const site = await db.get("sites", siteKey);
  if (!site) return show("未找到", "<h1>没有这个站点</h1>");
  const findings = (await db.all("findings"))
    .filter((f) => f.site_id === site.id && OPEN.has(f.status))
    .sort((a, b) => (a.deadline || "").localeCompare(b.deadline || ""));
  const reports = await db.all("reports");
  const today = beijingDay(0);
  show(
    "整改复查",
    `<h1>整改复查：${esc(site.name)}</h1>
    <p class="meta">${esc(site.site_type)} · ${esc(site.district)}　未销号问题 ${findings.length} 个</p>
    <ul class="list">${findings
      .map((f) => {
        const report = reports.find((r) => r.finding_id === f.id && r.state !== "done");
        const overdue = f.deadline && f.deadline < today;
        const rejected = f.last_action === "reject";
        return `<li><strong>${esc(f.description)}</strong><br>
          <span class="meta">${esc(STATUS[f.status] || f.status)} · ${esc(SEVERITY[f.severity] || "")}问题</span>
          <span class="${overdue ? "overdue" : "meta"}">整改时限 ${esc(f.deadline || "—")}${overdue ? "（已逾期）" : ""}</span>
          ${rejected ? `<p class="error-text">退回整改：${esc(f.last_note || "")}</p>` : ""}
          ${report ? `<p>${stateLabel(report)} 整改上报</p>` : ""}
          ${f.status !== "pending_review" ? `<a class="button secondary wide" href="#/f/${f.id}">上报整改情况</a>` : ""}</li>`;
      })
      .join("")}</ul>
    ${findings.length ? "" : "<p>这个站点没有未销号的问题。</p>"}`,
  );
}

async function reportScreen(findingId) {
  const finding = await db.get("findings", findingId);
  if (!finding) return show("未找到", "<h1>没有这个问题</h1>");
  let record = (await db.all("reports")).find((r) => r.finding_id === findingId && r.state !== "done");
  if (!record) {
    record = { uuid: uuid(), finding_id: findingId, site_id: finding.site_id, note: "", photos: [], state: "draft", created_at: new Date().toISOString() };
  }
  const editable = record.state === "draft";
  const site = (await db.all("sites")).find((s) => s.id === finding.site_id);
  show(
    "上报整改情况",
    `<h1>上报整改情况</h1>
    <p><strong>${esc(finding.description)}</strong></p>
    <p class="meta">${esc(site?.name || "")}　${esc(STATUS[finding.status] || "")}　整改时限 ${esc(finding.deadline || "—")}</p>
    ${finding.last_action === "reject" ? `<p class="error-text">上次退回：${esc(finding.last_note || "")}</p>` : ""}
    ${record.message ? `<p class="error-text">服务器：${esc(record.message)}</p>` : ""}
    <form id="report">
      <label for="report-note">整改情况说明</label>
      <textarea id="report-note" maxlength="2000">${esc(record.note)}</textarea>
      <label for="report-photos">拍整改后照片</label>
      <input type="file" id="report-photos" accept="image/*" capture="environment" multiple>
      <div class="thumbs" id="report-thumbs"></div>
      <p id="report-error" class="error-text" role="alert"></p>
      ${editable ? `<button type="submit" class="wide">提交整改情况，加入上传队列</button>` : `<p>${stateLabel(record)}</p>`}
    </form>
    ${site ? `<a href="#/site/${encodeURIComponent(site.key)}">返回整改复查</a>` : ""}`,
  );
  const form = document.getElementById("report");
  if (!editable) form.querySelectorAll("input, textarea").forEach((el) => (el.disabled = true));
  await drawThumbs(document.getElementById("report-thumbs"), record.photos);
  const persist = () => db.put("reports", record);
  document.getElementById("report-note").oninput = (e) => {
    record.note = e.target.value;
    persist();
  };
  document.getElementById("report-photos").onchange = async (e) => {
    record.photos = [...new Set([...record.photos, ...(await keepPhotos(e.target.files))])];
    e.target.value = "";
    await persist();
    await drawThumbs(document.getElementById("report-thumbs"), record.photos);
  };
  form.onsubmit = async (event) => {
    event.preventDefault();
    const problems = [];
    if (!record.photos.length) problems.push("请至少拍一张整改后照片");
    if (!record.note.trim()) problems.push("请填写整改情况说明");
    document.getElementById("report-error").textContent = problems.join("；");
    if (problems.length) return;
    Object.assign(record, { state: "queued", queued_at: new Date().toISOString(), message: "", attempts: 0, next_try: 0 });
    await persist();
    location.hash = "#/outbox";
    startSync();
  };
}

// ---------------------------------------------------------------------------- 回头看

async function revisitScreen(id) {
  const a = await db.get("assignments", id);
  if (!a || a.kind !== "revisit") return show("未找到", "<h1>没有这个回头看任务</h1><p>可能已被取消分派。</p>");
  const user = await db.meta("user");
  const campaign = await db.get("campaigns", a.campaign);
  const finding = await db.get("findings", a.finding_id);
  let record = (await db.all("revisits")).find((r) => r.assignment_id === id);
  const recorded = a.outcome || (record && record.state === "done" ? record.outcome : null);
  const editable = !recorded && (!record || record.state === "draft");
  // Only a team lead or the office may reopen a finding (the server's rule): an
  // inspector who finds the problem back records it as a new finding instead.
  const mayReopen = user && user.role !== "inspector";
  const outcome = record?.outcome || "";
  const choices = (mayReopen ? ["fixed", "relapsed"] : ["fixed"])
    .map(
      (v) =>
        `<input type="radio" id="outcome-${v}" name="outcome" value="${v}"${outcome === v ? " checked" : ""}>` +
        `<label class="${v === "fixed" ? "pass" : "fail"}" for="outcome-${v}">${OUTCOMES[v]}</label>`,
    )
    .join("");
  show(
    "回头看复查",
    `<h1>回头看复查：${esc(a.site_name)}</h1>
    <p class="meta">${esc(campaign?.name || a.campaign)} · ${esc(a.district)}${a.department ? ` · ${esc(a.department)}` : ""}<br>
    ${dueHtml(a, !!recorded)}</p>
    <h2>复查的问题</h2>
    <div class="finding">
      <p><strong>${esc(finding ? finding.description : `问题 ${a.finding_id}`)}</strong></p>
      ${finding ? `<p class="meta">${esc(STATUS[finding.status] || finding.status)} · ${esc(SEVERITY[finding.severity] || "")}问题 · 原整改时限 ${esc(finding.deadline || "—")}</p>` : ""}
      <p class="meta">请到现场查看该问题是否整改到位、有无反弹。</p>
    </div>
    ${recorded ? `<p><span class="state state-done">已完成：${esc(OUTCOMES[recorded])}</span></p>` : ""}
    ${record && !recorded ? `<p>${stateLabel(record)} 复查结果：${esc(OUTCOMES[record.outcome])}</p>` : ""}
    ${record?.message ? `<p class="${record.state === "error" ? "error-text" : "meta"}">${record.state === "error" ? "服务器：" : ""}${esc(record.message)}</p>` : ""}
    ${
      editable
        ? `<form id="revisit">
      <fieldset><legend>复查结果</legend><div class="choices">${choices}</div></fieldset>
      ${mayReopen ? "" : `<p class="meta">发现问题反弹：只有组长或专项办可以重新打开问题。请检查该站点，把问题记为不合格，并告知组长。</p>`}
      <label for="revisit-note">说明（可不填）</label>
      <textarea id="revisit-note" maxlength="2000">${esc(record?.note || "")}</textarea>
      <p id="revisit-error" class="error-text" role="alert"></p>
      <button type="submit" class="wide">登记复查结果，加入上传队列</button>
    </form>`
        : ""
    }
    <button type="button" id="inspect-site" class="secondary wide">检查该站点</button>`,
  );
  document.getElementById("inspect-site").onclick = () => inspectSite(a.campaign, a.site_id);
  const form = document.getElementById("revisit");
  if (!form) return;
  form.onsubmit = async (event) => {
    event.preventDefault();
    const chosen = form.querySelector("input[name=outcome]:checked");
    if (!chosen) {
      document.getElementById("revisit-error").textContent = "请选择复查结果";
      return;
    }
    record = {
      ...(record || { uuid: uuid(), assignment_id: id, created_at: new Date().toISOString() }),
      site_name: a.site_name,
      outcome: chosen.value,
      note: document.getElementById("revisit-note").value.trim(),
      state: "queued",
      queued_at: new Date().toISOString(),
      message: "",
      attempts: 0,
      next_try: 0,
    };
    await db.put("revisits", record);
    location.hash = "#/outbox";
    startSync();
  };
}

// ---------------------------------------------------------------------------- reminders

async function remindersScreen() {
  const reminders = (await db.all("reminders")).sort(
    (a, b) => (b.created_at || "").localeCompare(a.created_at || "") || b.id - a.id,
  );
  const findings = Object.fromEntries((await db.all("findings")).map((f) => [f.id, f]));
  const seen = (await db.meta("reminders_seen")) || "";
  show(
    "提醒",
    `<h1>提醒</h1>
    <p class="meta">整改临期提醒、逾期上报和挂牌督办，最新的在前。</p>
    <ul class="list" id="reminders">${reminders
      .map((r) => {
        const finding = findings[r.finding_id];
        const status = finding?.status || r.status;
        const report = finding && OPEN.has(status) && status !== "pending_review";
        return `<li class="reminder${(r.created_at || "") > seen ? " unread" : ""}">
          <span class="tag tag-${esc(r.step)}">${esc(r.step_label || STEP_LABELS[r.step] || r.step)}</span>
          <span class="meta">${esc(showTime(r.created_at))}</span>${(r.created_at || "") > seen ? ` <strong class="new">新</strong>` : ""}
          <p>${esc(r.message)}</p>
          <p class="meta">${esc(r.site_name)} · 整改时限 ${esc(r.deadline || "—")} · ${esc(STATUS[status] || status)}${r.supervised ? " · 挂牌督办" : ""}</p>
          ${report ? `<a href="#/f/${r.finding_id}">上报整改情况</a>` : ""}</li>`;
      })
      .join("")}</ul>
    ${reminders.length ? "" : "<p>没有提醒。</p>"}`,
  );
  // Seen once shown: the badge goes.
  const newest = reminders[0]?.created_at;
  if (newest && newest > seen) {
    await db.setMeta("reminders_seen", newest);
    await drawNav();
  }
}

// ---------------------------------------------------------------------------- routing and sync

async function route() {
  const hash = location.hash || "#/";
  const token = await db.meta("token");
  await drawNav();
  if (!token) return loginScreen();
  const parts = hash.slice(2).split("/").map(decodeURIComponent);
  if (parts[0] === "c" && parts[2] === "new") await newSiteScreen(parts[1]);
  else if (parts[0] === "c") await sitesScreen(parts[1]);
  else if (parts[0] === "i") await inspectionScreen(parts[1]);
  else if (parts[0] === "outbox") await outboxScreen();
  else if (parts[0] === "site") await followUpScreen(parts[1]);
  else if (parts[0] === "f") await reportScreen(Number(parts[1]));
  else if (parts[0] === "a") await revisitScreen(Number(parts[1]));
  else if (parts[0] === "reminders") await remindersScreen();
  else await startScreen();
}

let syncing = false;

async function startSync(force = false) {
  if (syncing || !(await db.meta("token"))) return;
  syncing = true;
  try {
    await syncNow({ force });
    say(navigator.onLine ? "" : "离线：记录保存在手机上，有网络时自动上传");
  } catch (error) {
    if (error instanceof LoggedOut) {
      say(error.message);
      location.hash = "#/login";
    } else if (!(error instanceof ApiError)) say(`同步出错：${error.message}`);
  } finally {
    syncing = false;
  }
}

/** Draw a screen again where it is, focus staying on the same control. */
async function redrawKeepingFocus(draw) {
  const el = document.activeElement;
  const selector =
    el && el !== main && main.contains(el)
      ? el.id
        ? `#${CSS.escape(el.id)}`
        : ["data-edit", "data-retry", "data-task"].filter((a) => el.hasAttribute(a)).map((a) => `[${a}="${CSS.escape(el.getAttribute(a))}"]`)[0]
      : null;
  const y = window.scrollY;
  await draw();
  window.scrollTo(0, y);
  const again = selector && main.querySelector(selector);
  if (again) again.focus({ preventScroll: true });
}

// Redraw the outbox and the menu as records move; other screens keep what is typed.
// Changes come in bursts (upload progress): one redraw at a time, one more after it.
let redrawing = null;
let again = false;
onChange(() => {
  if (redrawing) {
    again = true;
    return;
  }
  redrawing = (async () => {
    do {
      again = false;
      await drawNav();
      const hash = location.hash || "#/";
      if (hash.startsWith("#/outbox")) await redrawKeepingFocus(outboxScreen);
      // The start screen and the reminders have nothing typed in: drawn again with what came.
      else if (hash === "#/" || hash === "#") await redrawKeepingFocus(startScreen);
      else if (hash === "#/reminders") await redrawKeepingFocus(remindersScreen);
    } while (again);
  })().finally(() => (redrawing = null));
});

window.addEventListener("hashchange", () => route().then(() => main.focus({ preventScroll: true })));
window.addEventListener("online", () => startSync(true));

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register("/app/sw.js", { scope: "/app/" }).catch(() => say("离线功能未能启用"));
}

db.whenBlocked(() => say("正在升级手机上的数据：请关闭本应用的其他页面。"));
settle().then(route).then(() => {
  document.body.dataset.ready = "1";
  startSync();
});
setInterval(() => startSync(), SYNC_EVERY_MS);
