// Media in the editor: uploads with progress and clear refusals, and the library browser.
//
// An upload is an HTTP request of its own (POST /api/media), independent of the document's
// socket: an image is inserted into the Y.Doc only once the server has stored it, and Yjs
// sends that edit whenever the socket is (again) connected. An upload cut by the network is
// tried again (3 attempts); the server dedups by content, so a repeat costs nothing.
import { ApiError, client, ok, type MediaItem } from '../api';
import { h } from '../dom';

export type { MediaItem };

/** What the server accepts (it sniffs the bytes too; SVG is refused there as here). */
export const ACCEPTED = ['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif', 'application/pdf'];
export const MAX_BYTES = 25_000_000;

/** Refuses what the server would refuse, before sending a byte. */
export function precheck(file: File): string | null {
  if (file.type === 'image/svg+xml') return `${file.name}: SVG is not accepted (it can carry script).`;
  if (!ACCEPTED.includes(file.type)) return `${file.name}: only JPEG, PNG, GIF, WebP, AVIF and PDF files can be uploaded.`;
  if (file.size > MAX_BYTES) return `${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the limit is 25 MB.`;
  return null;
}

function send(file: File, onProgress: (fraction: number) => void): Promise<MediaItem> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/media?filename=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader('content-type', file.type);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new ApiError(0, 'offline', 'The upload was cut off: check your connection.'));
    xhr.onload = () => {
      let body: { error?: { code?: string; message?: string } } & Partial<MediaItem> = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON: said below */ }
      if (xhr.status === 200 || xhr.status === 201) return resolve(body as MediaItem);
      reject(new ApiError(xhr.status, body.error?.code ?? 'error',
        `${file.name}: ${body.error?.message ?? `the upload failed (${xhr.status})`}`));
    };
    xhr.send(file);
  });
}

/** Uploads `file`, retrying a cut connection or a 5xx (refusals are final). */
export async function upload(file: File, onProgress: (fraction: number) => void): Promise<MediaItem> {
  const refused = precheck(file);
  if (refused) throw new ApiError(415, 'refused', refused);
  for (let attempt = 1; ; attempt++) {
    try {
      return await send(file, onProgress);
    } catch (e) {
      const retry = e instanceof ApiError && (e.status === 0 || e.status >= 500);
      if (!retry || attempt >= 3) throw e;
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}

/** A progress line for uploads: `<progress>` and what is happening, or what went wrong. */
export function uploadStatus(): {
  element: HTMLElement; run(file: File): Promise<MediaItem | null>;
} {
  const bar = h('progress', { max: 1, value: 0, hidden: true });
  const text = h('span', { class: 'upload-text' });
  const element = h('div', { class: 'upload', role: 'status', 'aria-live': 'polite' }, bar, text);
  return {
    element,
    async run(file) {
      bar.hidden = false;
      bar.value = 0;
      element.classList.remove('error');
      text.textContent = `Uploading ${file.name}…`;
      try {
        const item = await upload(file, (f) => { bar.value = f; });
        bar.hidden = true;
        text.textContent = `Uploaded ${file.name}.`;
        return item;
      } catch (e) {
        bar.hidden = true;
        element.classList.add('error');
        text.textContent = e instanceof Error ? e.message : String(e);
        return null;
      }
    },
  };
}

/** A file input for the accepted types (hidden; `.click()` opens the chooser). */
export function filePicker(onFiles: (files: File[]) => void): HTMLInputElement {
  const input = h('input', { type: 'file', accept: ACCEPTED.join(','), multiple: true, hidden: true });
  input.addEventListener('change', () => { onFiles([...(input.files ?? [])]); input.value = ''; });
  return input;
}

/** The library in a dialog: thumbnails newest first, more on demand, an upload button.
 * Resolves with the chosen file, or null when closed. */
export function chooseFromLibrary(): Promise<MediaItem | null> {
  return new Promise((resolve) => {
    const grid = h('div', { class: 'library-grid', role: 'listbox', 'aria-label': 'Media library' });
    const status = uploadStatus();
    let cursor: string | null = null;
    const dialog = h('dialog', { class: 'library', 'aria-label': 'Choose an image' });
    const done = (item: MediaItem | null) => { dialog.close(); dialog.remove(); resolve(item); };
    const tile = (m: MediaItem) => h('button', {
      type: 'button', class: 'library-item', role: 'option', title: m.filename || m.id,
      'data-media-id': m.id, onclick: () => done(m),
    }, m.type.startsWith('image/')
      ? h('img', { src: `${m.url}${m.width && m.width > 320 ? '?w=320' : ''}`, alt: m.alt || m.filename || 'an image', loading: 'lazy' })
      : h('span', {}, m.filename || 'PDF'));
    const more = h('button', { type: 'button', hidden: true, onclick: () => void load() }, 'More');
    const load = async () => {
      try {
        const page = await ok(client.GET('/api/media', { params: { query: { limit: 30, ...(cursor ? { cursor } : {}) } } }));
        grid.append(...page.media.map(tile));
        if (!grid.children.length) grid.append(h('p', { class: 'muted' }, 'No media yet: upload the first.'));
        cursor = page.next_cursor;
        more.hidden = !cursor;
      } catch (e) {
        grid.append(h('p', { class: 'message error' }, e instanceof Error ? e.message : String(e)));
      }
    };
    const picker = filePicker(async (files) => {
      const file = files[0];
      if (!file) return;
      const item = await status.run(file);
      if (item) done(item);
    });
    dialog.append(
      h('h2', {}, 'Media library'), grid, more, status.element, picker,
      h('div', { class: 'library-actions' },
        h('button', { type: 'button', onclick: () => picker.click() }, 'Upload…'),
        h('button', { type: 'button', onclick: () => done(null) }, 'Cancel')));
    dialog.addEventListener('cancel', () => done(null));
    document.body.append(dialog);
    dialog.showModal();
    void load();
  });
}
