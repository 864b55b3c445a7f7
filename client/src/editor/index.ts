// The editor of one document (#/doc/{id}): the writing area, presence and the connection state
// on top, and the panels beside it. Each part is its own module; this one only assembles them.
//
//   connection.ts   socket, token renewal, connection state
//   presence.ts     who is here
//   writing.ts      a post: title and rich-text body
//   richtext.ts     TipTap over a Y.XmlFragment, its toolbar, carets
//   form/           an entry of any other collection: the form generated from its definition
//   bindings.ts     inputs bound to Y.Text / Y.Map
//   notice.ts       the message line every part reports through
//   panels/         post (slug, excerpt, tags), publishing, preview, schedule, history
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import type { Editor } from '@tiptap/core';
import { client, shaped, ApiError, type CollectionDef, type Draft } from '../api';
import { h } from '../dom';
import type { User } from '../identity';
import { atLeast, type Session } from '../session';
import { connect } from './connection';
import type { DocContext } from './context';
import { notice } from './notice';
import { presence } from './presence';
import { writing } from './writing';
import { postPanel } from './panels/post';
import { publishingPanel } from './panels/publishing';
import { previewPanel } from './panels/preview';
import { schedulePanel } from './panels/schedule';
import { historyPanel } from './panels/history';
import { entryForm } from './form';
import { fieldPresence } from './form/presence';
import { liveProblems } from './form/problems';

/** The built-in collection: a title, a body and the Post panel. */
const POSTS = 'posts';

declare global {
  interface Window {
    /** The open document, for the browser tests and the console. */
    folio?: { ydoc: Y.Doc; provider: WebsocketProvider; editor: Editor | null; editors: Map<string, Editor> };
  }
}

/** The document's collection ('posts' for one never written: a post is the default). */
async function collectionOf(id: string): Promise<CollectionDef> {
  let name = POSTS;
  try {
    name = (await shaped<Draft>(client.GET('/api/docs/{doc}', { params: { path: { doc: id } } }))).collection;
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 'document_not_found')) throw e;
  }
  return shaped<CollectionDef>(client.GET('/api/collections/{name}', { params: { path: { name } } }));
}

/** Shows the editor of document `id` in `app`; returns what closes it. */
export function showEditor(app: HTMLElement, id: string, user: User, session: Session): () => void {
  const ctx: DocContext = {
    id,
    canEdit: atLeast(session, 'writer'),
    canPublish: atLeast(session, 'editor'),
    notice: notice(),
  };
  const ydoc = new Y.Doc();
  const connection = connect(id, ydoc, ctx.notice);
  const { provider } = connection;
  provider.awareness.setLocalStateField('user', user);
  window.folio = { ydoc, provider, editor: null, editors: new Map() };
  if (!ctx.canEdit) ctx.notice.info('Read-only: you can watch this draft live, but not change it.');

  const columns = h('div', { class: 'columns' }, h('p', { class: 'muted' }, 'Opening…'));
  app.append(h('section', { class: 'editor' },
    h('div', { class: 'row top' }, h('a', { href: '#/' }, '← Documents'), connection.status, presence(provider.awareness)),
    ctx.notice.element,
    columns,
  ));

  const cleanups: (() => void)[] = [];
  let closed = false;
  void collectionOf(id).then((definition) => {
    if (closed) return;
    const post = definition.name === POSTS;
    let area: HTMLElement;
    if (post) {
      const { element, editor } = writing(ydoc, provider, user, ctx.canEdit);
      area = element;
      cleanups.push(() => editor.destroy());
      if (window.folio) window.folio.editor = editor;
    } else {
      const form = entryForm(definition, ydoc, provider, user, ctx.canEdit);
      const problems = liveProblems(id, ydoc, form.fields);
      form.element.insertBefore(problems.summary, form.element.children[1] ?? null);
      area = form.element;
      cleanups.push(form.destroy, problems.stop, fieldPresence(provider.awareness, form.fields));
      if (window.folio) {
        window.folio.editors = form.editors;
        window.folio.editor = form.editors.values().next().value ?? null;
      }
    }
    const history = historyPanel(ctx);
    const reader = (slug: string) => (post ? `/p/${slug}` : `/api/content/${definition.name}/${slug}`);
    const publishing = ctx.canPublish ? publishingPanel(ctx, () => void history.load(), reader) : null;
    const schedule = ctx.canPublish ? schedulePanel(ctx) : null;
    columns.replaceChildren(area, h('aside', { class: 'panels' },
      postPanel(ydoc.getMap('meta'), ctx.canEdit, post),
      publishing?.element,
      ctx.canEdit ? previewPanel(ctx) : null,
      schedule?.element,
      history.element,
    ));
    void schedule?.load();
    void publishing?.loadPending();
    void history.load();
  }, (e: unknown) => ctx.notice.fail(e));

  return () => {
    closed = true;
    cleanups.forEach((clean) => clean());
    connection.stop();
    ydoc.destroy();
    if (window.folio?.ydoc === ydoc) delete window.folio;
  };
}
