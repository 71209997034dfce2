// The public JSON API (/api/v1), and nothing else. A request that gets no answer is a
// NetworkError (try again later); an answer with an error body is an ApiError, with the
// server's Chinese message kept for the inspector.
import * as db from "./db.js";

export const BASE = "/api/v1";

export class NetworkError extends Error {}

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `服务器返回 ${status}`);
    this.status = status;
    this.code = error.code || "";
    this.fields = error.fields || null;
  }

  /** The message with what each field's complaint adds, ``name(path)`` saying which field
   * the inspector knows it as. */
  explain(name = (path) => path) {
    if (!this.fields) return this.message;
    const parts = [];
    for (const [path, complaints] of Object.entries(this.fields)) {
      const said = [].concat(complaints).filter((c) => !this.message.includes(c));
      if (said.length) parts.push(`${name(path)}：${said.join("；")}`);
    }
    return parts.length ? `${this.message}（${parts.join("，")}）` : this.message;
  }
}

async function headers(extra) {
  const token = await db.meta("token");
  const out = { ...extra };
  if (token && !out.Authorization) out.Authorization = `Bearer ${token}`;
  return out;
}

export async function call(method, path, { body, extra = {} } = {}) {
  const init = { method, headers: await headers(extra), cache: "no-store" };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch {
    throw new NetworkError("网络不通");
  }
  if (response.status === 304 || response.status === 204) return { status: response.status, headers: response.headers, body: null };
  let data = null;
  try {
    data = method === "HEAD" ? null : await response.json();
  } catch {
    if (response.ok) throw new NetworkError("回答不完整");
  }
  if (response.status >= 500) throw new NetworkError(`服务器暂时无法处理（${response.status}）`);
  if (!response.ok && method !== "HEAD") throw new ApiError(response.status, data);
  return { status: response.status, headers: response.headers, body: data };
}

/** PUT bytes of a photo, reporting bytes sent; resolves with {status, body, headers}. */
export async function putBytes(path, blob, extra, onProgress) {
  const auth = await headers(extra);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", BASE + path);
    for (const [k, v] of Object.entries(auth)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress && onProgress(e.loaded);
    xhr.onerror = xhr.onabort = xhr.ontimeout = () => reject(new NetworkError("上传中断"));
    xhr.onload = () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status >= 500 || xhr.status === 0) reject(new NetworkError(`服务器暂时无法处理（${xhr.status}）`));
      else resolve({ status: xhr.status, body, offset: xhr.getResponseHeader("Upload-Offset") });
    };
    xhr.send(blob);
  });
}
