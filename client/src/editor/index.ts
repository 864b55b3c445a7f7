// The editor of one document (#/doc/{id}): the writing area, presence and the connection state
// on top, and the panels beside it. Each part is its own module; this one only assembles them.
//
//   connection.ts   socket, token renewal, connection state
//   presence.ts     who is here
//   writing.ts      title and rich-text body (TipTap), carets
//   bindings.ts     inputs bound to Y.Text / Y.Map
//   notice.ts       the message line every part reports through
//   panels/         post (slug, excerpt, tags), publishing, preview, schedule, history
import * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import type { Editor } from '@tiptap/core';
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

declare global {
  interface Window {
    /** The open document, for the browser tests and the console. */
    folio?: { ydoc: Y.Doc; provider: WebsocketProvider; editor: Editor };
  }
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

  const people = presence(provider.awareness);
  const { element: writingArea, editor } = writing(ydoc, provider, user, ctx.canEdit);
  window.folio = { ydoc, provider, editor };
  if (!ctx.canEdit) ctx.notice.info('Read-only: you can watch this draft live, but not change it.');

  const history = historyPanel(ctx);
  const publishing = ctx.canPublish ? publishingPanel(ctx, () => void history.load()) : null;
  const schedule = ctx.canPublish ? schedulePanel(ctx) : null;

  app.append(h('section', { class: 'editor' },
    h('div', { class: 'row top' }, h('a', { href: '#/' }, '← Documents'), connection.status, people),
    ctx.notice.element,
    h('div', { class: 'columns' },
      writingArea,
      h('aside', { class: 'panels' },
        postPanel(ydoc.getMap('meta'), ctx.canEdit),
        publishing?.element,
        ctx.canEdit ? previewPanel(ctx) : null,
        schedule?.element,
        history.element,
      ),
    ),
  ));
  void schedule?.load();
  void publishing?.loadPending();
  void history.load();

  return () => {
    editor.destroy();
    connection.stop();
    ydoc.destroy();
    if (window.folio?.ydoc === ydoc) delete window.folio;
  };
}
