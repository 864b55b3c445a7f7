// Folio's editor: sign-in, a dashboard of collections and documents (#/), the editor of one
// document (#/doc/{id}) and the schema editor (#/new-collection, #/collections/{name}).
import './style.css';
import { askUser } from './identity';
import { showDashboard } from './dashboard';
import { showEditor } from './editor';
import { showSchemaEditor } from './schema';
import { currentSession, showSignIn, signOut } from './session';
import { byId, h } from './dom';

let leave: (() => void) | null = null;

async function route() {
  leave?.();
  leave = null;
  const app = byId('app', HTMLElement);
  app.replaceChildren();
  const account = byId('account', HTMLElement);
  account.replaceChildren();
  let session = await currentSession();
  if (!session) {
    session = await showSignIn(app);
    app.replaceChildren();
  }
  const user = await askUser();
  const who = byId('whoami', HTMLElement);
  who.textContent = user.name;
  who.style.setProperty('--user-color', user.color);
  account.replaceChildren(
    h('span', { class: 'muted', id: 'role' }, `${session.user} · ${session.role}`),
    h('button', { id: 'sign-out', onclick: async () => { await signOut(); route(); } }, 'Sign out'),
  );
  const doc = /^#\/doc\/([A-Za-z0-9_-]{1,128})$/.exec(location.hash)?.[1];
  const collection = /^#\/collections\/([a-z][a-z0-9_]{0,63})$/.exec(location.hash)?.[1];
  if (doc) leave = showEditor(app, doc, user, session);
  else if (collection) leave = showSchemaEditor(app, collection);
  else if (location.hash === '#/new-collection') leave = showSchemaEditor(app, null);
  else leave = showDashboard(app, session);
}

window.addEventListener('hashchange', route);
route();
