// The editor's one message line: what just happened, or what went wrong (announced to screen
// readers). Every panel reports through it.
import { h } from '../dom';

export interface Notice {
  element: HTMLParagraphElement;
  info(text: string): void;
  fail(error: unknown): void;
}

export function notice(): Notice {
  const element = h('p', { class: 'message', role: 'alert', 'aria-live': 'assertive' });
  return {
    element,
    info(text) { element.className = 'message'; element.textContent = text; },
    fail(error) {
      element.className = 'message error';
      element.textContent = error instanceof Error ? error.message : String(error);
    },
  };
}
