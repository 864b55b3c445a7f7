// The author's display name and colour: asked once, remembered in localStorage.
import { byId } from './dom';

export interface User { name: string; color: string }
const KEY = 'folio.user';

export function currentUser(): User | null {
  try {
    const u: unknown = JSON.parse(localStorage.getItem(KEY) ?? 'null');
    return isUser(u) ? u : null;
  } catch {
    return null;
  }
}

function isUser(u: unknown): u is User {
  if (typeof u !== 'object' || u === null) return false;
  const { name, color } = u as Record<string, unknown>;
  return typeof name === 'string' && typeof color === 'string';
}

export function askUser(): Promise<User> {
  const known = currentUser();
  if (known) return Promise.resolve(known);
  const dialog = byId('identity', HTMLDialogElement);
  const form = byId('identity-form', HTMLFormElement);
  return new Promise((resolve) => {
    form.addEventListener('submit', () => {
      const data = new FormData(form);
      const user = { name: String(data.get('name')).trim() || 'Anonymous', color: String(data.get('color')) };
      localStorage.setItem(KEY, JSON.stringify(user));
      resolve(user);
    }, { once: true });
    dialog.showModal();
  });
}
