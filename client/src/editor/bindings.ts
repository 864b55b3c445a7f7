// Form fields bound live to the shared document: every keystroke becomes the smallest CRDT edit,
// and every remote change is shown without moving the author's caret.
import type * as Y from 'yjs';

/** Keeps an <input>/<textarea> and a Y.Text equal, editing only the changed span. */
export function bindText(input: HTMLInputElement | HTMLTextAreaElement, text: Y.Text) {
  const render = () => {
    const value = text.toString();
    if (input.value === value) return;
    const focused = document.activeElement === input;
    const [s, e] = [input.selectionStart, input.selectionEnd];
    input.value = value;
    if (focused && s !== null && e !== null) input.setSelectionRange(Math.min(s, value.length), Math.min(e, value.length));
  };
  text.observe(render);
  render();
  input.addEventListener('input', () => {
    const old = text.toString();
    const now = input.value;
    let start = 0;
    while (start < old.length && start < now.length && old[start] === now[start]) start++;
    let endOld = old.length;
    let endNew = now.length;
    while (endOld > start && endNew > start && old[endOld - 1] === now[endNew - 1]) { endOld--; endNew--; }
    const change = () => {
      if (endOld > start) text.delete(start, endOld - start);
      if (endNew > start) text.insert(start, now.slice(start, endNew));
    };
    // One transaction, so a replaced selection is one update; a Y.Text is always in a doc here.
    if (text.doc) text.doc.transact(change);
    else change();
  });
}

/** Keeps an input and a string (or, with `list`, a comma-separated tag list) in a Y.Map equal. */
export function bindMeta(input: HTMLInputElement | HTMLTextAreaElement, meta: Y.Map<unknown>, key: string, list = false) {
  const render = () => {
    const v = meta.get(key);
    const value = list ? (Array.isArray(v) ? v.join(', ') : '') : (typeof v === 'string' ? v : '');
    if (document.activeElement !== input && input.value !== value) input.value = value;
  };
  meta.observe(render);
  render();
  input.addEventListener('input', () => {
    const value = list
      ? input.value.split(',').map((t) => t.trim()).filter(Boolean)
      : input.value;
    meta.set(key, value);
  });
}

/** What `bindValue` needs of a field's converter (see form/codec.ts). */
export interface ValueCodec { show(value: unknown): string; read(text: string): unknown }

/**
 * Keeps an input (text, number, date, select, checkbox) and the key `key` of a Y.Map equal,
 * through `codec`; an empty input removes the key. A remote change does not overwrite what the
 * author is typing: it shows when the input loses focus (a checkbox or select shows it at once).
 */
export function bindValue(input: HTMLInputElement | HTMLSelectElement, map: Y.Map<unknown>, key: string, codec: ValueCodec) {
  const checkbox = input instanceof HTMLInputElement && input.type === 'checkbox';
  const typing = () => document.activeElement === input && !checkbox && !(input instanceof HTMLSelectElement);
  const render = () => {
    if (typing()) return;
    if (checkbox) input.checked = map.get(key) === true;
    else {
      const value = codec.show(map.get(key));
      if (input instanceof HTMLSelectElement && value && ![...input.options].some((o) => o.value === value)) {
        input.append(new Option(value, value)); // a value the list does not have yet (a new reference)
      }
      if (input.value !== value) input.value = value;
    }
  };
  map.observe((event) => { if (event.keysChanged.has(key)) render(); });
  render();
  input.addEventListener('blur', render);
  input.addEventListener(checkbox || input instanceof HTMLSelectElement ? 'change' : 'input', () => {
    const value = checkbox ? (input as HTMLInputElement).checked : codec.read(input.value);
    if (value === undefined) map.delete(key);
    else if (JSON.stringify(value) !== JSON.stringify(map.get(key))) map.set(key, value);
  });
}
