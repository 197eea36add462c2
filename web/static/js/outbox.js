// The outbox: follow-ups and visits recorded on the tablet wait here until
// the server has accepted them. Each carries an Idempotency-Key made when it
// was recorded, so sending it again (a lost answer, a second tab, a retry)
// never creates it twice. An entry the server refuses (400, 403, 404, 409)
// stays, marked with the reason, until the person fixes or discards it.
import { api, newKey } from './api.js';
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
  await store.del('outbox', key);
  const item = { ...old, key: newKey(), body, state: 'pending', error: null, replaced: key };
  await store.put('outbox', item);
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

async function syncNow(staffCode) {
  const out = { sent: 0, rejected: 0, stopped: null, results: {} };
  for (const item of await items()) {
    if (item.state !== 'pending' || item.staff_code !== staffCode) continue;
    // Re-read: another tab may have sent or changed it meanwhile.
    const cur = await store.get('outbox', item.key);
    if (!cur || cur.state !== 'pending') continue;
    try {
      const created = await api('POST', `/records/${encodeURIComponent(cur.record_id)}/${cur.kind}`, cur.body,
        { headers: { 'Idempotency-Key': cur.key } });
      await store.del('outbox', cur.key);
      await remember(cur, created);
      out.sent++;
      out.results[cur.key] = { ok: true, created };
    } catch (e) {
      if (e.retryable) {
        await store.put('outbox', { ...cur, attempts: cur.attempts + 1, last_try: new Date().toISOString() });
        out.stopped = 'offline';
        break;
      }
      if (e.status === 401) { out.stopped = 'auth'; break; }
      const error = { status: e.status, code: e.code, message: e.message, fields: e.fields || [] };
      await store.put('outbox', { ...cur, state: 'rejected', error, attempts: cur.attempts + 1 });
      out.rejected++;
      out.results[cur.key] = { ok: false, error };
    }
  }
  changed();
  return out;
}

// remember keeps the last synced entries for the "recently sent" list.
async function remember(item, created) {
  const sent = (await store.kvGet('sent')) || [];
  sent.unshift({ key: item.key, record_id: item.record_id, kind: item.kind, name: item.name,
    service_date: item.body.service_date, id: created && created.id, at: new Date().toISOString() });
  await store.kvSet('sent', sent.slice(0, 30));
}
