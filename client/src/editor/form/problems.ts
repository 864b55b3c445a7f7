// What publishing would refuse, shown under each field while the authors type: the server's own
// check (`problems` of GET /api/docs/{id}, the same messages as a 422 on publish), asked again
// once the document has been quiet for a moment after any edit, local or remote.
import type * as Y from 'yjs';
import { client, shaped, type Draft } from '../../api';
import { h } from '../../dom';

/** Wait this long after the last edit before asking (typing is not interrupted by requests). */
const QUIET_MS = 400;
/** ... but never longer than this while edits keep coming. */
const MAX_WAIT_MS = 2_000;

export interface Problems {
  /** "2 fields to fix before publishing" (or that the entry is ready). */
  summary: HTMLElement;
  stop(): void;
}

export function liveProblems(id: string, ydoc: Y.Doc, fields: Map<string, HTMLElement>): Problems {
  const summary = h('p', { class: 'problems-summary', role: 'status', 'aria-live': 'polite' });
  let timer = 0;
  let first = 0;
  let stopped = false;
  let asking: Promise<void> | null = null;
  let again = false;

  const show = (draft: Draft) => {
    const byName = new Map(draft.problems.map((p) => [p.name, p.message]));
    for (const [name, wrapper] of fields) {
      const message = byName.get(name) ?? '';
      const line = wrapper.querySelector('.field-problem');
      if (line) line.textContent = message;
      wrapper.classList.toggle('invalid', Boolean(message));
      for (const input of wrapper.querySelectorAll('input, textarea, select, [role=textbox]')) {
        if (message) {
          input.setAttribute('aria-invalid', 'true');
          input.setAttribute('aria-describedby', `problem-${name}`);
        } else input.removeAttribute('aria-invalid');
      }
    }
    const n = draft.problems.length;
    summary.textContent = n ? `${n} field${n === 1 ? '' : 's'} to fix before publishing` : 'Ready to publish';
    summary.classList.toggle('ok', n === 0);
  };

  const ask = async () => {
    // One request at a time; an edit during it asks once more after.
    if (asking) { again = true; return; }
    first = 0;
    asking = shaped<Draft>(client.GET('/api/docs/{doc}', { params: { path: { doc: id } } })).then(show, () => { /* a draft not written yet, or offline: keep what is shown */ });
    await asking;
    asking = null;
    if (again && !stopped) { again = false; void ask(); }
  };
  const edited = () => {
    if (stopped) return;
    clearTimeout(timer);
    const now = Date.now();
    if (!first) first = now;
    timer = window.setTimeout(() => void ask(), Math.max(0, Math.min(QUIET_MS, first + MAX_WAIT_MS - now)));
  };
  ydoc.on('update', edited);
  void ask();
  return {
    summary,
    stop() { stopped = true; clearTimeout(timer); ydoc.off('update', edited); },
  };
}
