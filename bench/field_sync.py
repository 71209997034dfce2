"""Field app sync over a slow link: how busy the outbox keeps the uplink (issue 16).

Starts ``inspect-app serve`` on a fresh database with the demo data, logs the field app
in (Debian's Chromium, a 390x844 phone), then stops the server and queues 50 finished
inspections with 200 photos in the app's IndexedDB, the records the app makes when an
inspector finishes an inspection offline (written by script: typing 50 inspections is
not what is measured). The server comes back, Chromium's network throttling makes the
link a mountain one (1.5 Mbit/s up, 300 ms latency by default), and the app syncs.

Figure: the time the photos' bytes need at the link rate, divided by the time to
all-synced (every record 已上传). Goal: at least 0.80 (the link busy 80 % of the time).

Rounds (bench/measure.py's method where it applies): the figure's baseline is no run
but a number, the photo bytes over the throttled link's rate, which no neighbour on
the machine can slow, so there is nothing to interleave with. Instead the whole sync
is repeated, each round with 50 new inspections and 200 new photos (other bytes, so
none is already on the server) queued in the same browser while the server is down,
and the figure is printed as min / median / max over the rounds, with the time to
all-synced and the CPU the rounds cost: the server's processes (gunicorn master and
workers, from /proc) and the browser's (Chromium and Playwright's driver) apart.

    python bench/field_sync.py [--rounds 3] [--inspections 50] [--photos 200]
                               [--photo-kb 100] [--up-mbit 1.5] [--latency-ms 300]
"""

import argparse
import base64
import io
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

sys.path.append(str(Path(__file__).resolve().parent))  # after ROOT
from measure import cpu_seconds, fmt_spread, load_note, process_tree  # noqa: E402

from tests.support.browser import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_PASSWORD,
    DEVICES,
    DemoSite,
    chromium_missing,
)

CAMPAIGN = "refined-oil-2025"

# The records the app's inspection screen writes on 完成检查 (app.js), for the sites of the
# campaign's site types: first item failed with its finding and photos, the rest passed.
QUEUE_JS = """
async ({campaign, offset, inspections, photos}) => {
  const db = await new Promise((ok, no) => {
    const r = indexedDB.open('inspect-field'); r.onsuccess = () => ok(r.result); r.onerror = no;
  });
  const all = (store) => new Promise((ok) => {
    const q = db.transaction(store).objectStore(store).getAll(); q.onsuccess = () => ok(q.result);
  });
  const put = (store, value) => new Promise((ok, no) => {
    const tx = db.transaction(store, 'readwrite'); tx.objectStore(store).put(value);
    tx.oncomplete = ok; tx.onerror = no;
  });
  const checklist = (await all('checklists')).find((c) => c.campaign === campaign);
  const types = new Set(checklist.items.flatMap((i) => i.site_types));
  const sites = (await all('sites')).filter((s) => types.has(s.site_type));
  const hex = (buf) =>
    Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
  const perInspection = Math.ceil(photos.length / inspections);
  let photoBytes = 0;
  const uuids = [];
  const now = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 19) + '+08:00';
  for (let n = 0; n < inspections; n++) {
    const site = sites[(offset + n) % sites.length];
    const items = checklist.items.filter((i) => i.site_types.includes(site.site_type));
    const shas = [];
    for (const b64 of photos.slice(n * perInspection, (n + 1) * perInspection)) {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const sha = hex(await crypto.subtle.digest('SHA-256', bytes));
      const blob = new Blob([bytes], {type: 'image/jpeg'});
      await put('photos', {sha256: sha, blob, type: 'image/jpeg'});
      photoBytes += bytes.length;
      shas.push(sha);
    }
    const answers = {}, findings = {};
    items.forEach((item, i) => (answers[item.code] = {result: i === 0 ? 'fail' : 'pass'}));
    findings[items[0].code] = {
      id: crypto.randomUUID(), description: `第 ${n + 1} 处：储油罐区防雷接地损坏`,
      severity: 'general', major_hazard: false, requirement: '限期修复', deadline: null,
      fixed_on_spot: false, photos: shas,
    };
    uuids.push(crypto.randomUUID());
    await put('inspections', {
      uuid: uuids[uuids.length - 1], campaign, checklist_version: checklist.version,
      site_key: site.key, site_id: site.id, site_name: site.name,
      started_at: now, finished_at: now, location: null, answers, findings,
      state: 'queued', queued_at: new Date(Date.now() + n).toISOString(),
      created_at: new Date().toISOString(), attempts: 0, next_try: 0,
    });
  }
  return {photoBytes, uuids};
}
"""

STATES_JS = """
async (uuids) => {
  const db = await new Promise((ok) => {
    const r = indexedDB.open('inspect-field'); r.onsuccess = () => ok(r.result);
  });
  const rows = await new Promise((ok) => {
    const q = db.transaction('inspections').objectStore('inspections').getAll();
    q.onsuccess = () => ok(q.result);
  });
  const mine = new Set(uuids);
  const these = rows.filter((r) => mine.has(r.uuid));
  const count = {};
  for (const r of these) count[r.state] = (count[r.state] || 0) + 1;
  const errors = these.filter((r) => r.state === 'error').map((r) => r.message);
  return {count, errors: errors.slice(0, 3)};
}
"""


def make_photos(n: int, kb: int, seed: int = 16) -> list[bytes]:
    """Distinct JPEGs of about ``kb`` KB each (noise over a gradient, so they do not shrink)."""
    rng = random.Random(seed)
    side = int((kb * 1024 / 0.9) ** 0.5)  # noise JPEG at q85: about 0.9 byte a pixel
    out = []
    for _ in range(n):
        image = Image.effect_noise((side, side), rng.uniform(40, 80)).convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=85)
        out.append(buffer.getvalue())
    return out


class Clocks:
    """CPU seconds so far of the server's processes, and of the browser's (everything this
    process started but the server: Chromium and Playwright's driver)."""

    def __init__(self, server_pid: int):
        self.server_pid = server_pid

    def read(self) -> tuple[float, float]:
        server = set(process_tree(self.server_pid))
        browser = set(process_tree(os.getpid())) - server - {os.getpid()}
        return cpu_seconds(server), cpu_seconds(browser)


def sync_round(page, demo, args, photos: list[bytes], up_bytes_per_s: float) -> dict:
    """Queue the round's inspections while the server is down, bring it back, and time
    the app's sync of them to the last 已上传."""
    demo.server.stop(check=False)
    photo_bytes, uuids = 0, []
    per = -(-args.photos // args.inspections)
    for n in range(args.inspections):
        chunk = [base64.b64encode(p).decode() for p in photos[n * per : (n + 1) * per]]
        queued = page.evaluate(
            QUEUE_JS, {"campaign": CAMPAIGN, "offset": n, "inspections": 1, "photos": chunk}
        )
        photo_bytes += queued["photoBytes"]
        uuids += queued["uuids"]
    demo.server.start()
    ideal = photo_bytes / up_bytes_per_s
    clocks = Clocks(demo.server.process.pid)
    cpu_before = clocks.read()
    started = time.monotonic()
    page.evaluate("window.dispatchEvent(new Event('online'))")  # the app syncs now
    while True:
        time.sleep(1)
        states = page.evaluate(STATES_JS, uuids)
        if states["count"].get("done", 0) == args.inspections:
            break
        if states["errors"]:
            raise SystemExit(f"records refused: {states['errors']}")
        if time.monotonic() - started > 20 * ideal + 120:
            raise SystemExit(f"not synced in time: {states['count']}")
    elapsed = time.monotonic() - started
    (server_after, browser_after), (server_before, browser_before) = clocks.read(), cpu_before
    return {
        "bytes": photo_bytes,
        "ideal": ideal,
        "elapsed": elapsed,
        "busy": ideal / elapsed,
        "server_cpu": server_after - server_before,
        "browser_cpu": browser_after - browser_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--inspections", type=int, default=50)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--photo-kb", type=int, default=100)
    parser.add_argument("--up-mbit", type=float, default=1.5)
    parser.add_argument("--latency-ms", type=int, default=300)
    args = parser.parse_args()
    if why := chromium_missing():
        raise SystemExit(why)
    from playwright.sync_api import sync_playwright

    up_bytes_per_s = args.up_mbit * 1e6 / 8
    rounds = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        demo = DemoSite(Path(tmp)).start()
        context = playwright.chromium.launch_persistent_context(
            str(Path(tmp) / "profile"),
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            headless=True,
            locale="zh-CN",
            **DEVICES["phone"],
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(f"{demo.base}/app/")
            page.wait_for_selector("body[data-ready='1']")
            page.fill("#username", "insp_east")
            page.fill("#password", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("h1:has-text('选择专项行动')", timeout=120_000)

            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": args.latency_ms,
                    "downloadThroughput": 4 * up_bytes_per_s,
                    "uploadThroughput": up_bytes_per_s,
                },
            )
            print(
                f"{args.inspections} inspections and {args.photos} photos a round, "
                f"link {args.up_mbit} Mbit/s up, {args.latency_ms} ms; {args.rounds} rounds"
            )
            print(f"  {load_note()}  (before)")
            for r in range(args.rounds):
                photos = make_photos(args.photos, args.photo_kb, seed=16 + r)
                result = sync_round(page, demo, args, photos, up_bytes_per_s)
                rounds.append(result)
                print(
                    f"  round {r + 1}: {result['bytes'] / 1e6:.1f} MB, at least "
                    f"{result['ideal']:.1f} s; all synced in {result['elapsed']:.1f} s: "
                    f"link busy {result['busy']:.0%}; CPU server {result['server_cpu']:.1f} s, "
                    f"browser {result['browser_cpu']:.1f} s"
                )
            print(f"  {load_note()}  (after)")
        finally:
            context.close()
            demo.stop()
    busy = [r["busy"] for r in rounds]
    print(
        f"link busy {fmt_spread([b * 100 for b in busy], '{:.0f}')} % "
        f"(min / median / max of {len(rounds)} rounds; goal >= 80 %); "
        f"time to all synced {fmt_spread([r['elapsed'] for r in rounds], '{:.1f}')} s; "
        f"server CPU {fmt_spread([r['server_cpu'] for r in rounds], '{:.1f}')} s a round"
    )
    if statistics.median(busy) < 0.8:
        print("goal NOT met")


if __name__ == "__main__":
    main()
