// Who is here: every author with a name in the document's awareness, in a stable order, in
// their colour. Awareness states come from any client, so names and colours are sanitized.
import type { Awareness } from 'y-protocols/awareness';
import { h } from '../dom';
import { type CaretUser, safeColor, safeName } from '../carets';

export function presence(awareness: Awareness): HTMLUListElement {
  const people = h('ul', { class: 'people', 'aria-label': 'Who is here' });
  const me = awareness.clientID;
  const render = () => {
    const here = [...awareness.getStates().entries()]
      .map(([client, state]) => [client, state['user'] as CaretUser | undefined] as const)
      .filter(([, user]) => user?.name)
      .sort(([a], [b]) => a - b);
    people.replaceChildren(...here.map(([client, user]) => h('li', {
      style: `--user-color: ${safeColor(user?.color)}`,
      title: client === me ? 'you' : '',
    }, `${safeName(user?.name)}${client === me ? ' (you)' : ''}`)));
  };
  awareness.on('change', render);
  render();
  return people;
}
