// The field app's service worker: keeps the app shell so the app opens with no signal.
// Only the shell is cached; API requests are never touched here (the app keeps its
// data in IndexedDB and decides itself what to send when).
const VERSION = "__VERSION__";
const CACHE = `field-shell-${VERSION}`;
const SHELL = ["/app/", "__FILES__"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k.startsWith("field-shell-") && k !== CACHE).map((k) => caches.delete(k))),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (!url.pathname.startsWith("/app/") || url.pathname === "/app/sw.js") return;
  // Every screen is the one page: a navigation anywhere under /app/ gets it.
  const key = event.request.mode === "navigate" ? "/app/" : url.pathname;
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const hit = await cache.match(key);
      if (hit) return hit;
      const response = await fetch(event.request);
      if (response.ok) cache.put(key, response.clone());
      return response;
    }),
  );
});
