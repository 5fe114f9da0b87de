/**
 * The caller's upload list (`GET /api/upload/`), which is also how the page learns the
 * server's identifier mode: anonymous mode refuses listing, `user` mode needs a token.
 */
import { formatBytes, type UploadStatusResponse } from 'nestjs-frago-client';
import { el, errorMessage, ui } from './dom';
import { API_URL, LIST_LIMIT, isUserMode, setUserMode } from './settings';

/** One entry of `GET /api/upload/`. */
type ListEntry = Omit<UploadStatusResponse, 'chunks' | 'missing'>;

/** What the server said about listing, which is also how the page learns the identifier mode. */
type ListAnswer = { kind: 'ok'; uploads: ListEntry[] } | { kind: 'anonymous' } | { kind: 'unauthorized'; message: string } | { kind: 'error'; message: string };

/** `GET /api/upload/?limit=20` with the current token. */
async function fetchList(): Promise<ListAnswer> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = ui.token.value.trim();
  if (token !== '') headers.Authorization = `Bearer ${token}`;
  let response: Response;
  try {
    response = await fetch(`${API_URL}/upload/?limit=${LIST_LIMIT}`, { headers, cache: 'no-store' });
  } catch (error) {
    return { kind: 'error', message: `Could not reach the server: ${errorMessage(error)}` };
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (response.ok && Array.isArray(body)) return { kind: 'ok', uploads: body as ListEntry[] };
  const fields = (body ?? {}) as { message?: unknown; error?: unknown };
  const message = typeof fields.message === 'string' ? fields.message : typeof fields.error === 'string' ? fields.error : `HTTP ${response.status}`;
  // Anonymous mode refuses listing with 403; `user` mode without (or with a wrong) token answers 401.
  if (response.status === 403 && token === '') return { kind: 'anonymous' };
  if (response.status === 401 || response.status === 403) return { kind: 'unauthorized', message };
  return { kind: 'error', message };
}

function renderList(uploads: ListEntry[]): void {
  const rows = uploads.map((entry) => {
    const tr = el('tr');
    tr.dataset.uploadId = entry.upload_id;
    const name = el('td', 'file-name', entry.filename);
    name.title = entry.filename;
    const size = el('td', 'num', formatBytes(entry.total_size));
    const status = el('td');
    status.append(el('span', `badge badge-${entry.status}`, entry.status.replace('_', ' ')));
    const created = el('td', undefined, new Date(entry.created_at).toLocaleString());
    const id = el('td');
    const code = el('code', undefined, entry.upload_id.slice(0, 8));
    code.title = entry.upload_id;
    id.append(code);
    tr.append(name, size, status, created, id);
    return tr;
  });
  ui.listBody.replaceChildren(...rows);
  ui.listTable.hidden = uploads.length === 0;
  ui.listStatus.textContent = uploads.length === 0 ? 'No uploads yet.' : `${uploads.length} ${uploads.length === 1 ? 'upload' : 'uploads'}, newest first.`;
}

/** Records the mode the server runs in; the token field and the list are for `user` mode only. */
function showMode(user: boolean, text: string): void {
  setUserMode(user);
  ui.tokenField.hidden = !user;
  ui.listSection.hidden = !user;
  ui.mode.textContent = text;
}

/** Reloads the caller's list; on the first call, also decides which mode the page is in. */
export async function refreshList(): Promise<void> {
  const answer = await fetchList();
  switch (answer.kind) {
    case 'anonymous':
      showMode(false, 'Anonymous mode: anyone holding an upload’s id can resume it; the server keeps no per-user list.');
      break;
    case 'ok':
      showMode(true, 'User mode: uploads belong to the user of the bearer token.');
      renderList(answer.uploads);
      break;
    case 'unauthorized':
      showMode(true, 'User mode: enter a bearer token (e.g. one from FRAGO_DEMO_TOKENS) to upload.');
      ui.listTable.hidden = true;
      ui.listStatus.textContent = ui.token.value.trim() === '' ? 'Enter a token to see your uploads.' : `The server refused the token: ${answer.message}`;
      break;
    case 'error':
      ui.listStatus.textContent = `Could not load the list: ${answer.message}`;
      if (!isUserMode()) ui.mode.textContent = `Could not ask the server which mode it runs in: ${answer.message}`;
      break;
  }
}
