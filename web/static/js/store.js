// IndexedDB for the tablet: the signed-in person and CSRF token ("kv"), the
// day's worklist ("kv"), residents opened or prefetched ("records") and the
// outbox of entries not yet accepted by the server ("outbox").
const NAME = 'healthrec-tablet';
const VERSION = 1;
let opening;

function open() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      const req = indexedDB.open(NAME, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv');
        if (!db.objectStoreNames.contains('records')) db.createObjectStore('records', { keyPath: 'record_id' });
        if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'key' });
      };
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  }
  return opening;
}

async function tx(store, mode, fn) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const t = db.transaction(store, mode);
    const s = t.objectStore(store);
    let out;
    const r = fn(s);
    if (r) r.onsuccess = () => { out = r.result; };
    t.oncomplete = () => resolve(out);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

export const kvGet = (k) => tx('kv', 'readonly', (s) => s.get(k));
export const kvSet = (k, v) => tx('kv', 'readwrite', (s) => s.put(v, k));
export const kvDel = (k) => tx('kv', 'readwrite', (s) => s.delete(k));
export const get = (store, key) => tx(store, 'readonly', (s) => s.get(key));
export const put = (store, v) => tx(store, 'readwrite', (s) => s.put(v));
export const del = (store, key) => tx(store, 'readwrite', (s) => s.delete(key));
export const all = (store) => tx(store, 'readonly', (s) => s.getAll());
export const keys = (store) => tx(store, 'readonly', (s) => s.getAllKeys());
export const clear = (store) => tx(store, 'readwrite', (s) => s.clear());
/** putAll stores many values in one transaction (a worklist's residents). */
export const putAll = (store, vs) => tx(store, 'readwrite', (s) => { for (const v of vs) s.put(v); });
/** delAll deletes many keys in one transaction. */
export const delAll = (store, ks) => tx(store, 'readwrite', (s) => { for (const k of ks) s.delete(k); });
