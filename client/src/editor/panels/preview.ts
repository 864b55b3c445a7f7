// The "Preview" panel: a link to the draft rendered, for someone without an account (it expires
// in an hour).
import { client, ok } from '../../api';
import { h, when } from '../../dom';
import type { DocContext } from '../context';

export function previewPanel({ id, notice }: DocContext): HTMLElement {
  const link = h('a', { id: 'preview-link', class: 'preview-link', target: '_blank', rel: 'noopener noreferrer' });
  const share = async () => {
    try {
      const p = await ok(client.POST('/api/docs/{doc}/preview', { params: { path: { doc: id } } }));
      link.href = p.url;
      link.textContent = `Preview (until ${when(p.expires_at)})`;
    } catch (e) { notice.fail(e); }
  };
  return h('section', { 'aria-labelledby': 'preview-h' }, h('h2', { id: 'preview-h' }, 'Preview'),
    h('button', { id: 'preview', onclick: share }, 'Share a preview link'), link);
}
