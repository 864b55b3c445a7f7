// The editor of one document: title, rich-text body (TipTap over the stock y-websocket
// provider), slug/excerpt/tags, presence, and the publishing panels.
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { Editor } from '@tiptap/core';
import StarterKit from '@tiptap/starter-kit';
import Image from '@tiptap/extension-image';
import Collaboration from '@tiptap/extension-collaboration';
import CollaborationCaret from '@tiptap/extension-collaboration-caret';
import { renderCaret, renderSelection, safeColor, safeName } from './carets';
import { api, ApiError, Entry, Pending, Published, Version } from './api';
import { h, when } from './dom';
import type { User } from './identity';
import { atLeast, Session, socketToken } from './session';

/** Keeps an <input>/<textarea> and a Y.Text equal, editing only the changed span. */
function bindText(input: HTMLInputElement | HTMLTextAreaElement, text: Y.Text) {
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
    text.doc!.transact(() => {
      if (endOld > start) text.delete(start, endOld - start);
      if (endNew > start) text.insert(start, now.slice(start, endNew));
    });
  });
}

/** Keeps an input and a string (or tag list) in the meta map equal. */
function bindMeta(input: HTMLInputElement | HTMLTextAreaElement, meta: Y.Map<any>, key: string, list = false) {
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

export function showEditor(app: HTMLElement, id: string, user: User, session: Session): () => void {
  const ydoc = new Y.Doc();
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/sync`;
  // The socket needs a short-lived token: fetched before connecting, and renewed well before
  // it expires. The server closes a socket whose token ran out (4001); y-websocket then
  // reconnects with the renewed token in `params` (its URL is read at each connect).
  const provider = new WebsocketProvider(url, id, ydoc, { disableBc: true, connect: false, params: {} });
  provider.awareness.setLocalStateField('user', user);
  const canEdit = atLeast(session, 'writer');
  const canPublish = atLeast(session, 'editor');

  const message = h('p', { class: 'message', role: 'alert', 'aria-live': 'assertive' });
  const info = (text: string) => { message.className = 'message'; message.textContent = text; };
  const fail = (e: unknown) => { message.className = 'message error'; message.textContent = (e as Error).message; };

  let renewal = 0;
  let stopped = false;
  const renew = async () => {
    try {
      const t = await socketToken(id);
      provider.params = { token: t.token };
      if (!provider.shouldConnect) provider.connect();
      const left = Date.parse(t.expires_at) - Date.now();
      if (!stopped) renewal = window.setTimeout(renew, Math.max(5_000, left * 0.6));
    } catch (e) {
      fail(e);
      if (!stopped) renewal = window.setTimeout(renew, 10_000);
    }
  };
  renew();

  // Connection state: connected / reconnecting / offline, always visible.
  const status = h('span', { class: 'conn', role: 'status', 'aria-live': 'polite' });
  const showStatus = (s: string) => {
    const state = !navigator.onLine ? 'offline' : s === 'connected' ? 'connected' : 'reconnecting';
    status.textContent = state;
    status.dataset.state = state;
  };
  provider.on('status', ({ status: s }: { status: string }) => showStatus(s));
  // A final refusal (close 4400-4499: the document is full, or this browser's changes cannot be
  // accepted): y-websocket stops reconnecting; say why instead of spinning.
  provider.on('closed', ({ reason }: { code: number, reason: string }) => {
    status.textContent = 'stopped';
    status.dataset.state = 'stopped';
    fail(new Error(`The server refused this editor's changes: ${reason}`));
  });
  const onNet = () => showStatus(provider.wsconnected ? 'connected' : 'disconnected');
  window.addEventListener('online', onNet);
  window.addEventListener('offline', onNet);
  showStatus('connecting');

  // Who is here.
  const people = h('ul', { class: 'people', 'aria-label': 'Who is here' });
  const renderPeople = () => {
    const states = [...provider.awareness.getStates().entries()]
      .filter(([, s]) => s.user?.name)
      .sort(([a], [b]) => a - b);
    people.replaceChildren(...states.map(([client, s]) => h('li', {
      style: `--user-color: ${safeColor(s.user.color)}`,
      title: client === ydoc.clientID ? 'you' : '',
    }, `${safeName(s.user.name)}${client === ydoc.clientID ? ' (you)' : ''}`)));
  };
  provider.awareness.on('change', renderPeople);
  renderPeople();

  // Title, body, meta.
  const title = h('input', { class: 'title', 'aria-label': 'Title', placeholder: 'Title' });
  bindText(title, ydoc.getText('title'));
  const bodyEl = h('div', { class: 'body', 'aria-label': 'Body' });
  const editor = new Editor({
    element: bodyEl,
    extensions: [
      StarterKit.configure({ undoRedo: false, link: { openOnClick: false } }),
      Image,
      Collaboration.configure({ document: ydoc, field: 'body' }),
      CollaborationCaret.configure({ provider, user, render: renderCaret, selectionRender: renderSelection }),
    ],
    editorProps: { attributes: { 'aria-label': 'Body', role: 'textbox', 'aria-multiline': 'true' } },
  });
  (window as any).folio = { ydoc, provider, editor }; // for the browser tests and the console
  if (!canEdit) {
    editor.setEditable(false);
    title.readOnly = true;
    info('Read-only: you can watch this draft live, but not change it.');
  }
  const meta = ydoc.getMap('meta');
  const slug = h('input', { id: 'slug', placeholder: 'from the title' });
  const excerpt = h('textarea', { id: 'excerpt', rows: 2 });
  const tags = h('input', { id: 'tags', placeholder: 'news, rust' });
  bindMeta(slug, meta, 'slug');
  bindMeta(excerpt, meta, 'excerpt');
  bindMeta(tags, meta, 'tags', true);
  for (const input of [slug, excerpt, tags]) input.readOnly = !canEdit;

  // Publishing.
  const pubState = h('p', { class: 'muted', 'aria-live': 'polite' });
  const link = h('a', { class: 'public-link', target: '_blank', rel: 'noopener' });
  const showPublished = (p: Published) => {
    pubState.textContent = `${p.status === 'published' ? 'Published' : 'Unpublished'} · version ${p.version} · ${when(p.published_at)}`;
    link.textContent = p.status === 'published' ? `/p/${p.slug}` : '';
    link.setAttribute('href', `/p/${p.slug}`);
  };
  // A publish or unpublish that failed, or is being retried: its reason, Retry and Cancel.
  const pending = h('div', { class: 'pending', id: 'pending', role: 'alert' });
  const loadPending = async () => {
    try {
      const { pending: p } = await api<{ pending: Pending | null }>(`/api/docs/${id}/publishing`);
      if (!p) return pending.replaceChildren();
      const what = `${p.action === 'publish' ? 'Publishing' : 'Unpublishing'}${p.scheduled_entry ? ' (scheduled)' : ''}`;
      const state = p.state === 'failed'
        ? `${what} failed: ${p.message}`
        : `${what} is not confirmed yet (attempt ${p.attempts}); retried automatically ${p.next_attempt_at ? when(p.next_attempt_at) : 'soon'}: ${p.message}`;
      pending.replaceChildren(h('p', {}, state), h('div', { class: 'row' },
        h('button', { id: 'pending-retry', onclick: async () => {
          try {
            showPublished(await api<Published>(`/api/docs/${id}/publishing/retry`, { method: 'POST' }));
            info('Done.');
            loadVersions();
          } catch (e) { fail(e); }
          loadPending();
        } }, 'Retry now'),
        p.state !== 'failed' ? null : h('button', { id: 'pending-cancel', onclick: async () => {
          try { await api(`/api/docs/${id}/publishing`, { method: 'DELETE' }); info('Cancelled.'); } catch (e) { fail(e); }
          loadPending();
        } }, 'Cancel')));
    } catch (e) { fail(e); }
  };
  const publish = async () => {
    try {
      const p = await api<Published>(`/api/docs/${id}/publish`, { method: 'POST' });
      showPublished(p);
      info(p.created ? `Published version ${p.version}.` : `Nothing changed since version ${p.version}.`);
      loadVersions();
    } catch (e) { fail(e); }
    loadPending();
  };
  const unpublish = async () => {
    try {
      showPublished(await api<Published>(`/api/docs/${id}/unpublish`, { method: 'POST' }));
      info('Unpublished: readers no longer see this post.');
    } catch (e) { fail(e); }
    loadPending();
  };

  // Schedule.
  const when_ = h('input', { type: 'datetime-local', id: 'schedule-at', step: 1 });
  const action = h('select', { id: 'schedule-action' }, h('option', { value: 'publish' }, 'Publish'), h('option', { value: 'unpublish' }, 'Unpublish'));
  const entries = h('ul', { class: 'entries', 'aria-label': 'Scheduled' });
  const loadSchedule = async () => {
    try {
      const { entries: list } = await api<{ entries: Entry[] }>(`/api/docs/${id}/schedule`);
      entries.replaceChildren(...list.map((e) => h('li', {},
        `${e.action} at ${when(e.at)} `,
        h('button', { onclick: async () => {
          try { await api(`/api/docs/${id}/schedule/${e.id}`, { method: 'DELETE' }); loadSchedule(); } catch (err) { fail(err); }
        } }, 'Cancel'))));
    } catch (e) { fail(e); }
  };
  const schedule = async () => {
    if (!when_.value) return fail(new ApiError(400, 'at', 'Pick a date and time first.'));
    try {
      const at = new Date(when_.value).toISOString();
      await api(`/api/docs/${id}/schedule`, { method: 'POST', body: JSON.stringify({ action: action.value, at }) });
      info(`Scheduled: ${action.value} at ${when(at)}.`);
      loadSchedule();
    } catch (e) { fail(e); }
  };

  // A preview link: the draft rendered, for someone without an account (expires in an hour).
  const previewLink = h('a', { id: 'preview-link', class: 'preview-link', target: '_blank', rel: 'noopener noreferrer' });
  const makePreview = async () => {
    try {
      const p = await api<{ url: string; expires_at: string }>(`/api/docs/${id}/preview`, { method: 'POST' });
      previewLink.href = p.url;
      previewLink.textContent = `Preview (until ${when(p.expires_at)})`;
    } catch (e) { fail(e); }
  };

  // Version history.
  const versions = h('ul', { class: 'versions', 'aria-label': 'Versions' });
  const loadVersions = async () => {
    try {
      const { versions: list } = await api<{ versions: Version[] }>(`/api/docs/${id}/versions`);
      versions.replaceChildren(...list.map((v) => h('li', {},
        `v${v.version} · ${v.title || 'Untitled'} · ${when(v.published_at)} `,
        !canPublish ? null : h('button', { 'data-version': v.version, onclick: async () => {
          try {
            await api(`/api/docs/${id}/versions/${v.version}/restore`, { method: 'POST' });
            info(`Restored version ${v.version} into the draft.`);
          } catch (e) { fail(e); }
        } }, 'Restore'))));
      if (!list.length) versions.replaceChildren(h('li', { class: 'muted' }, 'Not published yet.'));
    } catch (e) { fail(e); }
  };

  app.append(h('section', { class: 'editor' },
    h('div', { class: 'row top' }, h('a', { href: '#/' }, '← Documents'), status, people),
    message,
    h('div', { class: 'columns' },
      h('article', { class: 'writing' }, title, bodyEl),
      h('aside', { class: 'panels' },
        h('section', { 'aria-labelledby': 'meta-h' }, h('h2', { id: 'meta-h' }, 'Post'),
          h('label', { for: 'slug' }, 'Slug'), slug,
          h('label', { for: 'excerpt' }, 'Excerpt'), excerpt,
          h('label', { for: 'tags' }, 'Tags'), tags),
        !canPublish ? null : h('section', { 'aria-labelledby': 'pub-h' }, h('h2', { id: 'pub-h' }, 'Publishing'),
          h('div', { class: 'row' }, h('button', { class: 'primary', onclick: publish }, 'Publish'), h('button', { onclick: unpublish }, 'Unpublish')),
          pubState, link, pending),
        !canEdit ? null : h('section', { 'aria-labelledby': 'preview-h' }, h('h2', { id: 'preview-h' }, 'Preview'),
          h('button', { id: 'preview', onclick: makePreview }, 'Share a preview link'), previewLink),
        !canPublish ? null : h('section', { 'aria-labelledby': 'sched-h' }, h('h2', { id: 'sched-h' }, 'Schedule'),
          h('label', { for: 'schedule-at' }, 'When'), when_,
          h('label', { for: 'schedule-action' }, 'Action'), action,
          h('button', { onclick: schedule }, 'Schedule'), entries),
        h('section', { 'aria-labelledby': 'hist-h' }, h('h2', { id: 'hist-h' }, 'History'), versions),
      ),
    ),
  ));
  if (canPublish) { loadSchedule(); loadPending(); }
  loadVersions();

  return () => {
    stopped = true;
    clearTimeout(renewal);
    editor.destroy();
    provider.destroy();
    ydoc.destroy();
    window.removeEventListener('online', onNet);
    window.removeEventListener('offline', onNet);
  };
}
