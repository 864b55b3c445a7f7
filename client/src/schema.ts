// The schema editor (admins): define a collection (#/new-collection) or change one
// (#/collections/{name}) — its label and ordered fields, each with its type and rules.
//
// The server checks every rule (POST/PUT /api/collections): a refused definition comes back as
// 400 `invalid_definition` naming the field, which is marked here; a change that would
// invalidate published entries comes back as 409 `incompatible_change` with what it tightens
// and the entries it would break (each linked), shown with "Save anyway" (`?force=true`).
import { client, shaped, ApiError, FIELD_TYPES, type CollectionDef, type FieldDef, type FieldType } from './api';
import { h } from './dom';

/** The rules each type has (the README's contract table). */
const RULES: Record<FieldType, (keyof FieldDef)[]> = {
  text: ['max_length'], richtext: [], number: ['min', 'max', 'integer'], boolean: [], date: [], datetime: [],
  select: ['options'], tags: [], reference: ['collection'], image: [],
};

/** A field as the form holds it: the definition, and a stable key for its row. */
interface Row { key: number; def: FieldDef }

export function showSchemaEditor(app: HTMLElement, name: string | null): () => void {
  const message = h('p', { class: 'message', role: 'alert', 'aria-live': 'assertive' });
  const changes = h('ul', { class: 'changes', 'aria-label': 'What the change would tighten' });
  const nameInput = h('input', { id: 'collection-name', required: true, maxlength: 64, placeholder: 'articles', pattern: '[a-z][a-z0-9_]{0,63}' });
  const labelInput = h('input', { id: 'collection-label', required: true, maxlength: 200, placeholder: 'Articles' });
  const list = h('ol', { class: 'schema-fields', 'aria-label': 'Fields' });
  const save = h('button', { class: 'primary', type: 'submit' }, name ? 'Save changes' : 'Create collection');
  const force = h('button', { type: 'button', hidden: true, onclick: () => void submit(true) }, 'Save anyway');
  let rows: Row[] = [];
  let next = 0;
  let others: string[] = [];

  const render = (focus?: string) => {
    list.replaceChildren(...rows.map((row, i) => fieldRow(row, i)));
    if (focus) list.querySelector<HTMLElement>(focus)?.focus();
  };
  const move = (i: number, by: number, key: number, what: string) => {
    const [row] = rows.splice(i, 1);
    if (row) rows.splice(Math.max(0, Math.min(rows.length, i + by)), 0, row);
    render(`[data-key="${key}"] .${what}`);
  };

  const fieldRow = (row: Row, i: number): HTMLElement => {
    const { def } = row;
    const id = (part: string) => `f${row.key}-${part}`;
    const set = <K extends keyof FieldDef>(k: K, v: FieldDef[K] | undefined) => {
      if (v === undefined || v === '' || (typeof v === 'number' && Number.isNaN(v))) delete def[k];
      else def[k] = v;
    };
    const text = (part: 'name' | 'label', attrs: Record<string, unknown>) => {
      const input = h('input', { id: id(part), class: `f-${part}`, value: def[part] ?? '', ...attrs });
      input.addEventListener('input', () => {
        set(part, input.value.trim());
        if (part === 'name') relabel();
      });
      return h('div', {}, h('label', { for: id(part) }, part === 'name' ? 'Name' : 'Label'), input);
    };
    const type = h('select', { id: id('type'), class: 'f-type', onchange: () => {
      def.type = type.value as FieldType;
      for (const rule of ['max_length', 'min', 'max', 'integer', 'options', 'collection'] as const) {
        if (!RULES[def.type].includes(rule)) delete def[rule];
      }
      render(`[data-key="${row.key}"] .f-type`);
    } }, ...FIELD_TYPES.map((t) => h('option', { value: t, selected: t === def.type }, t)));
    const required = h('input', { id: id('required'), type: 'checkbox', checked: def.required === true,
      onchange: () => set('required', required.checked || undefined) });
    const num = (rule: 'max_length' | 'min' | 'max', label: string) => {
      const input = h('input', { id: id(rule), type: 'number', value: def[rule] ?? '', step: rule === 'max_length' ? 1 : 'any' });
      input.addEventListener('input', () => set(rule, input.value === '' ? undefined : Number(input.value)));
      return h('div', {}, h('label', { for: id(rule) }, label), input);
    };
    const rules = RULES[def.type].map((rule) => {
      switch (rule) {
        case 'max_length': return num('max_length', 'Max length');
        case 'min': return num('min', 'Min');
        case 'max': return num('max', 'Max');
        case 'integer': {
          const box = h('input', { id: id('integer'), type: 'checkbox', checked: def.integer === true, onchange: () => set('integer', box.checked || undefined) });
          return h('label', { class: 'check' }, box, ' Whole numbers');
        }
        case 'options': {
          const area = h('textarea', { id: id('options'), rows: 3, placeholder: 'one per line' });
          area.value = (def.options ?? []).join('\n');
          area.addEventListener('input', () => {
            const options = area.value.split('\n').map((o) => o.trim()).filter(Boolean);
            set('options', options.length ? options : undefined);
          });
          return h('div', { class: 'wide' }, h('label', { for: id('options') }, 'Options'), area);
        }
        case 'collection': {
          const pick = h('select', { id: id('collection'), onchange: () => set('collection', pick.value || undefined) },
            h('option', { value: '' }, '—'), ...others.map((c) => h('option', { value: c, selected: c === def.collection }, c)));
          return h('div', {}, h('label', { for: id('collection') }, 'Refers to'), pick);
        }
        default: return null;
      }
    });
    const up = h('button', { type: 'button', class: 'up', disabled: i === 0, onclick: () => move(i, -1, row.key, 'up') }, '↑');
    const down = h('button', { type: 'button', class: 'down', disabled: i === rows.length - 1, onclick: () => move(i, 1, row.key, 'down') }, '↓');
    const remove = h('button', { type: 'button', class: 'remove', onclick: () => { rows.splice(i, 1); render(); } }, 'Remove');
    const li = h('li', { class: 'schema-field', 'data-key': row.key });
    // The row's buttons say which field they move or remove, as its name is typed.
    function relabel() {
      const called = def.name || 'this field';
      li.dataset['name'] = def.name;
      up.setAttribute('aria-label', `Move ${called} up`);
      down.setAttribute('aria-label', `Move ${called} down`);
      remove.setAttribute('aria-label', `Remove ${called}`);
    }
    relabel();
    li.append(
      h('div', { class: 'schema-grid' },
        text('name', { required: true, maxlength: 64, placeholder: 'headline' }),
        text('label', { maxlength: 200, placeholder: 'Headline' }),
        h('div', {}, h('label', { for: id('type') }, 'Type'), type),
        h('label', { class: 'check' }, required, ' Required'),
        ...rules),
      h('div', { class: 'row' }, up, down, remove));
    return li;
  };

  /** A new empty field; `focus`: move the caret into its name (the author asked for it). */
  const add = (focus = true) => {
    rows.push({ key: next++, def: { name: '', type: 'text' } });
    render(focus ? `[data-key="${next - 1}"] .f-name` : undefined);
  };

  /** Marks the row `error.field` names (a field's name, or `fields[i]`). */
  const mark = (field: unknown) => {
    for (const li of list.querySelectorAll('.schema-field')) li.classList.remove('invalid');
    if (typeof field !== 'string') return;
    const at = /^fields\[(\d+)\]$/.exec(field)?.[1];
    const index = at !== undefined ? Number(at) : rows.findIndex((r) => r.def.name === field);
    const li = index >= 0 ? list.children[index] : undefined;
    li?.classList.add('invalid');
    (field === 'name' ? nameInput : field === 'label' ? labelInput : li?.querySelector<HTMLElement>('input'))?.focus();
  };

  const submit = async (forced = false) => {
    message.className = 'message';
    message.textContent = '';
    changes.replaceChildren();
    force.hidden = true;
    const definition = { label: labelInput.value.trim(), fields: rows.map((r) => r.def) };
    try {
      const saved = name
        ? await shaped<CollectionDef>(client.PUT('/api/collections/{name}', {
          params: { path: { name }, query: forced ? { force: true } : {} }, body: definition,
        }))
        : await shaped<CollectionDef>(client.POST('/api/collections', { body: { name: nameInput.value.trim(), ...definition } }));
      message.textContent = `Saved ${saved.label} (version ${saved.version}).`;
      location.hash = '#/';
    } catch (e) {
      message.className = 'message error';
      message.textContent = e instanceof Error ? e.message : String(e);
      if (e instanceof ApiError) {
        mark(e.detail['field']);
        const tightened = e.detail['changes'];
        const entries = e.detail['entries'];
        if (e.code === 'incompatible_change' && Array.isArray(tightened) && Array.isArray(entries)) {
          changes.replaceChildren(
            ...tightened.map((c: { field?: unknown; change?: unknown }) => h('li', {}, `${String(c.field)}: ${String(c.change)}`)),
            ...entries.map((x: { doc_id?: unknown; title?: unknown; slug?: unknown; problems?: { name?: unknown; message?: unknown }[] }) =>
              h('li', { class: 'broken-entry' },
                h('a', { href: `#/doc/${String(x.doc_id)}` }, String(x.title || x.slug)), ' would break: ',
                (x.problems ?? []).map((p) => `${String(p.name)} ${String(p.message)}`).join('; '))));
          force.hidden = false;
        }
      }
    }
  };

  app.append(h('section', { class: 'schema-editor' },
    h('div', { class: 'row top' }, h('a', { href: '#/' }, '← Documents')),
    h('h1', {}, name ? `Edit the ${name} schema` : 'New collection'),
    // novalidate: the server checks every rule and names the field (marked above); the
    // browser's own constraint check would block a submit silently, with only a bubble, for
    // rules it knows in part (a required name, a pattern) and none of the rest.
    h('form', { novalidate: true, onsubmit: (ev: Event) => { ev.preventDefault(); void submit(); } },
      h('div', { class: 'schema-grid' },
        h('div', {}, h('label', { for: 'collection-name' }, 'Name (letters, digits, _; fixed once created)'), nameInput),
        h('div', {}, h('label', { for: 'collection-label' }, 'Label'), labelInput)),
      h('h2', {}, 'Fields'),
      list,
      h('button', { type: 'button', id: 'add-field', onclick: () => add() }, 'Add field'),
      message, changes,
      h('div', { class: 'row' }, save, force))));

  let closed = false;
  void (async () => {
    try {
      const { collections } = await shaped<{ collections: CollectionDef[] }>(client.GET('/api/collections'));
      others = collections.map((c) => c.name);
      const current = name ? collections.find((c) => c.name === name) : undefined;
      if (closed) return;
      if (name && !current) throw new ApiError(404, 'collection_not_found', `There is no collection named ${name}.`);
      if (current) {
        nameInput.value = current.name;
        nameInput.readOnly = true;
        labelInput.value = current.label;
        rows = current.fields.map((def) => ({ key: next++, def: { ...def } }));
        render();
      } else {
        // The first row arrives when the collections have loaded: by then the author may be
        // typing the collection's name or label, and taking the focus would send the rest of
        // their keystrokes into the field's name (the cause of a flaky browser test).
        add(false);
      }
    } catch (e) {
      message.className = 'message error';
      message.textContent = e instanceof Error ? e.message : String(e);
    }
  })();
  return () => { closed = true; };
}
