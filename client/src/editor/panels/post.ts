// The "Post" panel: slug, excerpt and tags, bound live to the `meta` map; an entry of another
// collection has only its slug here (its fields are in the form).
import type * as Y from 'yjs';
import { h } from '../../dom';
import { bindMeta } from '../bindings';

export function postPanel(meta: Y.Map<unknown>, canEdit: boolean, post = true): HTMLElement {
  const slug = h('input', { id: 'slug', placeholder: post ? 'from the title' : 'from the first text field' });
  bindMeta(slug, meta, 'slug');
  slug.readOnly = !canEdit;
  if (!post) {
    return h('section', { 'aria-labelledby': 'meta-h' }, h('h2', { id: 'meta-h' }, 'Entry'),
      h('label', { for: 'slug' }, 'Slug'), slug);
  }
  const excerpt = h('textarea', { id: 'excerpt', rows: 2 });
  const tags = h('input', { id: 'tags', placeholder: 'news, rust' });
  bindMeta(excerpt, meta, 'excerpt');
  bindMeta(tags, meta, 'tags', true);
  for (const input of [excerpt, tags]) input.readOnly = !canEdit;
  return h('section', { 'aria-labelledby': 'meta-h' }, h('h2', { id: 'meta-h' }, 'Post'),
    h('label', { for: 'slug' }, 'Slug'), slug,
    h('label', { for: 'excerpt' }, 'Excerpt'), excerpt,
    h('label', { for: 'tags' }, 'Tags'), tags);
}
