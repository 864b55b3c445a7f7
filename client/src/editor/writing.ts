// The writing area: the title (a Y.Text) and the rich-text body (TipTap over the Y.XmlFragment
// `body`), with other authors' carets drawn by Folio's sanitizing renderer.
import type * as Y from 'yjs';
import type { WebsocketProvider } from 'y-websocket';
import { Editor } from '@tiptap/core';
import StarterKit from '@tiptap/starter-kit';
import Image from '@tiptap/extension-image';
import Collaboration from '@tiptap/extension-collaboration';
import CollaborationCaret from '@tiptap/extension-collaboration-caret';
import { h } from '../dom';
import type { User } from '../identity';
import { renderCaret, renderSelection } from '../carets';
import { bindText } from './bindings';

export interface Writing {
  element: HTMLElement;
  editor: Editor;
}

export function writing(ydoc: Y.Doc, provider: WebsocketProvider, user: User, canEdit: boolean): Writing {
  const title = h('input', { class: 'title', 'aria-label': 'Title', placeholder: 'Title' });
  bindText(title, ydoc.getText('title'));
  const body = h('div', { class: 'body', 'aria-label': 'Body' });
  const editor = new Editor({
    element: body,
    extensions: [
      StarterKit.configure({ undoRedo: false, link: { openOnClick: false } }),
      Image,
      Collaboration.configure({ document: ydoc, field: 'body' }),
      CollaborationCaret.configure({ provider, user, render: renderCaret, selectionRender: renderSelection }),
    ],
    editorProps: { attributes: { 'aria-label': 'Body', role: 'textbox', 'aria-multiline': 'true' } },
  });
  if (!canEdit) {
    editor.setEditable(false);
    title.readOnly = true;
  }
  return { element: h('article', { class: 'writing' }, title, body), editor };
}
