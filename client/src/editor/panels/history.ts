// The "History" panel: every published version, each restorable into the draft by an editor.
import { api, type Version } from '../../api';
import { h, when } from '../../dom';
import type { DocContext } from '../context';

export interface History {
  element: HTMLElement;
  /** Reloads the list (after a publish). */
  load(): Promise<void>;
}

export function historyPanel({ id, canPublish, notice }: DocContext): History {
  const versions = h('ul', { class: 'versions', 'aria-label': 'Versions' });
  const restore = async (version: number) => {
    try {
      await api(`/api/docs/${id}/versions/${version}/restore`, { method: 'POST' });
      notice.info(`Restored version ${version} into the draft.`);
    } catch (e) { notice.fail(e); }
  };
  const load = async () => {
    try {
      const { versions: list } = await api<{ versions: Version[] }>(`/api/docs/${id}/versions`);
      versions.replaceChildren(...list.map((v) => h('li', {},
        `v${v.version} · ${v.title || 'Untitled'} · ${when(v.published_at)} `,
        !canPublish ? null : h('button', { 'data-version': v.version, onclick: () => restore(v.version) }, 'Restore'))));
      if (!list.length) versions.replaceChildren(h('li', { class: 'muted' }, 'Not published yet.'));
    } catch (e) { notice.fail(e); }
  };
  const element = h('section', { 'aria-labelledby': 'hist-h' }, h('h2', { id: 'hist-h' }, 'History'), versions);
  return { element, load };
}
