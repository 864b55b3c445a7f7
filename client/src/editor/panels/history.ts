// The "History" panel: every published version, each restorable into the draft by an editor.
import { client, ok } from '../../api';
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
      await ok(client.POST('/api/docs/{doc}/versions/{version}/restore', { params: { path: { doc: id, version } } }));
      notice.info(`Restored version ${version} into the draft.`);
    } catch (e) { notice.fail(e); }
  };
  const load = async () => {
    try {
      const { versions: list } = await ok(client.GET('/api/docs/{doc}/versions', { params: { path: { doc: id } } }));
      versions.replaceChildren(...list.map((v) => h('li', {},
        `v${v.version} · ${v.title || 'Untitled'} · ${when(v.published_at)} `,
        !canPublish ? null : h('button', { 'data-version': v.version, onclick: () => restore(v.version) }, 'Restore'))));
      if (!list.length) versions.replaceChildren(h('li', { class: 'muted' }, 'Not published yet.'));
    } catch (e) { notice.fail(e); }
  };
  const element = h('section', { 'aria-labelledby': 'hist-h' }, h('h2', { id: 'hist-h' }, 'History'), versions);
  return { element, load };
}
