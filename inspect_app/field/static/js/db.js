// IndexedDB, the app's only store: every write resolves once its transaction has committed,
// so what the screen shows as saved survives a reload, a browser restart or a dead battery.
const NAME = "inspect-field";
// Version 2 added assignments, reminders and revisit outcomes. An upgrade only adds
// stores: drafts, the outbox and photos stay as they are.
const VERSION = 2;
const STORES = {
  meta: "key", // token, user, feed cursor, site types
  campaigns: "code",
  checklists: "campaign", // with the ETag it came with
  sites: "key", // "s<id>" from the server, "local:<uuid>" registered on the phone
  findings: "id", // open findings of the user's districts, from /sync
  inspections: "uuid", // drafts and the outbox
  reports: "uuid", // rectification reports (submit), drafts and outbox
  photos: "sha256", // the photos' bytes until the server has them
  assignments: "id", // the user's own 检查任务, from /sync (taken-off ones removed)
  reminders: "id", // the user's 提醒, from /sync
  revisits: "uuid", // 回头看 outcomes, outbox
};

let opened = null;
let blocked = () => {};

/** ``fn()`` is called when an upgrade waits for the app's other pages to close. */
export const whenBlocked = (fn) => (blocked = fn);

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export function open() {
  if (!opened) {
    opened = new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, VERSION);
      req.onupgradeneeded = (event) => {
        for (const [store, keyPath] of Object.entries(STORES)) {
          if (!req.result.objectStoreNames.contains(store)) {
            req.result.createObjectStore(store, { keyPath });
          }
        }
        // A version 1 app skipped the feed's assignments and reminders while its cursor
        // moved on: read the feed again from the start to get them (sites and findings
        // come again too, written over what is held).
        if (event.oldVersion > 0 && event.oldVersion < 2) req.transaction.objectStore("meta").delete("cursor");
      };
      req.onsuccess = () => {
        // A newer app opened in another tab wants to upgrade: let it (this page's next
        // read opens the database again, and fails only if this page is the older app).
        req.result.onversionchange = () => {
          req.result.close();
          opened = null;
        };
        resolve(req.result);
      };
      req.onerror = () => reject(req.error);
      // A page of the older app still open holds the database: the upgrade (and the
      // app) wait until it closes.
      req.onblocked = () => blocked();
    });
  }
  return opened;
}

async function run(stores, mode, work) {
  const db = await open();
  const tx = db.transaction(stores, mode);
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = tx.onerror = () => reject(tx.error);
  });
  const result = await work(tx);
  await done;
  return result;
}

export const get = (store, key) => run([store], "readonly", (tx) => request(tx.objectStore(store).get(key)));
export const all = (store) => run([store], "readonly", (tx) => request(tx.objectStore(store).getAll()));
export const put = (store, value) => run([store], "readwrite", (tx) => request(tx.objectStore(store).put(value)));
export const del = (store, key) => run([store], "readwrite", (tx) => request(tx.objectStore(store).delete(key)));

/** Several writes in one transaction: all of them or none. */
export function write(stores, work) {
  return run(stores, "readwrite", (tx) => work((store) => tx.objectStore(store)));
}

/** Empty every store (another user takes over the phone). */
export function clear() {
  const names = Object.keys(STORES);
  return run(names, "readwrite", (tx) => Promise.all(names.map((n) => request(tx.objectStore(n).clear()))));
}

export async function meta(key) {
  const row = await get("meta", key);
  return row ? row.value : undefined;
}

export const setMeta = (key, value) => put("meta", { key, value });
