// Signing in: the admin key or an invitation is exchanged for an HttpOnly session cookie
// (POST /api/session); the editor then asks for short-lived document tokens for its socket.
import { client, ok, ApiError, type Session, type Token } from './api';
import { h } from './dom';

export type Role = 'viewer' | 'writer' | 'editor' | 'admin';
export type { Session, Token };

const RANK: Record<Role, number> = { viewer: 0, writer: 1, editor: 2, admin: 3 };
/** Whether `session` has at least `role`. */
export const atLeast = (session: Session, role: Role) => RANK[session.role] >= RANK[role];

/** The signed-in session, or null when signed out (or the session expired). */
export async function currentSession(): Promise<Session | null> {
  try {
    return await ok(client.GET('/api/session'));
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function signOut() {
  await ok(client.DELETE('/api/session'));
}

/** A socket token for document `doc` (15 minutes, from the session). */
export function socketToken(doc: string): Promise<Token> {
  return ok(client.POST('/api/tokens', { body: { doc } }));
}

/** The sign-in form; resolves once a session cookie is set. */
export function showSignIn(app: HTMLElement): Promise<Session> {
  return new Promise((resolve) => {
    const secret = h('input', {
      id: 'secret', name: 'secret', type: 'password', required: true, autocomplete: 'current-password',
      'aria-describedby': 'secret-help',
    });
    const message = h('p', { class: 'message error', role: 'alert', 'aria-live': 'assertive' });
    const submit = async (ev: Event) => {
      ev.preventDefault();
      const value = secret.value.trim();
      // Invitations are tokens (v1.…); anything else is taken as the admin key.
      const body = value.startsWith('v1.') ? { invite: value } : { key: value };
      try {
        resolve(await ok(client.POST('/api/session', { body })));
      } catch (e) {
        message.textContent = e instanceof Error ? e.message : String(e);
        secret.select();
      }
    };
    app.append(h('section', { class: 'signin' },
      h('form', { onsubmit: submit, 'aria-labelledby': 'signin-h' },
        h('h1', { id: 'signin-h' }, 'Sign in to Folio'),
        h('label', { for: 'secret' }, 'Admin key or invitation'), secret,
        h('p', { id: 'secret-help', class: 'muted' },
          'Running locally? `make dev` printed the admin key (it is ADMIN_KEY in .dev.vars).'),
        message,
        h('button', { class: 'primary', type: 'submit' }, 'Sign in'))));
    secret.focus();
  });
}
