// The JSON API client shared by the desk, the tablet and the bureau. The
// browser holds the session as an HttpOnly cookie; unsafe methods must carry
// the session's CSRF token, which login and GET /me hand out.

let csrfToken = '';

/** setCSRF remembers the CSRF token for unsafe requests (the tablet restores it from IndexedDB). */
export function setCSRF(t) { csrfToken = t || ''; }
export function getCSRF() { return csrfToken; }

/** ApiError is a failed call: status 0 means the network failed (offline). */
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || (status === 0 ? '网络不可用' : `请求失败（${status}）`));
    this.status = status;
    this.code = e.code || (status === 0 ? 'offline' : 'internal');
    this.fields = e.fields || [];
    this.body = body || {};
  }
  get offline() { return this.status === 0; }
  /** retryable: the same request may succeed later (network, server trouble). */
  get retryable() { return this.status === 0 || this.status >= 500 || this.status === 429; }
}

/**
 * api calls the JSON API. path is under /api/v1. Returns the decoded body
 * (or null for 204); throws ApiError. opts.headers adds headers, opts.raw
 * returns the Response itself.
 */
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  const form = typeof FormData !== 'undefined' && body instanceof FormData; // an upload: the browser sets the type
  if (body !== undefined && !form) headers['Content-Type'] = 'application/json';
  if (!['GET', 'HEAD', 'OPTIONS'].includes(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch('/api/v1' + path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined || form ? body : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, null);
  }
  if (opts.raw && res.ok) return res;
  if (res.status === 204) return null;
  let data = null;
  const text = await res.text();
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body, headers) => api('POST', path, body, { headers });

/** qs builds a query string from the set values of an object. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.set(k, v);
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

/** login signs in and remembers the CSRF token. Returns the login answer. */
export async function login(staffCode, password) {
  const out = await api('POST', '/login', { staff_code: staffCode, password });
  setCSRF(out.csrf_token);
  return out;
}

/** me returns the signed-in staff member (with roles), or null when signed out. */
export async function me() {
  try {
    const out = await api('GET', '/me');
    setCSRF(out.csrf_token);
    return out;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

export async function logout() {
  try { await api('POST', '/logout'); } catch (e) { /* signed out either way */ }
  setCSRF('');
}

/** hasRole reports whether the staff member holds a role in any domain. */
export function hasRole(staff, role) {
  return !!(staff && (staff.roles || []).some((g) => g.role === role));
}

/** domainsOf lists the codes of the domains where the staff member holds role. */
export function domainsOf(staff, role) {
  return (staff.roles || []).filter((g) => g.role === role).map((g) => g.domain.split(':')[1] || '');
}

/** newKey returns a fresh idempotency key. */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
