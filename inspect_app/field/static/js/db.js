// IndexedDB, the app's only store: every write resolves once its transaction has committed,
// so what the screen shows as saved survives a reload, a browser restart or a dead battery.
const NAME = "inspect-field";
const VERSION = 1;
const STORES = {
  meta: "key", // token, user, feed cursor, site types
  campaigns: "code",
  checklists: "campaign", // with the ETag it came with
  sites: "key", // "s<id>" from the server, "local:<uuid>" registered on the phone
  findings: "id", // open findings of the user's districts, from /sync
  inspections: "uuid", // drafts and the outbox
  reports: "uuid", // rectification reports (submit), drafts and outbox
  photos: "sha256", // the photos' bytes until the server has them
};

let opened = null;

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
      req.onupgradeneeded = () => {
        for (const [store, keyPath] of Object.entries(STORES)) {
          if (!req.result.objectStoreNames.contains(store)) {
            req.result.createObjectStore(store, { keyPath });
          }
        }
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
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
