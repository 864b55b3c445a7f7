// Folio's editor: sign-in, a dashboard of documents (#/) and the editor of one (#/doc/{id}).
import './style.css';
import { askUser } from './identity';
import { showDashboard } from './dashboard';
import { showEditor } from './editor';
import { currentSession, showSignIn, signOut } from './session';
import { h } from './dom';

let leave: (() => void) | null = null;

async function route() {
  leave?.();
  leave = null;
  const app = document.getElementById('app')!;
  app.replaceChildren();
  const account = document.getElementById('account')!;
  account.replaceChildren();
  let session = await currentSession();
  if (!session) {
    session = await showSignIn(app);
    app.replaceChildren();
  }
  const user = await askUser();
  const who = document.getElementById('whoami')!;
  who.textContent = user.name;
  who.style.setProperty('--user-color', user.color);
  account.replaceChildren(
    h('span', { class: 'muted', id: 'role' }, `${session.user} · ${session.role}`),
    h('button', { id: 'sign-out', onclick: async () => { await signOut(); route(); } }, 'Sign out'),
  );
  const match = /^#\/doc\/([A-Za-z0-9_-]{1,128})$/.exec(location.hash);
  leave = match ? showEditor(app, match[1], user, session) : showDashboard(app, session);
}

window.addEventListener('hashchange', route);
route();
