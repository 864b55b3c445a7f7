// The writing area of a post: the title (a Y.Text) and the rich-text body (the Y.XmlFragment
// `body`, with its toolbar and other authors' carets).
import type * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import type { Editor } from '@tiptap/core';
import { h } from '../dom';
import type { User } from '../identity';
import { bindText } from './bindings';
import { richText } from './richtext';

export interface Writing {
  element: HTMLElement;
  editor: Editor;
}

export function writing(ydoc: Y.Doc, provider: WebsocketProvider, user: User, canEdit: boolean): Writing {
  const title = h('input', { class: 'title', 'aria-label': 'Title', placeholder: 'Title' });
  bindText(title, ydoc.getText('title'));
  title.readOnly = !canEdit;
  const body = richText(ydoc, provider, user, 'body', 'Body', canEdit);
  return { element: h('article', { class: 'writing' }, title, h('div', { class: 'body' }, body.element)), editor: body.editor };
}
