// Plain SVG charts: horizontal bars against a target line, and a trend line
// per indicator. Every chart has a text title and description, and each bar
// says its value; the tables beside them carry the same figures.
import { svg, h } from './dom.js';

const pct = (v) => (v === null || v === undefined || Number.isNaN(v) ? '—' : `${Number(v).toFixed(1)}%`);

/**
 * bars draws one bar per row: rows [{label, value (0–100 or null), warn, key}],
 * target (percent). onPick(row) runs on click or Enter/Space on a bar.
 */
export function bars(title, rows, target, onPick) {
  const labelW = 150;
  const barH = 28;
  const gap = 10;
  const top = 26;
  const width = 440;
  const plotW = width - labelW - 64;
  const height = top + rows.length * (barH + gap) + 26;
  const x = (v) => labelW + (Math.max(0, Math.min(100, v)) / 100) * plotW;
  const id = 'c' + Math.random().toString(36).slice(2, 8);
  const root = svg('svg', { class: 'bars', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-labelledby': `${id}-t ${id}-d` },
  svg('title', { id: `${id}-t` }, title),
  svg('desc', { id: `${id}-d` }, `目标线 ${pct(target)}。` + rows.map((r) => `${r.label} ${pct(r.value)}${r.warn ? '（预警）' : ''}`).join('；')));
  // grid and axis
  for (const t of [0, 25, 50, 75, 100]) {
    root.append(svg('line', { class: 'grid', x1: x(t), x2: x(t), y1: top - 6, y2: height - 22 }),
      svg('text', { x: x(t), y: height - 6, 'text-anchor': 'middle' }, `${t}%`));
  }
  rows.forEach((r, i) => {
    const y = top + i * (barH + gap);
    const name = r.label.length > 9 ? r.label.slice(0, 8) + '…' : r.label;
    root.append(svg('text', { x: labelW - 8, y: y + barH * 0.68, 'text-anchor': 'end' }, name));
    if (r.value === null || r.value === undefined) {
      root.append(svg('text', { x: labelW + 6, y: y + barH * 0.68, class: 'muted' }, '— 无数据'));
      return;
    }
    const bar = svg('rect', { class: 'bar' + (r.warn ? ' warn' : ''), x: labelW, y, height: barH,
      width: Math.max(1, x(r.value) - labelW), 'data-key': r.key || '' },
    svg('title', {}, `${r.label}：${pct(r.value)}${r.warn ? '（预警）' : ''}`));
    if (onPick) {
      bar.setAttribute('tabindex', '0');
      bar.setAttribute('role', 'button');
      bar.setAttribute('aria-label', `${r.label} ${pct(r.value)}，查看下一级`);
      bar.addEventListener('click', () => onPick(r));
      bar.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); onPick(r); } });
    }
    root.append(bar, svg('text', { x: x(r.value) + 6, y: y + barH * 0.68 }, pct(r.value) + (r.warn ? ' ⚠' : '')));
  });
  if (target !== null && target !== undefined) {
    root.append(svg('line', { class: 'target', x1: x(target), x2: x(target), y1: top - 10, y2: height - 22 }),
      svg('text', { x: x(target), y: top - 12, 'text-anchor': 'middle' }, `目标 ${pct(target)}`));
  }
  return h('figure', { class: 'chart' }, h('figcaption', {}, title), root);
}

/**
 * trend draws a line per indicator over snapshots: points [{label (date),
 * values: {coverage, quality, usage}}], names {indicator: text}, targets.
 */
export function trend(title, points, names, targets) {
  const width = 720;
  const height = 280;
  const left = 48;
  const right = 20;
  const top = 20;
  const bottom = 40;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const n = points.length;
  const x = (i) => left + (n <= 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const y = (v) => top + plotH - (Math.max(0, Math.min(100, v)) / 100) * plotH;
  const keys = Object.keys(names);
  const id = 't' + Math.random().toString(36).slice(2, 8);
  const root = svg('svg', { class: 'trend', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-labelledby': `${id}-t ${id}-d` },
  svg('title', { id: `${id}-t` }, title),
  svg('desc', { id: `${id}-d` }, points.map((p) => `${p.label}：` + keys.map((k) => `${names[k]} ${pct(p.values[k])}`).join('，')).join('；')));
  for (const t of [0, 25, 50, 75, 100]) {
    root.append(svg('line', { class: 'grid', x1: left, x2: width - right, y1: y(t), y2: y(t) }),
      svg('text', { x: left - 6, y: y(t) + 4, 'text-anchor': 'end' }, `${t}%`));
  }
  points.forEach((p, i) => root.append(svg('text', { x: x(i), y: height - 14, 'text-anchor': 'middle' }, p.label)));
  for (const k of keys) {
    if (targets && targets[k] != null) {
      root.append(svg('line', { class: `target`, x1: left, x2: width - right, y1: y(targets[k]), y2: y(targets[k]) }));
    }
    const pts = points.map((p, i) => [i, p.values[k]]).filter(([, v]) => v !== null && v !== undefined);
    if (pts.length > 1) {
      root.append(svg('polyline', { class: `line ${k}`, points: pts.map(([i, v]) => `${x(i)},${y(v)}`).join(' ') }));
    }
    for (const [i, v] of pts) {
      root.append(svg('circle', { class: `dot ${k}`, cx: x(i), cy: y(v), r: 4 }, svg('title', {}, `${names[k]} ${points[i].label}：${pct(v)}`)));
    }
  }
  return h('figure', { class: 'chart' }, h('figcaption', {}, title),
    h('div', { class: 'legend' }, keys.map((k) => h('span', { class: k }, names[k])), h('span', { class: 'target' }, '目标线')), root);
}

export { pct };
