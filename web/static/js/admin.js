// The records administrator's workspace (DESIGN §6.1): staff and their
// roles, home-visit villages and passwords; the village registry with its
// populations and responsible doctors; CSV import. Every page reaches only
// what the API lets the signed-in person manage.
import { api, get, post, qs, hasRole, domainsOf, getCSRF, ApiError, newKey } from './api.js';
import {
  h, mount, field, readForm, showErrors, clearErrors, toast, table, errorBox, today,
} from './dom.js';
import { ROLE, FIELD, label } from './labels.js';

// The roles a records administrator hands out (their institution's).
const INSTITUTION_ROLES = ['doctor', 'home_visit', 'records_admin'];

const PASSWORD_HINT = '至少 10 个字符；不能是常见密码，避免工号、姓名、手机号和连续或重复的字符';

/** institutionsOf lists the institutions the person administers records of. */
export function institutionsOf(staff) {
  return domainsOf(staff, 'records_admin').filter(Boolean);
}

const isSystemAdmin = (staff) => hasRole(staff, 'admin');

// manageable lists the institutions whose staff and villages the person
// manages: their own as records administrator; every one for the system
// administrator who is none's.
async function manageable(staff) {
  const own = institutionsOf(staff);
  if (own.length || !isSystemAdmin(staff)) return own;
  try {
    const all = (await get('/institutions')).items;
    for (const i of all) instNames[i.code] = i.name;
    return all.map((i) => i.code);
  } catch (e) { return own; }
}

// instNames names institutions by code: the signed-in person's from GET
// /me, every one for the system administrator (GET /institutions).
const instNames = {};
const instName = (staff, code) => (staff.institution_names || {})[code] || instNames[code] || code;

// villagesOf returns the registered villages of the given institutions (all
// of them for the system administrator), with their townships' names.
export async function villagesOf(insts) {
  const counties = (await get('/regions')).items;
  const towns = (await Promise.all(counties.map((c) => get('/regions' + qs({ parent: c.code }))))).flatMap((r) => r.items);
  const lists = await Promise.all(towns.map(async (t) => (await get('/regions' + qs({ parent: t.code }))).items
    .filter((v) => !insts || insts.includes(v.institution_code))
    .map((v) => ({ ...v, township: t.name }))));
  return { towns, villages: lists.flat() };
}

function page(title, ...rest) {
  return mount(h('h1', {}, title), ...rest);
}

// ---------- staff ----------

/** staffPage lists the institution's staff with a form to add one. */
export async function staffPage(staff, q) {
  const insts = await manageable(staff);
  const inst = q.get('institution') || insts[0] || '';
  page('人员管理', h('p', { class: 'loading' }, '正在加载…'));
  let list;
  let villages = [];
  try {
    [list, { villages }] = await Promise.all([
      get('/staff' + qs({ institution_code: inst, per_page: 500 })),
      villagesOf(isSystemAdmin(staff) && !inst ? null : [inst]),
    ]);
  } catch (e) {
    page('人员管理', errorBox(e));
    return;
  }
  // The list leaves out villages: the home-visit staff's come one by one.
  await Promise.all(list.items.filter((s) => (s.roles || []).some((g) => g.role === 'home_visit')).map(async (s) => {
    try { s.village_codes = (await get('/staff/' + encodeURIComponent(s.staff_code))).village_codes || []; } catch (e) { /* shown as — */ }
  }));
  const vname = Object.fromEntries(villages.map((v) => [v.code, v.name]));
  const panel = h('div', { id: 'staff-panel' });
  const reload = () => staffPage(staff, q);
  const instPicker = insts.length > 1 ? h('p', { class: 'tabs' }, insts.map((c) =>
    h('a', { class: 'button ' + (c === inst ? '' : 'secondary'), href: '#/staff' + qs({ institution: c }) }, instName(staff, c)))) : null;
  page('人员管理', instPicker,
    h('p', { class: 'muted' }, `${instName(staff, inst)}：共 ${list.total} 人。入户随访人员须指定负责的村居；停用的人员不能登录。`),
    h('div', { class: 'actions' }, h('button', { type: 'button', id: 'new-staff', onclick: () => {
      panel.replaceChildren(newStaffForm(inst, instName(staff, inst), reload, () => panel.replaceChildren()));
      panel.querySelector('input').focus();
    } }, '＋ 新增人员')),
    panel,
    table([
      { label: '工号', value: (s) => s.staff_code },
      { label: '姓名', value: (s) => s.name },
      { label: '角色', value: (s) => (s.roles || []).map((g) => label(ROLE, g.role)).join('、') || '—' },
      { label: '负责村居', value: (s) => (s.village_codes || []).map((c) => vname[c] || c).join('、') || '—' },
      { label: '电话', value: (s) => s.phone || '—' },
      { label: '状态', value: (s) => h('span', { class: 'tag ' + (s.active ? 'ok' : 'warn') }, s.active ? '在用' : '已停用') },
      { label: '操作', value: (s) => h('button', { type: 'button', class: 'secondary', 'data-edit': s.staff_code, onclick: () => {
        panel.replaceChildren(editStaff(s, villages, reload));
        panel.querySelector('h2').focus();
      } }, '管理') },
    ], list.items, { caption: '本机构人员' }));
}

function rolesField(current) {
  return h('fieldset', { class: 'field wide', 'data-field': 'roles' }, h('legend', {}, '角色'),
    h('div', { class: 'choice' }, INSTITUTION_ROLES.map((r) => h('label', {},
      h('input', { type: 'checkbox', name: 'role', value: r, checked: current.includes(r) }), label(ROLE, r)))));
}

const checkedRoles = (form, inst) => [...form.querySelectorAll('input[name=role]:checked')]
  .map((c) => ({ role: c.value, domain: 'inst:' + inst }));

function newStaffForm(inst, instLabel, onDone, onCancel) {
  const specs = [
    { name: 'staff_code', label: '工号', required: true, hint: '字母、数字、._-，最多 32 位' },
    { name: 'name', label: '姓名', required: true },
    { name: 'phone', label: '电话', inputmode: 'tel' },
    { name: 'password', label: '初始密码', type: 'password', required: true, hint: PASSWORD_HINT, autocomplete: 'new-password' },
  ];
  const form = h('form', { class: 'panel', novalidate: true, id: 'staff-form' },
    h('h2', { tabindex: '-1' }, `新增人员（${instLabel}）`),
    h('div', { class: 'grid' }, specs.map(field), rolesField([])),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '保存'),
      h('button', { type: 'button', class: 'secondary', onclick: onCancel }, '取消')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = { ...readForm(form, specs), institution_code: inst, roles: checkedRoles(form, inst) };
    if (!body.roles.length) {
      showErrors(form, Object.assign(new ApiError(400, null), { message: '请检查标出的字段', fields: [{ field: 'roles', reason: '至少选择一个角色' }] }));
      return;
    }
    try {
      await post('/staff', body);
      toast(`已新增人员：${body.name}（${body.staff_code}）`);
      await onDone();
    } catch (e) {
      showErrors(form, e, FIELD);
    }
  });
  return form;
}

// editStaff manages one person: roles, villages (home-visit staff), active
// flag and password, each saved on its own.
function editStaff(s, villages, onDone) {
  const inst = s.institution_code;
  const current = (s.roles || []).map((g) => g.role);
  const roleForm = h('form', { novalidate: true, id: 'roles-form' }, rolesField(current),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '保存角色')));
  roleForm.addEventListener('submit', (ev) => send(ev, roleForm, 'PATCH', `/staff/${s.staff_code}`,
    () => ({ roles: [...(s.roles || []).filter((g) => !INSTITUTION_ROLES.includes(g.role)), ...checkedRoles(roleForm, inst)] }), '已保存角色'));

  const own = new Set(s.village_codes || []);
  const byTown = {};
  for (const v of villages.filter((x) => x.institution_code === inst)) (byTown[v.township] = byTown[v.township] || []).push(v);
  const villageForm = h('form', { novalidate: true, id: 'villages-form' },
    h('fieldset', { class: 'field wide', 'data-field': 'village_codes' }, h('legend', {}, '负责村居（入户随访）'),
      Object.entries(byTown).map(([t, vs]) => h('div', { class: 'choice' }, h('span', { class: 'muted' }, t + '：'),
        vs.map((v) => h('label', {}, h('input', { type: 'checkbox', name: 'village', value: v.code, checked: own.has(v.code) }), v.name))))),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '保存村居')));
  villageForm.addEventListener('submit', (ev) => send(ev, villageForm, 'PUT', `/staff/${s.staff_code}/villages`,
    () => ({ village_codes: [...villageForm.querySelectorAll('input[name=village]:checked')].map((c) => c.value) }), '已保存负责村居'));

  const pwSpecs = [{ name: 'password', label: '新密码', type: 'password', required: true, hint: PASSWORD_HINT, autocomplete: 'new-password' }];
  const pwForm = h('form', { novalidate: true, id: 'password-form' }, h('div', { class: 'grid' }, pwSpecs.map(field)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '重置密码')));
  pwForm.addEventListener('submit', (ev) => send(ev, pwForm, 'PUT', `/staff/${s.staff_code}/password`,
    () => readForm(pwForm, pwSpecs), '已重置密码，此人须用新密码重新登录'));

  const activeForm = h('form', { novalidate: true, id: 'active-form' },
    h('p', { class: 'muted' }, s.active ? '停用后此人不能再登录，已登录的会话随即失效；档案和记录保留。' : '此人已停用。'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: s.active ? 'danger' : '' }, s.active ? '停用' : '重新启用')));
  activeForm.addEventListener('submit', (ev) => send(ev, activeForm, 'PATCH', `/staff/${s.staff_code}`,
    () => ({ active: !s.active }), s.active ? '已停用' : '已重新启用'));

  async function send(ev, form, method, path, body, done) {
    ev.preventDefault();
    clearErrors(form);
    try {
      await api(method, path, body());
      toast(`${done}：${s.name}`);
      await onDone();
    } catch (e) {
      showErrors(form, e, FIELD);
    }
  }
  return h('section', { class: 'panel', id: 'staff-edit', 'data-staff': s.staff_code },
    h('h2', { tabindex: '-1' }, `${s.name}（${s.staff_code}）`),
    h('h3', {}, '角色'), roleForm,
    current.includes('home_visit') || own.size ? [h('h3', {}, '负责村居'), villageForm] : null,
    h('h3', {}, '密码'), pwForm,
    h('h3', {}, '账号状态'), activeForm);
}

// ---------- villages ----------

/** villagesPage is the registry of the institution's villages. */
export async function villagesPage(staff) {
  const insts = await manageable(staff);
  page('村居管理', h('p', { class: 'loading' }, '正在加载…'));
  let towns;
  let villages;
  try {
    ({ towns, villages } = await villagesOf(isSystemAdmin(staff) ? null : insts));
  } catch (e) {
    page('村居管理', errorBox(e));
    return;
  }
  const specs = [
    { name: 'code', label: '村居代码', required: true, inputmode: 'numeric', maxlength: 12, hint: '12 位：所属乡镇 9 位 + 3 位' },
    { name: 'name', label: '村居名称', required: true },
    { name: 'institution_code', label: '所属机构', type: 'select', required: true, value: insts[0], options: insts.map((c) => [c, instName(staff, c)]) },
  ];
  const form = h('form', { class: 'panel', novalidate: true, id: 'village-form' }, h('h2', {}, '登记新村居'),
    h('p', { class: 'muted' }, '所属乡镇须已登记：' + towns.map((t) => `${t.name}（${t.code}）`).join('、')),
    h('div', { class: 'grid' }, specs.map(field)),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, '登记')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    const body = readForm(form, specs);
    try {
      await post('/regions', body);
      toast(`已登记村居：${body.name}`);
      await villagesPage(staff);
    } catch (e) {
      showErrors(form, e, FIELD);
    }
  });
  page('村居管理',
    h('p', { class: 'muted' }, `本机构共 ${villages.length} 个村居。每个村居的年度人口是建档率的分母；责任医生按起始日期记录，考核按当时的责任医生归属。`),
    villages.length ? table([
      { label: '乡镇', value: (v) => v.township },
      { label: '村居', value: (v) => h('a', { href: '#/villages/' + v.code }, v.name) },
      { label: '代码', value: (v) => h('span', { class: 'rid' }, v.code) },
      { label: '所属机构', value: (v) => instName(staff, v.institution_code) },
      { label: '', value: (v) => h('a', { class: 'button secondary', href: '#/villages/' + v.code }, '人口与责任医生') },
    ], villages, { caption: '本机构村居' }) : h('p', { class: 'empty' }, '尚无村居。'),
    form);
}

/** villagePage shows one village's populations and responsible doctors. */
export async function villagePage(code) {
  const back = h('p', {}, h('a', { href: '#/villages' }, '← 返回村居列表'));
  page('村居', back, h('p', { class: 'loading' }, '正在加载…'));
  let v;
  let pops;
  let resp;
  let doctors = [];
  try {
    [v, pops, resp] = await Promise.all([get('/regions/' + code), get(`/villages/${code}/populations`),
      get(`/villages/${code}/responsibilities`)]);
    doctors = (await get('/staff' + qs({ institution_code: v.institution_code, per_page: 500 }))).items
      .filter((s) => s.active && (s.roles || []).some((g) => g.role === 'doctor'));
  } catch (e) {
    page('村居', back, errorBox(e));
    return;
  }
  const reload = () => villagePage(code);
  const year = new Date().getFullYear();
  const popSpecs = [
    { name: 'year', label: '年度', type: 'number', required: true, value: year, min: 1900, max: 9999, narrow: true },
    { name: 'population', label: '常住人口', type: 'number', required: true, min: 0, narrow: true },
  ];
  const popForm = h('form', { novalidate: true, id: 'population-form', class: 'inline-form' }, popSpecs.map(field),
    h('button', { type: 'submit' }, '保存人口'));
  popForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(popForm);
    const b = readForm(popForm, popSpecs);
    if (!b.year) {
      showErrors(popForm, Object.assign(new ApiError(400, null), { message: '请检查标出的字段', fields: [{ field: 'year', reason: '请填写年度' }] }));
      return;
    }
    try {
      await api('PUT', `/villages/${code}/populations/${b.year}`, { population: b.population });
      toast(`已保存 ${b.year} 年人口`);
      await reload();
    } catch (e) {
      showErrors(popForm, e, FIELD);
    }
  });
  const respSpecs = [
    { name: 'staff_code', label: '责任医生', type: 'select', required: true, options: doctors.map((d) => [d.staff_code, `${d.name}（${d.staff_code}）`]) },
    { name: 'from_date', label: '起始日期', type: 'date', required: true, value: today() },
  ];
  const respForm = h('form', { novalidate: true, id: 'responsibility-form', class: 'inline-form' }, respSpecs.map(field),
    h('button', { type: 'submit' }, '指定责任医生'));
  respForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(respForm);
    try {
      await post(`/villages/${code}/responsibilities`, readForm(respForm, respSpecs));
      toast('已指定责任医生');
      await reload();
    } catch (e) {
      showErrors(respForm, e, FIELD);
    }
  });
  const rs = [...resp.items].sort((a, b) => (a.from_date < b.from_date ? 1 : -1));
  page(`${v.name}（${v.code}）`, back,
    h('section', { class: 'panel', 'aria-labelledby': 'h-pop' }, h('h2', { id: 'h-pop' }, '年度人口'),
      pops.items.length ? table([
        { label: '年度', value: (p) => p.year },
        { label: '常住人口', value: (p) => p.population, num: true },
      ], pops.items) : h('p', { class: 'empty' }, '尚未登记人口：没有人口数的年度不计算建档率。'), popForm),
    h('section', { class: 'panel', 'aria-labelledby': 'h-resp' }, h('h2', { id: 'h-resp' }, '责任医生'),
      rs.length ? table([
        { label: '责任医生', value: (r) => (r.staff_name ? `${r.staff_name}（${r.staff_code}）` : r.staff_code) },
        { label: '起始日期', value: (r) => r.from_date },
        { label: '截止', value: (r) => {
          const idx = rs.indexOf(r);
          return idx > 0 ? `至 ${rs[idx - 1].from_date} 前` : '至今';
        } },
      ], rs) : h('p', { class: 'empty' }, '尚未指定责任医生。'), respForm));
}

// ---------- import ----------

const IMPORT_FILES = ['regions.csv', 'institutions.csv', 'staff.csv', 'populations.csv', 'responsibilities.csv',
  'residents.csv', 'programmes.csv', 'entries.csv'];

/** importPage uploads CSV files for a dry run or a real import and shows every bad row. */
export function importPage() {
  const input = h('input', { type: 'file', id: 'import-files', name: 'files', multiple: true, accept: '.csv,text/csv',
    'aria-describedby': 'import-hint' });
  const progress = h('div', { id: 'import-progress', 'aria-live': 'polite' });
  const out = h('div', { id: 'import-report' });
  const dry = h('button', { type: 'button', id: 'import-dry', onclick: () => run(true) }, '试导入（只检查，不写入）');
  const real = h('button', { type: 'button', id: 'import-commit', class: 'secondary', onclick: () => run(false) }, '正式导入');
  page('批量导入',
    h('p', { class: 'muted' }, '从纸质档案或表格迁移：上传 CSV 文件（UTF-8，首行为列名），先试导入检查每一行，无错误后再正式导入。正式导入要么全部写入，要么一行都不写。'),
    h('div', { class: 'field' }, h('label', { for: 'import-files' }, '选择文件（可多选）'),
      h('span', { class: 'hint', id: 'import-hint' }, '文件名须为：' + IMPORT_FILES.join('、')), input),
    h('div', { class: 'actions' }, dry, real), progress, out);

  function run(dryRun) {
    const files = [...input.files];
    if (!files.length) {
      out.replaceChildren(h('div', { class: 'alert', role: 'alert' }, '请先选择要导入的文件。'));
      return;
    }
    const fd = new FormData();
    for (const f of files) fd.append(f.name, f, f.name);
    dry.disabled = real.disabled = true;
    out.replaceChildren();
    const bar = h('progress', { max: 100, value: 0, id: 'import-bar' });
    const note = h('span', {}, '正在上传…');
    progress.replaceChildren(bar, ' ', note);
    const started = Date.now();
    let timer = null;
    let finished = false;
    // The run's name: the server reports its progress under it while the
    // one request runs (GET /imports/progress/{id}).
    const runID = newKey();
    // XMLHttpRequest, not fetch: it reports the upload's progress.
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/imports' + qs({ dry_run: dryRun ? 'true' : 'false', progress: runID }));
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('X-CSRF-Token', getCSRF());
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        note.textContent = `正在上传 ${Math.round(e.loaded / 1024)} / ${Math.round(e.total / 1024)} KB`;
      }
    };
    xhr.upload.onload = () => {
      bar.removeAttribute('value'); // indeterminate until the server reports rows
      note.textContent = `已上传，正在逐行${dryRun ? '检查' : '检查并写入'}…`;
      const poll = async () => {
        if (finished) return;
        try {
          showRun(await get('/imports/progress/' + encodeURIComponent(runID)));
        } catch (e) { /* not registered yet (404), or a lost answer: ask again */ }
        if (!finished) timer = setTimeout(poll, 500);
      };
      poll();
    };
    // showRun draws the rows checked of each file, of the rows it holds.
    const showRun = (run) => {
      if (finished) return;
      const rows = run.files.reduce((n, f) => n + Math.min(f.rows, f.total), 0);
      const total = run.files.reduce((n, f) => n + f.total, 0);
      if (total > 0) { bar.max = total; bar.value = rows; }
      const all = run.files.every((f) => f.rows >= f.total);
      note.textContent = all
        ? `各文件已检查完，正在${dryRun ? '汇总结果' : '写入并提交'}… 已用 ${Math.round(run.elapsed_seconds)} 秒`
        : `正在逐行${dryRun ? '检查' : '检查并写入'}：已处理 ${rows} / ${total} 行 · 已用 ${Math.round(run.elapsed_seconds)} 秒`;
      perFile.replaceChildren(...run.files.map((f) => h('li', { 'data-file': f.file },
        `${f.file}：${f.rows} / ${f.total} 行`, f.rows >= f.total ? ' ✓' : '')));
    };
    const perFile = h('ul', { id: 'import-files-progress', class: 'plain' });
    progress.append(perFile);
    const done = (status, body) => {
      finished = true;
      clearTimeout(timer);
      dry.disabled = real.disabled = false;
      progress.replaceChildren(h('span', { class: 'muted' }, `用时 ${Math.round((Date.now() - started) / 100) / 10} 秒`));
      if (body && body.counts) {
        out.replaceChildren(...report(body, dryRun));
      } else {
        out.replaceChildren(errorBox(new ApiError(status, body)));
      }
      out.querySelector('h2')?.focus();
    };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      done(xhr.status, body);
    };
    xhr.onerror = () => done(0, null);
    xhr.send(fd);
  }
}

function report(rep, dryRun) {
  const counts = Object.entries(rep.counts || {});
  const verdict = rep.ok
    ? (dryRun ? h('p', { class: 'notice ok', id: 'import-verdict' }, '试导入通过：没有错误行，未写入任何数据。可以正式导入。')
      : h('p', { class: 'notice ok', id: 'import-verdict' }, `导入完成：全部写入${rep.allocated_record_ids ? `，新分配档案编号 ${rep.allocated_record_ids} 个` : ''}。`))
    : h('p', { class: 'alert', role: 'alert', id: 'import-verdict' }, `发现 ${rep.bad_rows} 行错误，未写入任何数据。请修改文件后重新上传。`);
  return [
    h('h2', { tabindex: '-1' }, dryRun ? '试导入结果' : '导入结果'), verdict,
    table([
      { label: '文件', value: ([f]) => f },
      { label: '行数', value: ([, c]) => c.rows, num: true },
      { label: '错误行', value: ([, c]) => c.bad, num: true },
      { label: '与已登记相同（跳过）', value: ([, c]) => c.unchanged || 0, num: true },
    ], counts, { caption: '各文件行数' }),
    rep.errors && rep.errors.length ? h('div', { id: 'import-errors' }, table([
      { label: '文件', value: (p) => p.file },
      { label: '行', value: (p) => (p.line ? String(p.line) : '整个文件'), num: true },
      { label: '字段', value: (p) => p.field || '—' },
      { label: '原因', value: (p) => p.reason },
    ], rep.errors, { caption: `错误（共 ${rep.bad_rows} 行${rep.truncated ? '，只列出前 100000 条' : ''}）`, rowClass: () => 'warn' })) : null,
  ];
}
