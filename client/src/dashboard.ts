// The dashboard: the collections (a new entry in each; an admin defines and changes them) and
// every document with its title, collection, status and last edit, filtered by collection.
import { client, ok, shaped, type CollectionDef } from './api';
import { h, when } from './dom';
import { atLeast, type Session } from './session';

export function showDashboard(app: HTMLElement, session: Session): () => void {
  const message = h('p', { class: 'message', role: 'status', 'aria-live': 'polite' });
  const fail = (e: unknown) => { message.textContent = e instanceof Error ? e.message : String(e); };
  const list = h('ul', { class: 'docs', 'aria-label': 'Documents' });
  const canCreate = atLeast(session, 'writer') && session.doc === '*';
  const isAdmin = atLeast(session, 'admin') && session.doc === '*';

  const create = async (collection?: string) => {
    try {
      const { id } = await ok(client.POST('/api/docs', { body: collection ? { collection } : {} }));
      location.hash = `#/doc/${id}`;
    } catch (e) { fail(e); }
  };
  const filter = h('select', { id: 'collection-filter', onchange: () => void load() }, h('option', { value: '' }, 'All collections'));
  const collections = h('ul', { class: 'collections', 'aria-label': 'Collections' });
  const showCollections = (defs: CollectionDef[]) => {
    collections.replaceChildren(...defs.map((c) => h('li', { 'data-collection': c.name },
      h('span', { class: 'collection-label' }, c.label),
      h('span', { class: 'muted' }, `${c.name} · ${c.fields.length} field${c.fields.length === 1 ? '' : 's'} · v${c.version}`),
      canCreate ? h('button', { 'aria-label': `New entry in ${c.label}`, onclick: () => create(c.built_in ? undefined : c.name) }, 'New entry') : null,
      isAdmin && !c.built_in ? h('a', { href: `#/collections/${c.name}`, 'aria-label': `Edit the ${c.label} schema` }, 'Edit schema') : null)));
    const chosen = filter.value;
    filter.replaceChildren(h('option', { value: '' }, 'All collections'), ...defs.map((c) => h('option', { value: c.name }, c.label)));
    filter.value = chosen;
  };

  app.append(h('section', { class: 'dashboard' },
    h('div', { class: 'row' }, h('h1', {}, 'Collections'),
      isAdmin ? h('a', { class: 'button', href: '#/new-collection' }, 'New collection') : null),
    collections,
    h('div', { class: 'row' }, h('h1', {}, 'Documents'),
      h('label', { class: 'inline' }, 'Show ', filter),
      canCreate ? h('button', { class: 'primary', onclick: () => create() }, 'New document') : null),
    message, list));

  let stopped = false;
  let timer = 0;
  const load = async () => {
    clearTimeout(timer);
    try {
      const [{ collections: defs }, { documents }] = await Promise.all([
        shaped<{ collections: CollectionDef[] }>(client.GET('/api/collections')),
        ok(client.GET('/api/docs', { params: { query: filter.value ? { collection: filter.value } : {} } })),
      ]);
      showCollections(defs);
      const labels = new Map(defs.map((c) => [c.name, c.label]));
      list.replaceChildren(...documents.map((d) => h('li', {},
        h('a', { href: `#/doc/${d.id}`, class: 'doc-title' }, d.title || 'Untitled'),
        d.collection && d.collection !== 'posts' ? h('span', { class: 'badge kind' }, labels.get(d.collection) ?? d.collection) : null,
        h('span', { class: `badge ${d.status}` }, d.status),
        h('span', { class: 'muted' }, `edited ${when(d.updated_at)}`),
        d.publishing ? h('span', { class: `problem ${d.publishing.state}`, role: 'note' },
          `${d.publishing.action} ${d.publishing.state}: ${d.publishing.message}`) : null,
      )));
      if (!documents.length) list.replaceChildren(h('li', { class: 'muted' }, 'No documents yet.'));
    } catch (e) { fail(e); }
    if (!stopped) timer = window.setTimeout(load, 5000);
  };
  void load();
  return () => { stopped = true; clearTimeout(timer); };
}
