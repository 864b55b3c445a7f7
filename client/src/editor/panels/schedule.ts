// The "Schedule" panel: publish or unpublish at a set time (run by the document's alarm), and
// the entries waiting, each cancellable.
import { api, ApiError, type Entry } from '../../api';
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
      const { entries: list } = await api<{ entries: Entry[] }>(`/api/docs/${id}/schedule`);
      entries.replaceChildren(...list.map((e) => h('li', {},
        `${e.action} at ${when(e.at)} `,
        h('button', { onclick: () => cancel(e.id) }, 'Cancel'))));
    } catch (e) { notice.fail(e); }
  };
  const cancel = async (entry: number) => {
    try {
      await api(`/api/docs/${id}/schedule/${entry}`, { method: 'DELETE' });
      void load();
    } catch (e) { notice.fail(e); }
  };
  const schedule = async () => {
    if (!at.value) return notice.fail(new ApiError(400, 'at', 'Pick a date and time first.'));
    try {
      const iso = new Date(at.value).toISOString();
      await api(`/api/docs/${id}/schedule`, { method: 'POST', body: JSON.stringify({ action: action.value, at: iso }) });
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
