// Folio's editor: a dashboard of documents (#/) and the editor of one (#/doc/{id}).
import './style.css';
import { askUser } from './identity';
import { showDashboard } from './dashboard';
import { showEditor } from './editor';

let leave: (() => void) | null = null;

async function route() {
  const user = await askUser();
  const who = document.getElementById('whoami')!;
  who.textContent = user.name;
  who.style.setProperty('--user-color', user.color);
  leave?.();
  leave = null;
  const app = document.getElementById('app')!;
  app.replaceChildren();
  const match = /^#\/doc\/([A-Za-z0-9_-]{1,128})$/.exec(location.hash);
  leave = match ? showEditor(app, match[1], user) : showDashboard(app);
}

window.addEventListener('hashchange', route);
route();
