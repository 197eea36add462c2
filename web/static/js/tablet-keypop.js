// The tablet's side of the key populations' services: where a due-list
// item opens its form, how it reads on the list, and the form itself
// (keypop.js). Entries go through the same outbox as follow-ups.
import { KEYPOP_KINDS, SERVICE, keypopSpecs, numbered } from './keypop.js';
import { PROGRAMME, KIND, label } from './labels.js';

/** isKeypop reports whether an entry kind is a key population's service. */
export const isKeypop = (kind) => Object.prototype.hasOwnProperty.call(KEYPOP_KINDS, kind || '');

/** entryKind is the entry kind of an outbox item's plural (followups → followup). */
export const entryKind = (plural) => String(plural || '').replace(/s$/, '');

/** dueHref is where a due-list item opens its form. */
export function dueHref(i) {
  if (isKeypop(i.kind)) return `#/resident/${i.record_id}/${i.kind}?service=${encodeURIComponent(i.service)}`;
  return `#/resident/${i.record_id}/followup?programme=${encodeURIComponent(i.programme)}`;
}

/** dueText is a due-list item's line: what is due, and when. */
export function dueText(i) {
  if (isKeypop(i.kind)) {
    return `${label(PROGRAMME, i.programme)} · ${i.service_name || SERVICE[i.service] || i.service} · 应在 ${i.due_date} 至 ${i.due_by}`;
  }
  return `${label(PROGRAMME, i.programme)} · 应随访 ${i.due_date} · 上次 ${i.last_followup_date || '无'}`;
}

/** keypopForm is the form of a service: {specs, title, read(body)}. */
export function keypopForm(kind, service, today) {
  const specs = keypopSpecs(kind, service, today);
  const title = service ? (SERVICE[service] || service) : label(KIND, kind);
  return { specs, title, read: (body) => numbered(body, specs) };
}

/** flat turns a body's nested objects into the form's "a.b" names, to refill a form. */
export function flat(body, prefix = '') {
  const out = {};
  for (const [k, v] of Object.entries(body || {})) {
    if (v && typeof v === 'object' && !Array.isArray(v)) Object.assign(out, flat(v, prefix + k + '.'));
    else out[prefix + k] = v;
  }
  return out;
}
