// Who is in which field: each author's awareness state carries `field` (the name of the field
// they are in, or null), and every field shows the others there, in their colour. Awareness
// comes from any client: names and colours are sanitized, and a `field` that is not one of
// this form's names is ignored.
import type { Awareness } from 'y-protocols/awareness';
import { h } from '../../dom';
import { type CaretUser, safeColor, safeName } from '../../carets';

export function fieldPresence(awareness: Awareness, fields: Map<string, HTMLElement>): () => void {
  const wrappers = [...fields.entries()];
  const onFocus = (name: string) => () => awareness.setLocalStateField('field', name);
  const onBlur = (wrapper: HTMLElement) => (ev: FocusEvent) => {
    if (!(ev.relatedTarget instanceof Node && wrapper.contains(ev.relatedTarget))) awareness.setLocalStateField('field', null);
  };
  const listeners = wrappers.map(([name, wrapper]) => {
    const focus = onFocus(name);
    const blur = onBlur(wrapper);
    wrapper.addEventListener('focusin', focus);
    wrapper.addEventListener('focusout', blur);
    return () => { wrapper.removeEventListener('focusin', focus); wrapper.removeEventListener('focusout', blur); };
  });

  const render = () => {
    const here = new Map<string, CaretUser[]>();
    for (const [client, state] of awareness.getStates()) {
      const field = state['field'];
      if (client === awareness.clientID || typeof field !== 'string' || !fields.has(field)) continue;
      here.set(field, [...(here.get(field) ?? []), (state['user'] ?? {}) as CaretUser]);
    }
    for (const [name, wrapper] of wrappers) {
      const people = wrapper.querySelector('.field-people');
      const users = here.get(name) ?? [];
      people?.replaceChildren(...users.map((u) => h('span', { class: 'person', style: `--user-color: ${safeColor(u.color)}` }, safeName(u.name))));
      wrapper.classList.toggle('shared', users.length > 0);
    }
  };
  awareness.on('change', render);
  render();
  return () => {
    awareness.off('change', render);
    listeners.forEach((off) => off());
  };
}
