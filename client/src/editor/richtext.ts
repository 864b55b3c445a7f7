// A rich-text field: TipTap bound to a root Y.XmlFragment (Collaboration `field`), other authors'
// carets drawn by Folio's sanitizing renderer, and a formatting toolbar.
//
// The toolbar is one tab stop (WAI-ARIA toolbar pattern): Tab moves from the toolbar into the
// text, the arrow keys move between its buttons. Each button says whether its format is on
// (`aria-pressed`), updated as the selection moves.
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

export interface RichText {
  element: HTMLElement;
  editor: Editor;
}

interface Tool {
  label: string;
  text: string;
  /** Whether the format is on at the selection (a button without one is an action). */
  active?: (e: Editor) => boolean;
  run: (e: Editor) => void;
}

/** Only links and images a reader's page may carry: http(s) or a path on the same site. */
export function safeUrl(url: string): boolean {
  return /^(https?:\/\/|\/(?!\/))/i.test(url.trim());
}

const ask = (question: string, initial = ''): string | null => {
  const answer = window.prompt(question, initial);
  return answer === null ? null : answer.trim();
};

const TOOLS: Tool[] = [
  { label: 'Bold', text: 'B', active: (e) => e.isActive('bold'), run: (e) => e.chain().focus().toggleBold().run() },
  { label: 'Italic', text: 'I', active: (e) => e.isActive('italic'), run: (e) => e.chain().focus().toggleItalic().run() },
  { label: 'Heading', text: 'H2', active: (e) => e.isActive('heading', { level: 2 }), run: (e) => e.chain().focus().toggleHeading({ level: 2 }).run() },
  { label: 'Subheading', text: 'H3', active: (e) => e.isActive('heading', { level: 3 }), run: (e) => e.chain().focus().toggleHeading({ level: 3 }).run() },
  { label: 'Bulleted list', text: '•', active: (e) => e.isActive('bulletList'), run: (e) => e.chain().focus().toggleBulletList().run() },
  { label: 'Numbered list', text: '1.', active: (e) => e.isActive('orderedList'), run: (e) => e.chain().focus().toggleOrderedList().run() },
  { label: 'Quote', text: '“', active: (e) => e.isActive('blockquote'), run: (e) => e.chain().focus().toggleBlockquote().run() },
  { label: 'Code', text: '</>', active: (e) => e.isActive('code'), run: (e) => e.chain().focus().toggleCode().run() },
  {
    label: 'Link', text: 'Link', active: (e) => e.isActive('link'),
    run: (e) => {
      const href = ask('Link to (https://… or /path; empty removes the link)', String(e.getAttributes('link')['href'] ?? ''));
      if (href === null) return;
      if (!href) e.chain().focus().extendMarkRange('link').unsetLink().run();
      else if (safeUrl(href)) e.chain().focus().extendMarkRange('link').setLink({ href }).run();
      else window.alert('Links must start with http://, https:// or /.');
    },
  },
  {
    label: 'Image by URL', text: 'Image',
    run: (e) => {
      const src = ask('Image address (https://… or /path)');
      if (!src) return;
      if (!safeUrl(src)) return window.alert('Images must start with http://, https:// or /.');
      const alt = ask('Describe the image for people who cannot see it') ?? '';
      e.chain().focus().setImage({ src, alt }).run();
    },
  },
];

/** A rich-text field over the root Y.XmlFragment `field`; `label` names it for screen readers. */
export function richText(
  ydoc: Y.Doc, provider: WebsocketProvider, user: User, field: string, label: string, canEdit: boolean,
): RichText {
  const area = h('div', { class: 'rich' });
  const editor = new Editor({
    element: area,
    extensions: [
      StarterKit.configure({ undoRedo: false, link: { openOnClick: false } }),
      Image,
      Collaboration.configure({ document: ydoc, field }),
      CollaborationCaret.configure({ provider, user, render: renderCaret, selectionRender: renderSelection }),
    ],
    editorProps: { attributes: { 'aria-label': label, role: 'textbox', 'aria-multiline': 'true' } },
  });
  if (!canEdit) {
    editor.setEditable(false);
    return { element: h('div', { class: 'richtext' }, area), editor };
  }

  const buttons = TOOLS.map((tool, i) => h('button', {
    type: 'button', class: 'tool', title: tool.label, 'aria-label': tool.label, tabindex: i === 0 ? 0 : -1,
    'aria-pressed': tool.active ? 'false' : null,
    // Keep the selection in the text: a click must not move focus out of the editor first.
    onmousedown: (ev: MouseEvent) => ev.preventDefault(),
    onclick: () => tool.run(editor),
  }, tool.text));
  const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': `${label} formatting` }, ...buttons);
  toolbar.addEventListener('keydown', (ev) => {
    const at = buttons.indexOf(ev.target as HTMLButtonElement);
    const step = ev.key === 'ArrowRight' ? 1 : ev.key === 'ArrowLeft' ? -1 : 0;
    if (at < 0 || !step) return;
    ev.preventDefault();
    const next = buttons[(at + step + buttons.length) % buttons.length];
    buttons.forEach((b) => { b.tabIndex = b === next ? 0 : -1; });
    next?.focus();
  });
  const refresh = () => TOOLS.forEach((tool, i) => {
    if (tool.active) buttons[i]?.setAttribute('aria-pressed', String(tool.active(editor)));
  });
  editor.on('selectionUpdate', refresh);
  editor.on('transaction', refresh);
  return { element: h('div', { class: 'richtext' }, toolbar, area), editor };
}
