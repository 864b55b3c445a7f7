// The "Post" panel: slug, excerpt and tags, bound live to the `meta` map.
import type * as Y from 'yjs';
import { h } from '../../dom';
import { bindMeta } from '../bindings';

export function postPanel(meta: Y.Map<unknown>, canEdit: boolean): HTMLElement {
  const slug = h('input', { id: 'slug', placeholder: 'from the title' });
  const excerpt = h('textarea', { id: 'excerpt', rows: 2 });
  const tags = h('input', { id: 'tags', placeholder: 'news, rust' });
  bindMeta(slug, meta, 'slug');
  bindMeta(excerpt, meta, 'excerpt');
  bindMeta(tags, meta, 'tags', true);
  for (const input of [slug, excerpt, tags]) input.readOnly = !canEdit;
  return h('section', { 'aria-labelledby': 'meta-h' }, h('h2', { id: 'meta-h' }, 'Post'),
    h('label', { for: 'slug' }, 'Slug'), slug,
    h('label', { for: 'excerpt' }, 'Excerpt'), excerpt,
    h('label', { for: 'tags' }, 'Tags'), tags);
}
