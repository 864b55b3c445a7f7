// A rich-text field: TipTap bound to a root Y.XmlFragment (Collaboration `field`), other authors'
// carets drawn by Folio's sanitizing renderer, and a formatting toolbar.
//
// The toolbar is one tab stop (WAI-ARIA toolbar pattern): Tab moves from the toolbar into the
// text, the arrow keys move between its buttons. Each button says whether its format is on
// (`aria-pressed`), updated as the selection moves.
//
// Images are uploaded by the toolbar's Upload button, by pasting and by dropping files into the
// text; each is inserted (as `/media/{id}`) once the server has stored it, with a progress bar
// and the server's reason when it refuses one.
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
import { filePicker, uploadStatus } from './media';

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
  const status = uploadStatus();
  /** Uploads `files` one by one and inserts each at `at` (a drop point) or the selection. */
  const insertFiles = async (files: File[], at?: number) => {
    for (const file of files) {
      const item = await status.run(file);
      if (!item) continue;
      const pos = Math.min(at ?? editor.state.selection.to, editor.state.doc.content.size);
      const node = item.type.startsWith('image/')
        ? { type: 'image', attrs: { src: item.url, alt: item.alt } }
        : { type: 'text', text: item.filename || 'document.pdf', marks: [{ type: 'link', attrs: { href: item.url } }] };
      editor.chain().focus().insertContentAt(pos, node).run();
      at = undefined;
    }
  };
  const files = (list: FileList | null | undefined) => [...(list ?? [])];
  const editor = new Editor({
    element: area,
    extensions: [
      StarterKit.configure({ undoRedo: false, link: { openOnClick: false } }),
      Image,
      Collaboration.configure({ document: ydoc, field }),
      CollaborationCaret.configure({ provider, user, render: renderCaret, selectionRender: renderSelection }),
    ],
    editorProps: {
      attributes: { 'aria-label': label, role: 'textbox', 'aria-multiline': 'true' },
      handlePaste: (_view, event) => {
        const pasted = files(event.clipboardData?.files);
        if (!pasted.length || !canEdit) return false;
        void insertFiles(pasted);
        return true;
      },
      handleDrop: (view, event, _slice, moved) => {
        const dropped = files(event.dataTransfer?.files);
        if (moved || !dropped.length || !canEdit) return false;
        event.preventDefault();
        void insertFiles(dropped, view.posAtCoords({ left: event.clientX, top: event.clientY })?.pos);
        return true;
      },
    },
  });
  if (!canEdit) {
    editor.setEditable(false);
    return { element: h('div', { class: 'richtext' }, area), editor };
  }

  const picker = filePicker((chosen) => void insertFiles(chosen));
  const tools: Tool[] = [...TOOLS, { label: 'Upload image', text: 'Upload', run: () => picker.click() }];
  const buttons = tools.map((tool, i) => h('button', {
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
  const refresh = () => tools.forEach((tool, i) => {
    if (tool.active) buttons[i]?.setAttribute('aria-pressed', String(tool.active(editor)));
  });
  editor.on('selectionUpdate', refresh);
  editor.on('transaction', refresh);
  return { element: h('div', { class: 'richtext' }, toolbar, area, status.element, picker), editor };
}
