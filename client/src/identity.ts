// The author's display name and colour: asked once, remembered in localStorage.

export interface User { name: string; color: string }
const KEY = 'folio.user';

export function currentUser(): User | null {
  try {
    const u = JSON.parse(localStorage.getItem(KEY) ?? 'null');
    return u && typeof u.name === 'string' && typeof u.color === 'string' ? u : null;
  } catch {
    return null;
  }
}

export function askUser(): Promise<User> {
  const known = currentUser();
  if (known) return Promise.resolve(known);
  const dialog = document.getElementById('identity') as HTMLDialogElement;
  const form = document.getElementById('identity-form') as HTMLFormElement;
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
