// The sync engine: fresh data down (checklists by ETag, the /sync feed) and the outbox up.
//
// One record after another (its photos still going while the next is PUT). A record that
// fails for want of a network waits (backoff) and the next record is tried; a record the
// server refuses (409, 422...) becomes 需处理 with the server's words and stays until the
// inspector corrects it. A site registered offline is
// sent before the inspection that names it; an inspection is PUT before its photos; a
// photo upload resumes from the offset the server reports (HEAD), never from a guess.
import { ApiError, NetworkError, call, putBytes } from "./api.js";
import * as db from "./db.js";

const BACKOFF_MS = [2000, 5000, 15000, 30000, 60000, 300000];
/** The stores of records the inspector makes and the outbox sends. */
export const OUTBOX = ["inspections", "reports", "revisits"];
let running = null;
const listeners = new Set();

export const onChange = (fn) => listeners.add(fn);
const changed = () => listeners.forEach((fn) => fn());

export class LoggedOut extends Error {}

async function guarded(promise) {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      await db.del("meta", "token");
      throw new LoggedOut("登录已过期，请重新登录");
    }
    throw error;
  }
}

// ---------------------------------------------------------------------------- down

export async function refresh() {
  const campaigns = (await guarded(call("GET", "/campaigns"))).body.items;
  await db.write(["campaigns"], (store) => campaigns.forEach((c) => store("campaigns").put(c)));
  for (const campaign of campaigns) {
    if (!campaign.checklist_version) continue;
    const held = await db.get("checklists", campaign.code);
    const extra = held && held.etag ? { "If-None-Match": held.etag } : {};
    const answer = await guarded(call("GET", `/campaigns/${encodeURIComponent(campaign.code)}/checklist`, { extra }));
    if (answer.status === 200) {
      await db.put("checklists", { ...answer.body, etag: answer.headers.get("ETag") });
    }
  }
  if (!(await db.meta("site_types"))) {
    const spec = (await guarded(call("GET", "/openapi.json"))).body;
    const site = spec.components.schemas.Site || spec.components.schemas.SiteSchema;
    await db.setMeta("site_types", site.properties.site_type.enum);
  }
  let cursor = (await db.meta("cursor")) || "";
  for (;;) {
    const query = cursor ? `?since=${encodeURIComponent(cursor)}` : "";
    const page = (await guarded(call("GET", `/sync${query}`))).body;
    await db.write(["sites", "findings", "assignments", "reminders", "meta"], (store) => {
      for (const site of page.changes.sites) {
        if (site.deleted) store("sites").delete(`s${site.id}`);
        else store("sites").put({ ...site, key: `s${site.id}` });
      }
      for (const finding of page.changes.findings) {
        if (finding.deleted) store("findings").delete(finding.id);
        else store("findings").put(finding);
      }
      // Older pages or servers may lack these two lists.
      for (const assignment of page.changes.assignments || []) {
        if (assignment.deleted) store("assignments").delete(assignment.id);
        else store("assignments").put(assignment);
      }
      for (const reminder of page.changes.reminders || []) store("reminders").put(reminder);
      store("meta").put({ key: "cursor", value: page.next_cursor });
    });
    cursor = page.next_cursor;
    if (!page.has_more) break;
  }
  await db.setMeta("refreshed_at", new Date().toISOString());
}

// ---------------------------------------------------------------------------- up

const due = (record, now) => (record.state === "queued" || record.state === "uploading") && !(record.next_try > now);

async function save(store, record) {
  await db.put(store, record);
  changed();
}

async function failed(store, record, error) {
  if (error instanceof LoggedOut) throw error;
  if (error instanceof NetworkError) {
    record.attempts = (record.attempts || 0) + 1;
    record.next_try = Date.now() + BACKOFF_MS[Math.min(record.attempts - 1, BACKOFF_MS.length - 1)];
    record.state = "queued";
    record.message = `${error.message}，稍后自动重试`;
  } else if (error instanceof ApiError) {
    record.state = "error";
    record.status = error.status;
    record.message = error.explain((path) => fieldName(record, path));
  } else {
    record.state = "error";
    record.message = `出错：${error.message}`;
  }
  await save(store, record);
}

const FIELD_NAMES = {
  description: "问题描述",
  severity: "问题等级",
  requirement: "整改要求",
  deadline: "整改时限",
  fixed_on_spot: "立行立改",
  photos: "照片",
  note: "说明",
};

/** ``findings[1].deadline`` as the inspector knows it: the item's code and the field's label. */
function fieldName(record, path) {
  const match = /^(findings|answers)\[(\d+)\]\.?(\w*)/.exec(path);
  if (!match || !record.answers) return FIELD_NAMES[path] || path;
  const body = inspectionBody(record);
  const row = body[match[1]][Number(match[2])];
  return `${row ? row.item_code : path} ${FIELD_NAMES[match[3]] || match[3]}`.trim();
}

/** Drop the bytes of photos the server holds and no unsent record still needs. */
async function forget(shas) {
  const unsent = (await outboxRecords()).filter((r) => r.state !== "done");
  const needed = new Set(
    unsent.flatMap((r) => (r.findings ? Object.values(r.findings).flatMap((f) => f.photos || []) : r.photos || [])),
  );
  for (const sha of shas) if (!needed.has(sha)) await db.del("photos", sha);
}

/** Register a site made on the phone; returns its server id. */
async function sendSite(site) {
  const body = {
    client_uuid: site.client_uuid,
    name: site.name,
    site_type: site.site_type,
    district: site.district,
    address: site.address || "",
    lat: site.lat ?? null,
    lon: site.lon ?? null,
  };
  let answer;
  try {
    answer = (await guarded(call("POST", "/sites", { body }))).body;
  } catch (error) {
    if (error instanceof ApiError) {
      site.state = "error";
      site.message = error.explain();
      await db.put("sites", site);
      error.message = `登记站点“${site.name}”：${error.message}`;
    }
    throw error;
  }
  await db.write(["sites", "inspections", "reports"], (store) => {
    store("sites").delete(site.key);
    store("sites").put({ ...answer, key: `s${answer.id}` });
  });
  // Drafts and records that named the phone's site now name the server's.
  for (const name of ["inspections", "reports"]) {
    for (const record of await db.all(name)) {
      if (record.site_key === site.key) await db.put(name, { ...record, site_key: `s${answer.id}`, site_id: answer.id });
    }
  }
  return answer.id;
}

async function siteIdOf(record) {
  if (record.site_id) return record.site_id;
  const site = await db.get("sites", record.site_key);
  if (!site) throw new Error("找不到该站点");
  if (site.id) return site.id;
  return sendSite(site);
}

export function inspectionBody(record) {
  const answers = Object.entries(record.answers || {})
    .filter(([, a]) => a.result)
    .map(([item_code, a]) => ({ item_code, result: a.result, note: a.note || "" }));
  const findings = answers
    .filter((a) => a.result === "fail")
    .map((a) => {
      const f = record.findings[a.item_code];
      return {
        id: f.id,
        item_code: a.item_code,
        description: f.description,
        severity: f.severity,
        major_hazard: !!f.major_hazard,
        requirement: f.requirement || "",
        deadline: f.deadline || null,
        fixed_on_spot: !!f.fixed_on_spot,
        photos: f.photos || [],
      };
    });
  return {
    campaign: record.campaign,
    checklist_version: record.checklist_version,
    site_id: record.site_id,
    started_at: record.started_at,
    finished_at: record.finished_at,
    location: record.location || null,
    answers,
    findings,
    final: true,
  };
}

/** Upload one photo until the server holds it all; ``progress(bytes)`` as bytes go. */
/** Upload one photo until the server holds it all; ``progress(bytes)`` as bytes go.
 *
 * ``absent``: the server has just said it lacks the photo (missing_photos), so a photo
 * never sent before goes at once, whole; any other starts by asking the server (HEAD)
 * what it holds: a cut upload resumes from there. */
export async function uploadPhoto(sha, progress, absent = false) {
  const photo = await db.get("photos", sha);
  if (!photo) throw new Error("照片已不在手机上");
  const size = photo.blob.size;
  let networkFailures = 0;
  let busy = 0;
  let ask = !(absent && !photo.tried);
  if (!photo.tried) await db.put("photos", { ...photo, tried: true });
  for (let round = 0; round < 30; round++) {
    let offset = 0;
    try {
      const head = ask ? await guarded(call("HEAD", `/photos/${sha}`)) : { status: 404 };
      ask = true;
      if (head.status === 200) {
        if (head.headers.get("Upload-Complete") === "?1") return progress(size);
        offset = Number(head.headers.get("Upload-Offset") || 0);
      }
      if (offset >= size) {
        // All bytes are there and another upload is checking them: ask again shortly.
        if (++busy < 10) {
          await new Promise((r) => setTimeout(r, 500));
          continue;
        }
        offset = 0;
      }
      progress(offset);
      const extra = { "Content-Type": photo.type || "image/jpeg" };
      if (offset > 0) extra["Content-Range"] = `bytes ${offset}-${size - 1}/${size}`;
      const answer = await putBytes(`/photos/${sha}`, photo.blob.slice(offset), extra, (sent) => progress(offset + sent));
      if (answer.status === 200 || answer.status === 201) return progress(size);
      if (answer.status === 401) await guarded(Promise.reject(new ApiError(401, answer.body)));
      // A partial PUT (400 incomplete_upload or 202) or an offset race (409): the server
      // kept what arrived; HEAD says from where to go on.
      if (answer.status === 202 || answer.status === 409 || (answer.body && answer.body.error && answer.body.error.code === "incomplete_upload")) continue;
      throw new ApiError(answer.status, answer.body);
    } catch (error) {
      if (!(error instanceof NetworkError) || ++networkFailures > 3) throw error;
      await new Promise((r) => setTimeout(r, 500 * networkFailures));
    }
  }
  throw new NetworkError("照片多次上传未完成");
}

// The photos of a sync pass share a few lanes. While one photo waits for its answer (a
// mountain link's latency) another is sending, and the next inspection's PUT goes while
// the photos of the one before are still on their way: the link never sits idle.
const LANES = 3;

class PhotoLanes {
  constructor() {
    this.waiting = [];
    this.active = 0;
    this.wakers = [];
  }

  /** Upload a record's photos; resolves when the server holds them all, rejects on the
   * first failure (the record's other photos then leave the queue, to go another time). */
  async send(store, record, shas, absent = false) {
    if (!shas.length) return;
    const sizes = {};
    for (const sha of shas) sizes[sha] = (await db.get("photos", sha))?.blob.size || 0;
    const total = Object.values(sizes).reduce((a, b) => a + b, 0) || 1;
    const sent = {};
    let shown = -1;
    await new Promise((resolve, reject) => {
      const job = {
        left: shas.length,
        failed: false,
        resolve,
        reject,
        progress(sha, bytes) {
          sent[sha] = bytes;
          const percent = Math.floor((100 * Object.values(sent).reduce((a, b) => a + b, 0)) / total);
          if (percent === shown) return;
          shown = percent;
          record.state = "uploading";
          record.progress = percent;
          db.put(store, { ...record }).then(changed);
        },
      };
      for (const sha of shas) this.waiting.push({ sha, job, absent });
      this.pump();
    });
  }

  pump() {
    while (this.active < LANES && this.waiting.length) {
      const task = this.waiting.shift();
      if (task.job.failed) continue;
      this.active++;
      this.run(task).finally(() => {
        this.active--;
        this.pump();
      });
    }
    if (this.waiting.length <= LANES) this.wakers.splice(0).forEach((wake) => wake());
  }

  async run({ sha, job, absent }) {
    try {
      await uploadPhoto(sha, (bytes) => job.progress(sha, bytes), absent);
      if (--job.left === 0 && !job.failed) job.resolve();
    } catch (error) {
      if (!job.failed) {
        job.failed = true;
        job.reject(error);
      }
    }
  }

  /** Resolves once few photos are left waiting: time to send the next record. */
  room() {
    if (this.waiting.length <= LANES) return Promise.resolve();
    return new Promise((wake) => this.wakers.push(wake));
  }
}

async function done(store, record) {
  record.state = "done";
  record.progress = 100;
  record.message = "";
  record.sent_at = new Date().toISOString();
  await save(store, record);
}

/** PUT the inspection (its site first if the phone registered it); returns the promise
 * of the rest: its photos, then the record 已上传. */
async function sendInspection(record, lanes) {
  record.site_id = await siteIdOf(record);
  const answer = (await guarded(call("PUT", `/inspections/${record.uuid}`, { body: inspectionBody(record) }))).body;
  // 上传中 from the server's first answer on: before it, nothing is on its way.
  record.server = { id: answer.id, status: answer.status, findings: answer.findings };
  record.state = "uploading";
  record.progress = 0;
  await save("inspections", record);
  const rest = (async () => {
    await lanes.send("inspections", record, answer.missing_photos || [], true);
    await done("inspections", record);
    await forget(Object.values(record.findings).flatMap((f) => f.photos || []));
  })();
  return { rest };
}

/** A rectification report: evidence photos first (the event then names photos the server
 * holds), then the submit. Returns the promise of it all. */
async function sendReport(record, lanes) {
  const rest = (async () => {
    await lanes.send("reports", record, record.photos);
    const body = { action: "submit", note: record.note, photos: record.photos };
    try {
      await guarded(call("POST", `/findings/${record.finding_id}/events`, { body }));
    } catch (error) {
      // A submit whose answer was lost is a 409 when sent again: it is done if the
      // finding's last event is this very submit.
      if (!(error instanceof ApiError && error.status === 409)) throw error;
      const finding = (await guarded(call("GET", `/findings/${record.finding_id}`))).body;
      const last = (finding.events || []).at(-1);
      const same = last && last.action === "submit" && (last.note || "") === record.note;
      if (!same) throw error;
    }
    await done("reports", record);
    await forget(record.photos);
    const held = await db.get("findings", record.finding_id);
    if (held) await db.put("findings", { ...held, status: "pending_review", last_action: "submit", last_note: record.note });
  })();
  return { rest };
}

/** A 回头看 outcome. Returns the promise of it (no photos go with it). */
async function sendRevisit(record) {
  const rest = (async () => {
    const body = { outcome: record.outcome, note: record.note || "" };
    let answer;
    try {
      answer = (await guarded(call("POST", `/assignments/${record.assignment_id}/revisit`, { body }))).body;
    } catch (error) {
      // An outcome whose answer was lost is a 409 when sent again: it is done if the
      // assignment holds this very outcome.
      if (!(error instanceof ApiError && error.status === 409)) throw error;
      answer = (await guarded(call("GET", `/assignments/${record.assignment_id}`))).body;
      if (answer.outcome !== record.outcome) throw error;
    }
    // Written over the held one only: an assignment taken off meanwhile stays off.
    const held = await db.get("assignments", record.assignment_id);
    if (held) await db.put("assignments", { ...held, ...answer });
    await done("revisits", record);
  })();
  return { rest };
}

const SENDERS = { inspections: sendInspection, reports: sendReport, revisits: sendRevisit };

async function pushOutbox() {
  const now = Date.now();
  const sites = (await db.all("sites")).filter((s) => s.local && !s.id && s.state !== "error");
  const inspections = (await db.all("inspections")).filter((r) => due(r, now));
  const reports = (await db.all("reports")).filter((r) => due(r, now));
  const revisits = (await db.all("revisits")).filter((r) => due(r, now));
  const named = new Set(inspections.map((r) => r.site_key));
  for (const site of sites.filter((s) => !named.has(s.key))) {
    try {
      await sendSite(site);
    } catch (error) {
      if (error instanceof LoggedOut) throw error;
    }
  }
  const queue = [
    ...inspections.map((r) => ["inspections", r]),
    ...reports.map((r) => ["reports", r]),
    ...revisits.map((r) => ["revisits", r]),
  ].sort((a, b) => (a[1].queued_at || "").localeCompare(b[1].queued_at || ""));
  const lanes = new PhotoLanes();
  const rest = [];
  for (const [store, record] of queue) {
    try {
      const sending = await SENDERS[store](record, lanes);
      rest.push(sending.rest.catch((error) => failed(store, record, error)));
    } catch (error) {
      await failed(store, record, error);
    }
    await lanes.room();
  }
  await Promise.all(rest);
}

/** Records a closed app left 上传中 wait to be sent again (待上传): nothing is on its way. */
export async function settle() {
  for (const name of OUTBOX) {
    for (const r of await db.all(name)) {
      if (r.state === "uploading") await db.put(name, { ...r, state: "queued" });
    }
  }
}

/** One sync pass (a second call while one runs waits for it). */
export function syncNow({ force = false } = {}) {
  if (!running) {
    running = (async () => {
      if (force) {
        for (const name of OUTBOX) {
          for (const r of await db.all(name)) {
            if (r.state === "queued" && r.next_try) await db.put(name, { ...r, next_try: 0 });
          }
        }
      }
      try {
        await refresh();
      } catch (error) {
        if (!(error instanceof NetworkError)) throw error;
      }
      await pushOutbox();
    })().finally(() => {
      running = null;
      changed();
    });
  }
  return running;
}

/** Every record of the outbox's stores, drafts and sent ones included. */
export async function outboxRecords() {
  const lists = [];
  for (const name of OUTBOX) lists.push(...(await db.all(name)));
  return lists;
}

export async function pending() {
  const open = (r) => r.state === "queued" || r.state === "uploading";
  return (await outboxRecords()).filter(open).length;
}
