// The "Schedule" panel: publish or unpublish at a set time (run by the document's alarm), and
// the entries waiting, each cancellable.
import { client, ok, ApiError } from '../../api';
import { h, when } from '../../dom';
import type { DocContext } from '../context';

export interface Schedule {
  element: HTMLElement;
  load(): Promise<void>;
}

export function schedulePanel({ id, notice }: DocContext): Schedule {
  const at = h('input', { type: 'datetime-local', id: 'schedule-at', step: 1 });
  const action = h('select', { id: 'schedule-action' },
    h('option', { value: 'publish' }, 'Publish'), h('option', { value: 'unpublish' }, 'Unpublish'));
  const entries = h('ul', { class: 'entries', 'aria-label': 'Scheduled' });

  const load = async () => {
    try {
      const { entries: list } = await ok(client.GET('/api/docs/{doc}/schedule', { params: { path: { doc: id } } }));
      entries.replaceChildren(...list.map((e) => h('li', {},
        `${e.action} at ${when(e.at)} `,
        h('button', { onclick: () => cancel(e.id) }, 'Cancel'))));
    } catch (e) { notice.fail(e); }
  };
  const cancel = async (entry: number) => {
    try {
      await ok(client.DELETE('/api/docs/{doc}/schedule/{entry}', { params: { path: { doc: id, entry } } }));
      void load();
    } catch (e) { notice.fail(e); }
  };
  const schedule = async () => {
    if (!at.value) return notice.fail(new ApiError(400, 'at', 'Pick a date and time first.'));
    try {
      const iso = new Date(at.value).toISOString();
      await ok(client.POST('/api/docs/{doc}/schedule', {
        params: { path: { doc: id } }, body: { action: action.value === 'unpublish' ? 'unpublish' : 'publish', at: iso },
      }));
      notice.info(`Scheduled: ${action.value} at ${when(iso)}.`);
      void load();
    } catch (e) { notice.fail(e); }
  };

  const element = h('section', { 'aria-labelledby': 'sched-h' }, h('h2', { id: 'sched-h' }, 'Schedule'),
    h('label', { for: 'schedule-at' }, 'When'), at,
    h('label', { for: 'schedule-action' }, 'Action'), action,
    h('button', { onclick: schedule }, 'Schedule'), entries);
  return { element, load };
}
