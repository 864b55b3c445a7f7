// The entry form: generated from a collection's definition, every field bound live to the Yjs
// type the content-type contract gives it —
//
//   text       <input> (or a <textarea> for long text) over the root Y.Text `<name>`
//   richtext   TipTap with its toolbar over the root Y.XmlFragment `<name>`
//   the rest   an input over the key `<name>` of the root Y.Map `fields` (form/codec.ts)
//
// — with who is in each field (presence.ts) and what publishing would refuse, as the server
// says it (problems.ts), under each field as the authors type.
import type * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import type { Editor } from '@tiptap/core';
import { client, ok, type CollectionDef, type FieldDef } from '../../api';
import { h } from '../../dom';
import type { User } from '../../identity';
import { bindText, bindValue } from '../bindings';
import { richText } from '../richtext';
import * as codec from './codec';
import { chooseFromLibrary } from '../media';

export interface EntryForm {
  element: HTMLElement;
  /** Rich-text editors by field name. */
  editors: Map<string, Editor>;
  /** Each field's wrapper by name (presence and problems are shown in it). */
  fields: Map<string, HTMLElement>;
  destroy(): void;
}

/** A text field whose limit allows more than a line gets a textarea. */
const LONG_TEXT = 200;

const datetime = codec.datetime((ms) => new Date(ms).getTimezoneOffset());

export function entryForm(
  definition: CollectionDef, ydoc: Y.Doc, provider: WebsocketProvider, user: User, canEdit: boolean,
): EntryForm {
  const map = ydoc.getMap<unknown>('fields');
  const editors = new Map<string, Editor>();
  const fields = new Map<string, HTMLElement>();

  const control = (f: FieldDef, id: string): HTMLElement => {
    switch (f.type) {
      case 'text': {
        const long = f.max_length === undefined || f.max_length > LONG_TEXT;
        const input = long ? h('textarea', { id, rows: 2 }) : h('input', { id });
        if (f.max_length !== undefined) input.maxLength = f.max_length;
        bindText(input, ydoc.getText(f.name));
        input.readOnly = !canEdit;
        return input;
      }
      case 'richtext': {
        const rich = richText(ydoc, provider, user, f.name, f.label ?? f.name, canEdit);
        editors.set(f.name, rich.editor);
        rich.editor.view.dom.id = id;
        return rich.element;
      }
      case 'number': {
        const input = h('input', { id, type: 'number', step: f.integer ? 1 : 'any', inputmode: f.integer ? 'numeric' : 'decimal' });
        if (f.min !== undefined) input.min = String(f.min);
        if (f.max !== undefined) input.max = String(f.max);
        return value(input, f, codec.number);
      }
      case 'boolean':
        return value(h('input', { id, type: 'checkbox' }), f, codec.select);
      case 'date':
        return value(h('input', { id, type: 'date' }), f, codec.date);
      case 'datetime':
        return value(h('input', { id, type: 'datetime-local', step: 1 }), f, datetime);
      case 'select':
        return value(h('select', { id }, h('option', { value: '' }, '—'), ...(f.options ?? []).map((o) => h('option', { value: o }, o))), f, codec.select);
      case 'tags':
        return value(h('input', { id, placeholder: 'comma, separated' }), f, codec.tags);
      case 'reference': {
        const select = h('select', { id }, h('option', { value: '' }, '—'));
        void choices(select, f.collection ?? '');
        select.addEventListener('focus', () => void choices(select, f.collection ?? ''));
        return value(select, f, codec.reference);
      }
      case 'image':
        return imageInputs(f, id);
    }
  };

  const value = <T extends HTMLInputElement | HTMLSelectElement>(input: T, f: FieldDef, c: codec.Codec): T => {
    bindValue(input, map, f.name, c);
    input.disabled = !canEdit;
    return input;
  };

  // An image field: a file from the library (or uploaded there), or any https:// address,
  // with its alternative text and a preview.
  const imageInputs = (f: FieldDef, id: string): HTMLElement => {
    const src = h('input', { id, type: 'url', placeholder: 'https://… or /path' });
    const alt = h('input', { id: `${id}-alt`, placeholder: 'what it shows' });
    const preview = h('img', { class: 'image-preview', alt: '', hidden: true });
    const show = () => {
      const v = codec.imageParts(map.get(f.name));
      if (document.activeElement !== src) src.value = v.src;
      if (document.activeElement !== alt) alt.value = v.alt;
      preview.hidden = !v.src;
      if (v.src) preview.src = /^\/media\/[0-9a-f]{32}$/.test(v.src) ? `${v.src}?w=320` : v.src;
    };
    const choose = h('button', {
      type: 'button', class: 'choose-image', disabled: !canEdit,
      onclick: async () => {
        const item = await chooseFromLibrary();
        if (!item) return;
        const v = codec.image(item.url, alt.value || item.alt);
        if (v !== undefined) map.set(f.name, v);
      },
    }, 'Choose from library…');
    map.observe((e) => { if (e.keysChanged.has(f.name)) show(); });
    show();
    for (const input of [src, alt]) {
      input.readOnly = !canEdit;
      input.addEventListener('blur', show);
      input.addEventListener('input', () => {
        const v = codec.image(src.value, alt.value);
        if (v === undefined) map.delete(f.name);
        else map.set(f.name, v);
      });
    }
    return h('div', { class: 'image-inputs' }, preview, h('div', {}, choose, ' or an address: ', src),
      h('label', { for: `${id}-alt` }, 'Alternative text'), alt);
  };

  const parts = definition.fields.map((f) => {
    const id = `field-${f.name}`;
    const wrapper = h('div', { class: `field field-${f.type}`, 'data-field': f.name },
      h('div', { class: 'field-head' },
        h('label', { for: id }, f.label ?? f.name, f.required ? h('span', { class: 'required', title: 'required' }, ' *') : null),
        h('span', { class: 'field-people', 'aria-label': `Also in ${f.label ?? f.name}` })),
      control(f, id),
      h('p', { class: 'field-problem', id: `problem-${f.name}`, 'aria-live': 'polite' }));
    fields.set(f.name, wrapper);
    return wrapper;
  });

  const element = h('article', { class: 'writing entry-form', 'aria-label': `${definition.label} entry` },
    h('p', { class: 'muted entry-kind' }, definition.label), ...parts);
  return {
    element,
    editors,
    fields,
    destroy() { for (const e of editors.values()) e.destroy(); },
  };
}

/** The documents of `collection` as the options of a reference field's select. */
async function choices(select: HTMLSelectElement, collection: string) {
  try {
    const { documents } = await ok(client.GET('/api/docs', { params: { query: { collection } } }));
    const chosen = select.value;
    const known = new Set(documents.map((d) => d.id));
    const kept = chosen && !known.has(chosen) ? [new Option(chosen, chosen)] : [];
    select.replaceChildren(new Option('—', ''), ...kept,
      ...documents.map((d) => new Option(d.title ? `${d.title} (${d.id})` : d.id, d.id)));
    select.value = chosen;
  } catch {
    // Without the list (offline, a token for one document) the field still shows its value.
  }
}
