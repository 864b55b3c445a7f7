// The "Publishing" panel: publish and unpublish now, the published state with its public link,
// and a publish or unpublish that failed or is being retried — its reason, Retry and Cancel.
import { client, ok, type Pending, type Published } from '../../api';
import { h, when } from '../../dom';
import type { DocContext } from '../context';

export interface Publishing {
  element: HTMLElement;
  /** Shows the pending intent, if any (the server retries it on its own). */
  loadPending(): Promise<void>;
}

/**
 * `onPublished` runs after a new version may exist (to reload the history); `readerPath` is
 * where readers find a slug (a post's page, an entry's reader API).
 */
export function publishingPanel({ id, notice }: DocContext, onPublished: () => void,
  readerPath: (slug: string) => string = (slug) => `/p/${slug}`): Publishing {
  const state = h('p', { class: 'muted', 'aria-live': 'polite' });
  const link = h('a', { class: 'public-link', target: '_blank', rel: 'noopener' });
  const pending = h('div', { class: 'pending', id: 'pending', role: 'alert' });

  const show = (p: Published) => {
    state.textContent = `${p.status === 'published' ? 'Published' : 'Unpublished'} · version ${p.version} · ${when(p.published_at)}`;
    link.textContent = p.status === 'published' ? readerPath(p.slug) : '';
    link.setAttribute('href', readerPath(p.slug));
  };

  const loadPending = async () => {
    try {
      const { pending: p } = await ok(client.GET('/api/docs/{doc}/publishing', { params: { path: { doc: id } } }));
      if (!p) return pending.replaceChildren();
      pending.replaceChildren(h('p', {}, describe(p)), h('div', { class: 'row' },
        h('button', { id: 'pending-retry', onclick: retry }, 'Retry now'),
        p.state !== 'failed' ? null : h('button', { id: 'pending-cancel', onclick: cancel }, 'Cancel')));
    } catch (e) { notice.fail(e); }
  };
  // Every action ends by showing what is still pending, whether it worked or not.
  const act = (run: () => Promise<void>) => async () => {
    try { await run(); } catch (e) { notice.fail(e); }
    void loadPending();
  };
  const retry = act(async () => {
    show(await ok(client.POST('/api/docs/{doc}/publishing/retry', { params: { path: { doc: id } } })));
    notice.info('Done.');
    onPublished();
  });
  const cancel = act(async () => {
    await ok(client.DELETE('/api/docs/{doc}/publishing', { params: { path: { doc: id } } }));
    notice.info('Cancelled.');
  });
  const publish = act(async () => {
    const p = await ok(client.POST('/api/docs/{doc}/publish', { params: { path: { doc: id } } }));
    show(p);
    notice.info(p.created ? `Published version ${p.version}.` : `Nothing changed since version ${p.version}.`);
    onPublished();
  });
  const unpublish = act(async () => {
    show(await ok(client.POST('/api/docs/{doc}/unpublish', { params: { path: { doc: id } } })));
    notice.info('Unpublished: readers no longer see this post.');
  });

  const element = h('section', { 'aria-labelledby': 'pub-h' }, h('h2', { id: 'pub-h' }, 'Publishing'),
    h('div', { class: 'row' }, h('button', { class: 'primary', onclick: publish }, 'Publish'), h('button', { onclick: unpublish }, 'Unpublish')),
    state, link, pending);
  return { element, loadPending };
}

/** What a pending intent means for the author. */
function describe(p: Pending): string {
  const what = `${p.action === 'publish' ? 'Publishing' : 'Unpublishing'}${p.scheduled_entry ? ' (scheduled)' : ''}`;
  return p.state === 'failed'
    ? `${what} failed: ${p.message}`
    : `${what} is not confirmed yet (attempt ${p.attempts}); retried automatically ${p.next_attempt_at ? when(p.next_attempt_at) : 'soon'}: ${p.message}`;
}
