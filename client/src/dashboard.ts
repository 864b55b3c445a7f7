// The dashboard: every document with its title, status and last edit; create and open.
import { api, type DocSummary } from './api';
import { h, when } from './dom';
import { atLeast, type Session } from './session';

export function showDashboard(app: HTMLElement, session: Session): () => void {
  const message = h('p', { class: 'message', role: 'status', 'aria-live': 'polite' });
  const list = h('ul', { class: 'docs', 'aria-label': 'Documents' });
  const create = h('button', {
    class: 'primary',
    onclick: async () => {
      try {
        const { id } = await api<{ id: string }>('/api/docs', { method: 'POST' });
        location.hash = `#/doc/${id}`;
      } catch (e) {
        message.textContent = e instanceof Error ? e.message : String(e);
      }
    },
  }, 'New document');
  const canCreate = atLeast(session, 'writer') && session.doc === '*';
  app.append(h('section', { class: 'dashboard' }, h('div', { class: 'row' }, h('h1', {}, 'Documents'), canCreate ? create : null), message, list));

  let stopped = false;
  const load = async () => {
    try {
      const { documents } = await api<{ documents: DocSummary[] }>('/api/docs');
      list.replaceChildren(...documents.map((d) => h('li', {},
        h('a', { href: `#/doc/${d.id}`, class: 'doc-title' }, d.title || 'Untitled'),
        h('span', { class: `badge ${d.status}` }, d.status),
        h('span', { class: 'muted' }, `edited ${when(d.updated_at)}`),
        d.publishing ? h('span', { class: `problem ${d.publishing.state}`, role: 'note' },
          `${d.publishing.action} ${d.publishing.state}: ${d.publishing.message}`) : null,
      )));
      if (!documents.length) list.replaceChildren(h('li', { class: 'muted' }, 'No documents yet.'));
    } catch (e) {
      message.textContent = e instanceof Error ? e.message : String(e);
    }
    if (!stopped) timer = window.setTimeout(load, 5000);
  };
  let timer = 0;
  load();
  return () => { stopped = true; clearTimeout(timer); };
}
