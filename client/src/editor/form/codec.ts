// How a field of the root Y.Map `fields` is shown in an input and written back, per the
// content-type contract (README, "The document contract"). Pure: no DOM, no Yjs, so the unit
// tests (tests/client/) run it in Node as it is.
//
// `show` turns whatever a client stored — any JSON, a wrong type included — into the input's
// text ('' when it is not the field's type: the server's problem message then says what is
// wrong). `read` turns the input's text into the value to store; `undefined` means empty, and
// the key is removed rather than set to an empty string.

export interface Codec {
  show(value: unknown): string;
  read(text: string): unknown;
}

const str = (value: unknown) => (typeof value === 'string' ? value : '');
const blankIsEmpty = (text: string) => (text.trim() ? text.trim() : undefined);

export const number: Codec = {
  show: (v) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : ''),
  read: (t) => {
    if (!t.trim()) return undefined;
    const n = Number(t);
    return Number.isFinite(n) ? n : undefined;
  },
};

/** A date (`YYYY-MM-DD`), as `<input type=date>` gives it. */
export const date: Codec = {
  show: (v) => (/^\d{4}-\d{2}-\d{2}$/.test(str(v)) ? str(v) : ''),
  read: blankIsEmpty,
};

export const select: Codec = { show: str, read: blankIsEmpty };

/** Tags: a comma-separated list in the input, an array of strings in the document. */
export const tags: Codec = {
  show: (v) => (Array.isArray(v) ? v.filter((t) => typeof t === 'string').join(', ') : ''),
  read: (t) => {
    const list = [...new Set(t.split(',').map((s) => s.trim()).filter(Boolean))];
    return list.length ? list : undefined;
  },
};

/** A reference: a document id in the input, `{"id": …}` in the document. */
export const reference: Codec = {
  show: (v) => (v && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'string' ? (v as { id: string }).id : ''),
  read: (t) => (t.trim() ? { id: t.trim() } : undefined),
};

/** `±hh:mm` for a `Date.getTimezoneOffset()` (minutes west of UTC, so its sign is reversed). */
export function offsetText(offsetMinutes: number): string {
  const east = -offsetMinutes;
  const abs = Math.abs(east);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${east < 0 ? '-' : '+'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/**
 * A datetime: `<input type=datetime-local>` (`YYYY-MM-DDTHH:MM[:SS]`, the author's local time)
 * ⇄ RFC 3339 with the author's offset (`2026-11-23T10:00:00+01:00`). `offsetAt(ms)` is
 * `new Date(ms).getTimezoneOffset()` in the browser; the tests pass a fixed zone.
 */
export function datetime(offsetAt: (utcMs: number) => number): Codec {
  return {
    show: (v) => {
      const ms = Date.parse(str(v));
      if (!/^\d{4}-\d{2}-\d{2}T/.test(str(v)) || Number.isNaN(ms)) return '';
      const local = new Date(ms - offsetAt(ms) * 60_000).toISOString();
      return local.slice(0, local.endsWith(':00.000Z') ? 16 : 19);
    },
    read: (t) => {
      const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2})?/.exec(t.trim());
      if (!m) return undefined;
      const local = `${m[1]}${m[2] ?? ':00'}`;
      // The offset in force at that local time (near a DST change, the one an hour either side).
      const guess = Date.parse(`${local}Z`);
      const offset = offsetAt(guess + offsetAt(guess) * 60_000);
      return `${local}${offsetText(offset)}`;
    },
  };
}

/** An image: `{src, alt}` from two inputs; both empty is empty. */
export function image(src: string, alt: string): unknown {
  return src.trim() || alt.trim() ? { src: src.trim(), alt: alt.trim() } : undefined;
}

export function imageParts(v: unknown): { src: string; alt: string } {
  const o = v && typeof v === 'object' ? (v as { src?: unknown; alt?: unknown }) : {};
  return { src: str(o.src), alt: str(o.alt) };
}
