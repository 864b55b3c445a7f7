// Other authors' carets and selections, drawn from their awareness states — which any client
// can set to anything. TipTap's default caret writes `user.color` into a `style` attribute
// unchecked (CSS injection into every author's page), so Folio renders them itself: the colour
// must be `#rrggbb` (else grey) and is set through the CSSOM, the name is text, cut to 40.

export interface CaretUser { name?: unknown; color?: unknown }

export const FALLBACK_COLOR = '#888888';

/** `color` if it is a plain `#rrggbb` colour, else grey. */
export function safeColor(color: unknown): string {
  return typeof color === 'string' && /^#[0-9a-f]{6}$/i.test(color) ? color : FALLBACK_COLOR;
}

/** A display name: text only, at most 40 characters. */
export function safeName(name: unknown): string {
  const text = typeof name === 'string' ? name.trim() : '';
  return [...(text || 'Anonymous')].slice(0, 40).join('');
}

/** The caret (CollaborationCaret `render`). */
export function renderCaret(user: CaretUser): HTMLElement {
  const color = safeColor(user.color);
  const caret = document.createElement('span');
  caret.classList.add('collaboration-carets__caret');
  caret.style.borderColor = color;
  const label = document.createElement('div');
  label.classList.add('collaboration-carets__label');
  label.style.backgroundColor = color;
  label.textContent = safeName(user.name);
  caret.append(label);
  return caret;
}

/** The selection's decoration attributes (CollaborationCaret `selectionRender`). */
export function renderSelection(user: CaretUser): Record<string, string> {
  return {
    nodeName: 'span',
    class: 'collaboration-carets__selection',
    style: `background-color: ${safeColor(user.color)}70`,
    'data-user': safeName(user.name),
  };
}
