// The outbox: follow-ups and visits recorded on the tablet wait here until
// the server has accepted them. Each carries an Idempotency-Key made when it
// was recorded, so sending it again (a lost answer, a second tab, a retry)
// never creates it twice. An entry the server refuses (400, 403, 404, 409)
// stays, marked with the reason, until the person fixes or discards it.
// Entries go up to 200 in one request (POST /batch): on a village link each
// round trip costs more than the entry.
import { api, newKey, ApiError } from './api.js';
import * as store from './store.js';

const listeners = new Set();
/** onChange registers a function called after every outbox change. */
export function onChange(fn) { listeners.add(fn); }
function changed() { for (const fn of listeners) fn(); }

/** add queues an entry: {record_id, kind: 'followups'|'visits', body, name, staff_code}. */
export async function add(e) {
  const item = {
    key: newKey(), record_id: e.record_id, kind: e.kind, body: e.body, name: e.name || '',
    staff_code: e.staff_code, created_at: new Date().toISOString(), state: 'pending', error: null, attempts: 0,
  };
  await store.put('outbox', item);
  changed();
  return item;
}

/** replace gives a rejected entry a corrected body and a fresh key, and queues it again. */
export async function replace(key, body) {
  const old = await store.get('outbox', key);
  if (!old) throw new Error('entry gone');
  const item = { ...old, key: newKey(), body, state: 'pending', error: null, replaced: key };
  // The new one first: a count read in between never sees the outbox empty.
  await store.put('outbox', item);
  await store.del('outbox', key);
  changed();
  return item;
}

/** discard drops an entry the person chose to give up. */
export async function discard(key) {
  await store.del('outbox', key);
  changed();
}

/** items lists the outbox, oldest first. */
export async function items() {
  return (await store.all('outbox')).sort((a, b) => a.created_at.localeCompare(b.created_at));
}

let running = null;

/**
 * sync sends the signed-in person's pending entries, oldest first. It stops
 * at the first failure that may pass (offline, server trouble, signed out)
 * and marks refusals. Returns {sent, rejected, stopped} where stopped is
 * null, 'offline' or 'auth'. Only one sync runs at a time, also across tabs.
 */
export function sync(staffCode) {
  if (running) return running;
  const work = () => syncNow(staffCode);
  running = (navigator.locks ? navigator.locks.request('healthrec-outbox', work) : work())
    .finally(() => { running = null; });
  return running;
}

// BATCH is the most entries one request carries (the server's limit).
const BATCH = 200;
// batching is false once the server answered that it has no batch route
// (an older server): then each entry goes on its own, as before.
let batching = true;

async function syncNow(staffCode) {
  const out = { sent: 0, rejected: 0, stopped: null, results: {} };
  const pending = [];
  for (const item of await items()) {
    if (item.state !== 'pending' || item.staff_code !== staffCode) continue;
    // Re-read: another tab may have sent or changed it meanwhile.
    const cur = await store.get('outbox', item.key);
    if (cur && cur.state === 'pending') pending.push(cur);
  }
  for (let i = 0; i < pending.length && !out.stopped;) {
    if (batching) {
      const chunk = pending.slice(i, i + BATCH);
      const done = await sendBatch(chunk, out);
      if (done) { i += chunk.length; continue; }
      batching = false; // no batch route here: the same entries one by one
    }
    await sendOne(pending[i], out);
    i++;
  }
  changed();
  return out;
}

// sendBatch sends entries in one POST /batch and settles each by its own
// answer. It returns false when the server has no batch route (404, 405),
// so that the caller sends them one by one.
async function sendBatch(chunk, out) {
  let res;
  try {
    res = await api('POST', '/batch', {
      items: chunk.map((c) => ({ record_id: c.record_id, kind: c.kind, idempotency_key: c.key, body: c.body })),
    });
  } catch (e) {
    if (e.status === 404 || e.status === 405) return false;
    if (e.retryable) {
      // The link dropped (or the server failed) with the batch on its way:
      // some entries may have been created. All stay pending; their keys
      // make the next sync's replay of them harmless.
      for (const c of chunk) await tried(c);
      out.stopped = 'offline';
      return true;
    }
    if (e.status === 401) { out.stopped = 'auth'; return true; }
    return false; // the batch as a whole refused (400, 403): let each entry get its own answer
  }
  for (const [j, c] of chunk.entries()) {
    const r = res.items[j];
    await settle(c, r.status, r.body, out);
  }
  return true;
}

// sendOne sends one entry on its own.
async function sendOne(cur, out) {
  try {
    const created = await api('POST', `/records/${encodeURIComponent(cur.record_id)}/${cur.kind}`, cur.body,
      { headers: { 'Idempotency-Key': cur.key } });
    await settle(cur, 201, created, out);
  } catch (e) {
    await settle(cur, e.status, e.body, out);
  }
}

// settle applies one entry's answer: accepted (201, or 200 for a replay),
// refused (kept, with the reason), or not yet (kept pending, sync stops).
async function settle(cur, status, body, out) {
  if (status === 200 || status === 201) {
    await store.del('outbox', cur.key);
    await remember(cur, body);
    out.sent++;
    out.results[cur.key] = { ok: true, created: body };
    return;
  }
  const e = new ApiError(status, body);
  if (e.retryable) {
    await tried(cur);
    out.stopped = 'offline';
    return;
  }
  if (status === 401) { out.stopped = 'auth'; return; }
  const error = { status: e.status, code: e.code, message: e.message, fields: e.fields || [] };
  await store.put('outbox', { ...cur, state: 'rejected', error, attempts: cur.attempts + 1 });
  out.rejected++;
  out.results[cur.key] = { ok: false, error };
}

async function tried(cur) {
  await store.put('outbox', { ...cur, attempts: cur.attempts + 1, last_try: new Date().toISOString() });
}

// remember keeps the last synced entries for the "recently sent" list.
async function remember(item, created) {
  const sent = (await store.kvGet('sent')) || [];
  sent.unshift({ key: item.key, record_id: item.record_id, kind: item.kind, name: item.name,
    service_date: item.body.service_date, id: created && created.id, at: new Date().toISOString() });
  await store.kvSet('sent', sent.slice(0, 30));
}
